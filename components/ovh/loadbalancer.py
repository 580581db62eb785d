"""The public load balancer: OVHcloud's Octavia, a floating IP, listeners, pools, members.

TLS (tls: certificate) is terminated on the load balancer with a certificate the operator
stored in OVHcloud's key manager (Barbican) under `certificateName`: OVHcloud has no managed
Let's Encrypt on its load balancer, and terminating there keeps one certificate for every
node instead of one certbot per node fighting over HTTP-01 challenges. The listener on port
80 only redirects to HTTPS (an L7 REDIRECT_PREFIX policy). With tls: off it serves plain
HTTP. (tls: node never reaches here: settings allow it only on a single node, which has no
load balancer.) Every listener is layer 7 and tells Nginx the client's address and scheme
(X-Forwarded-For, X-Forwarded-Proto), which the rendered Nginx trusts from the subnet.

Flavors and their limits: pyscale/clouds/ovh/catalog.py (LB_FLAVORS); the capacity plan picks
the flavor, the provider spells it in capitals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_ovh as ovh

from components.ovh.network import Network
from pyscale import render
from pyscale.capacity import CapacityPlan
from pyscale.rollout import LB_HEALTH
from pyscale.settings import Settings

HTTP_PORT, HTTPS_PORT = render.NODE.http_port, render.NODE.https_port

# Least connections: requests are long-lived at this concurrency, so a node's open
# connections say more about its load than a round-robin turn does.
ALGORITHM = "LEAST_CONNECTIONS"
REDIRECT_HTTP_CODE = 301


@dataclass(frozen=True)
class PoolSpec:
    """A pool: the protocol to the members and the node port it targets."""

    key: str
    protocol: str
    member_port: int


@dataclass(frozen=True)
class ListenerSpec:
    """A listener: protocol and port; `pool` is None for the HTTP -> HTTPS redirect."""

    key: str
    protocol: str
    port: int
    pool: str | None


WEB = PoolSpec("web", "HTTP", HTTP_PORT)
LAYOUTS: dict[str, tuple[tuple[PoolSpec, ...], tuple[ListenerSpec, ...]]] = {
    "certificate": (
        (WEB,),
        (
            ListenerSpec("https", "TERMINATED_HTTPS", HTTPS_PORT, WEB.key),
            ListenerSpec("http", "HTTP", HTTP_PORT, None),
        ),
    ),
    "off": ((WEB,), (ListenerSpec("http", "HTTP", HTTP_PORT, WEB.key),)),
}


def layout(tls: str) -> tuple[tuple[PoolSpec, ...], tuple[ListenerSpec, ...]]:
    """Pools and listeners for a TLS mode. Settings refuse 'managed' on OVHcloud and 'node'
    with a load balancer (the nodes' certbot would race through it)."""
    return LAYOUTS[tls]


def _container_ref(containers: Sequence[Mapping[str, Any]], name: str, region: str) -> str:
    """The key-manager reference of the CERTIFICATE container called `name` in `region`."""
    for container in containers:
        located = (container.get("location") or {}).get("region") in (None, region)
        if container["name"] == name and container["type"] == "CERTIFICATE" and located:
            return container["current_state"]["container_ref"]
    raise ValueError(
        f"pyscale:certificateName = {name!r}: no CERTIFICATE container of that name in the "
        f"key manager of region {region}; upload the certificate first (OVHcloud guide "
        "'Secure a Load Balancer with an external certificate')"
    )


@dataclass(frozen=True)
class LoadBalancerArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network


@pulumi.type_token("pyscale:ovh:LoadBalancer")
class LoadBalancer(pulumi.ComponentResource):
    """Floating IP + Octavia load balancer; `ip` is the public address."""

    ip: pulumi.Output[str]

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        child = pulumi.ResourceOptions(parent=self)
        service_name = settings.ovh_service_name
        floating_ip = ovh.CloudFloatingIp(
            f"{name}-ip",
            service_name=service_name,
            region=settings.region,
            description=f"{settings.resource_prefix} load balancer",
            opts=child,
        )
        address = floating_ip.current_state.apply(lambda state: state["ip"])
        balancer = ovh.CloudLoadbalancer(
            f"{name}-lb",
            service_name=service_name,
            region=settings.region,
            name=f"{settings.resource_prefix}-lb",
            flavor_name=plan.load_balancer.size.upper(),
            # A floating IP outside the subnet becomes the VIP's public address; OVHcloud
            # needs the subnet behind a gateway for that, hence the dependency.
            network=ovh.CloudLoadbalancerNetworkArgs(
                id=network.network_id, subnet_id=network.subnet_id, ip=address
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[network.gateway]),
        )
        pool_specs, listener_specs = layout(settings.tls)
        pools = {spec.key: self._pool(name, settings, plan, balancer, spec) for spec in pool_specs}
        self._name, self._settings, self._network = name, settings, network
        self._balancer, self._pools, self._pool_specs = balancer, pools, pool_specs
        tls_ref = None
        if settings.tls == "certificate":
            containers = ovh.get_cloud_key_manager_containers_output(
                service_name=service_name, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            tls_ref = containers.apply(
                lambda r: _container_ref(r.containers, settings.certificate_name, settings.region)
            )
        # A request may run up to Gunicorn's worker timeout: the load balancer must not
        # cut it sooner (Octavia's defaults are 50 s).
        timeout_ms = plan.gunicorn.timeout_s * 1000
        for spec in listener_specs:
            listener = ovh.CloudLoadbalancerListener(
                f"{name}-{spec.key}",
                service_name=service_name,
                loadbalancer_id=balancer.id,
                name=f"{settings.resource_prefix}-{spec.key}",
                protocol=spec.protocol,
                protocol_port=spec.port,
                default_pool_id=pools[spec.pool].id if spec.pool else None,
                default_tls_container_ref=tls_ref if spec.protocol == "TERMINATED_HTTPS" else None,
                tls_versions=["TLSv1.2", "TLSv1.3"]
                if spec.protocol == "TERMINATED_HTTPS"
                else None,
                insert_headers=ovh.CloudLoadbalancerListenerInsertHeadersArgs(
                    x_forwarded_for=True, x_forwarded_proto=True
                ),
                timeout_client_data=timeout_ms,
                timeout_member_data=timeout_ms,
                opts=child,
            )
            if spec.pool is None:
                ovh.CloudLoadbalancerL7policy(
                    f"{name}-{spec.key}-redirect",
                    service_name=service_name,
                    loadbalancer_id=balancer.id,
                    listener_id=listener.id,
                    name=f"{settings.resource_prefix}-https-redirect",
                    action="REDIRECT_PREFIX",
                    redirect_prefix=address.apply(lambda ip: f"https://{settings.domain or ip}"),
                    redirect_http_code=REDIRECT_HTTP_CODE,
                    # Every path starts with "/": the policy applies to every request.
                    rules=[
                        ovh.CloudLoadbalancerL7policyRuleArgs(
                            type="PATH", compare_type="STARTS_WITH", value="/"
                        )
                    ],
                    opts=child,
                )
        self.ip = address
        self.register_outputs({"ip": address})

    def add_node(
        self, index: int, address: pulumi.Input[str]
    ) -> list[pulumi.Output[dict[str, str]]]:
        """Put node `index` (1-based) into every pool; the members' ids, for its gate.

        Members are created node by node, from the Nodes part, so that a node's health gate
        can wait for them; they stay this part's children (same URNs as before)."""
        ids = []
        for spec in self._pool_specs:
            member = ovh.CloudLoadbalancerPoolMember(
                f"{self._name}-{spec.key}-member-{index}",
                service_name=self._settings.ovh_service_name,
                loadbalancer_id=self._balancer.id,
                pool_id=self._pools[spec.key].id,
                name=f"{self._settings.resource_prefix}-node-{index}",
                address=address,
                protocol_port=spec.member_port,
                subnet_id=self._network.subnet_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            ids.append(
                pulumi.Output.all(self._pools[spec.key].id, member.id).apply(
                    lambda a: {"pool_id": a[0], "id": a[1]}
                )
            )
        return ids

    def _pool(
        self,
        name: str,
        settings: Settings,
        plan: CapacityPlan,
        balancer: ovh.CloudLoadbalancer,
        spec: PoolSpec,
    ) -> ovh.CloudLoadbalancerPool:
        return ovh.CloudLoadbalancerPool(
            f"{name}-{spec.key}-pool",
            service_name=settings.ovh_service_name,
            loadbalancer_id=balancer.id,
            name=f"{settings.resource_prefix}-{spec.key}",
            protocol=spec.protocol,
            algorithm=ALGORITHM,
            # Traffic reaches a node only once Nginx answers /healthz (node replacement is
            # create-before-destroy: the new node waits here until it is ready).
            health_monitor=ovh.CloudLoadbalancerPoolHealthMonitorArgs(
                type="HTTP",
                http_method="GET",
                url_path=plan.load_balancer.health_check_path,
                expected_codes="200",
                # The same timing as on DigitalOcean, which the rollout's drain waits out
                # (pyscale/rollout/plan.py LB_HEALTH): every 10 s, 5 s timeout, 3 strikes.
                delay=LB_HEALTH.interval_s,
                timeout=LB_HEALTH.timeout_s,
                max_retries=LB_HEALTH.healthy_threshold,
                max_retries_down=LB_HEALTH.unhealthy_threshold,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
