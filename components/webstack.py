"""The contract every cloud's WebStack keeps: what it is built from, what it registers as
its own properties (the policy pack reads them), and the outputs it publishes.

Keeping it in one place is what lets a user switch clouds by changing `pyscale:cloud`: both
components take the same arguments and export the same names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.kubernetes.workloads import Workloads, WorkloadsArgs
from pyscale import clouds, monitoring, render
from pyscale.capacity import CapacityPlan
from pyscale.clouds.base import Estimate
from pyscale.settings import Settings


@dataclass(frozen=True)
class Exports:
    """What the program decided and exported: the offline engine and the tests read it."""

    settings: Settings
    plan: CapacityPlan
    values: dict[str, Any]


@dataclass(frozen=True)
class WebStackArgs:
    settings: Settings
    plan: CapacityPlan
    # Secret Slack webhook for alerts (pyscale:alertSlackUrl); alerts.slackChannel names it.
    # DigitalOcean's alerts and the monitoring node's Alertmanager post there.
    alert_slack_url: pulumi.Input[str] | None = None
    # The monitoring node's relay password (pyscale:alertSmtpPassword).
    alert_smtp_password: pulumi.Input[str] | None = None
    # The read-only token the monitoring node lists the nodes with, on a cloud whose provider
    # cannot make one (Cloud.monitor_secret: pyscale:monitoringToken on DigitalOcean).
    monitoring_token: pulumi.Input[str] | None = None


def public_url(settings: Settings, address: pulumi.Input[str]) -> pulumi.Output[str]:
    """The domain when there is one, else the public address; https unless tls is off."""
    scheme = "http" if settings.tls == "off" else "https"
    return pulumi.Output.concat(scheme, "://", settings.domain or address)


def node_user_data(
    settings: Settings,
    plan: CapacityPlan,
    primary_uri: pulumi.Input[str],
    read_uris: pulumi.Input[list[str]],
    cache_uri: pulumi.Input[str],
    cas: Sequence[pulumi.Input[str]],
) -> pulumi.Output[str]:
    """The `#cloud-config` every node boots from, rendered once the URIs and the data stores'
    CA certificates (`cas`, PEM; the nodes verify the servers against them) are known. It
    holds the URIs, so it is a secret; render.node refuses one over the cloud's limit."""

    def user_data(values: list) -> str:
        url, read_urls, redis, *pems = values
        bundle = "".join(dict.fromkeys(pem.strip() + "\n" for pem in pems))
        secrets = render.NodeSecrets(url, tuple(read_urls), redis, provider_ca=bundle)
        return render.node(plan, settings, secrets).user_data

    values = pulumi.Output.all(primary_uri, read_uris, cache_uri, *cas)
    return pulumi.Output.secret(values.apply(user_data))


def monitor_user_data(
    args: WebStackArgs,
    discovery: pulumi.Input[dict[str, str]],
    stores: Sequence[pulumi.Input[monitoring.StoreTargets]],
    cas: Sequence[pulumi.Input[str]],
    url: pulumi.Input[str],
) -> pulumi.Output[str]:
    """The monitoring node's `#cloud-config`, rendered once the cloud login its discovery
    reads with (`discovery`), the data stores' metrics endpoints and logins (`stores`), their
    CA certificates and the stack's public `url` (probed) are known. It holds all of them: a
    secret."""
    settings, plan = args.settings, args.plan

    def user_data(values: list) -> str:
        login, slack, smtp, targets, pems, public_url = values
        secrets = monitoring.MonitorSecrets(
            discovery=login,
            stores=tuple(targets),
            slack_url=slack,
            smtp_password=smtp,
            provider_ca="".join(dict.fromkeys(pem.strip() + "\n" for pem in pems)),
            public_url=public_url,
        )
        return monitoring.monitor_node(plan, settings, secrets).user_data

    values = pulumi.Output.all(
        discovery,
        args.alert_slack_url,
        args.alert_smtp_password,
        pulumi.Output.all(*stores),
        pulumi.Output.all(*cas),
        url,
    )
    return pulumi.Output.secret(values.apply(user_data))


def secret_login(
    username: pulumi.Input[str], password: pulumi.Input[str]
) -> pulumi.Output[dict[str, str]]:
    """A login the cloud made (`username`, `password`), as one secret the monitoring node's
    files are rendered from."""
    return pulumi.Output.secret(
        pulumi.Output.all(username, password).apply(lambda a: {"username": a[0], "password": a[1]})
    )


def grafana_url(address: pulumi.Input[str]) -> pulumi.Output[str]:
    """Where the admin networks open the dashboards."""
    return pulumi.Output.concat("https://", address, f":{monitoring.node.GRAFANA_PORT}")


class WebStack(pulumi.ComponentResource):
    """Base of `pyscale:<cloud>:WebStack`; each cloud builds its parts, then `publish`es.

    A cloud's subclass carries its type token (`@pulumi.type_token("pyscale:<cloud>:WebStack")`),
    which names the cloud too: the settings must be for that cloud.
    """

    url: pulumi.Output[str]
    load_balancer_ip: pulumi.Output[str]
    node_ips: pulumi.Output[list[str]]
    database_primary_uri: pulumi.Output[str]
    database_read_uris: pulumi.Output[list[str]]
    cache_uri: pulumi.Output[str]
    monitoring_url: pulumi.Output[str]

    def __init__(self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None) -> None:
        settings, plan = args.settings, args.plan
        token = pulumi.get_type_token(type(self))
        cloud = token.split(":")[1]
        if settings.cloud != cloud:
            raise ValueError(f"pyscale:cloud = {settings.cloud!r}: this WebStack is {cloud}'s")
        self.settings, self.plan = settings, plan
        os = settings.node_os
        if not os.rehearsable:
            pulumi.log.warn(
                f"pyscale:nodeImage = {os.key!r}: {os.title} cannot be rehearsed on a "
                "development machine (`pyscale node boot` builds Debian images only), so its "
                "nodes boot files no boot test has run; prefer debian-13"
            )
        props: dict[str, Any] = {
            "cloud": cloud,
            "environment": settings.environment,
            "nodeCount": plan.nodes,  # a pool's maximum: what every budget was checked at
            "nodeSize": settings.node_size.name,
        }
        if plan.autoscale is not None:
            props["autoscale"] = {"minNodes": plan.min_nodes, "maxNodes": plan.nodes}
        super().__init__(token, name, props, opts)

    def workloads(
        self, name: str, args: WebStackArgs, kubeconfig: pulumi.Input[str], stores: Any
    ) -> Workloads:
        """platform: kubernetes: the app in the cluster `kubeconfig` reaches, given the
        (database, cache) pair's URIs and CAs; the gateway's load balancer is sized by the
        cloud's annotations from the plan."""
        settings, plan = args.settings, args.plan
        database, cache = stores
        return Workloads(
            f"{name}-app",
            WorkloadsArgs(
                settings,
                plan,
                kubeconfig,
                database.primary_uri,
                database.read_uris,
                cache.uri,
                cas=[database.ca, cache.ca],
                service_annotations=clouds.get(settings.cloud).gateway_annotations(settings, plan),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def publish_cluster(self, url: pulumi.Output[str], workloads: Workloads, stores: Any) -> None:
        """`publish` for platform: kubernetes: the entry is the gateway's load balancer, the
        nodes are the pool's (no address of their own is served), no monitoring node."""
        database, cache = stores
        self.publish(
            url=url,
            entry_ip=workloads.address,
            node_ips=pulumi.Output.from_input([]),
            primary_uri=database.primary_uri,
            read_uris=database.read_uris,
            cache_uri=cache.uri,
            monitoring_url=None,
        )

    def publish(
        self,
        *,
        url: pulumi.Output[str],
        entry_ip: pulumi.Input[str],
        node_ips: pulumi.Output[list[str]],
        primary_uri: pulumi.Output[str],
        read_uris: pulumi.Output[list[str]],
        cache_uri: pulumi.Output[str],
        monitoring_url: pulumi.Output[str] | None,
    ) -> None:
        """Set and register the shared outputs; the connection strings are made secret here,
        whatever the cloud passed. Reads go to the replicas, else to the primary, as the app
        does when the node's DATABASE_READ_URLS is empty."""
        self.url = url
        self.load_balancer_ip = pulumi.Output.from_input(entry_ip)
        self.node_ips = node_ips
        self.database_primary_uri = pulumi.Output.secret(primary_uri)
        self.database_read_uris = pulumi.Output.secret(
            pulumi.Output.all(read_uris, primary_uri).apply(lambda a: a[0] or [a[1]])
        )
        self.cache_uri = pulumi.Output.secret(cache_uri)
        # Grafana on the monitoring node; empty without one.
        self.monitoring_url = monitoring_url or pulumi.Output.from_input("")
        self.register_outputs(self._outputs())

    def _outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The shared outputs, by the names every cloud registers and exports them under."""
        return {
            "url": self.url,
            "load_balancer_ip": self.load_balancer_ip,
            "node_ips": self.node_ips,
            "database_primary_uri": self.database_primary_uri,
            "database_read_uris": self.database_read_uris,
            "cache_uri": self.cache_uri,
            "monitoring_url": self.monitoring_url,
        }

    def export(self, estimate: Estimate) -> Exports:
        """Export the shared outputs and the plan's numbers as the stack's outputs."""
        values: dict[str, Any] = self._outputs() | {
            "capacity": self.plan.to_dict(),
            "monthly_cost_estimate": estimate.to_dict(),
        }
        for name, value in values.items():
            pulumi.export(name, value)
        return Exports(self.settings, self.plan, values)
