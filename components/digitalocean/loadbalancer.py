"""The load balancer in front of the nodes (the WebStack leaves it out in the single-node
topology).

Size: `plan.load_balancer.size_unit`; each unit holds 10,000 simultaneous connections,
10,000 requests/s and 250 new TLS connections/s (LB_UNIT in pyscale/clouds/digitalocean/
catalog.py). The API's schema caps `size_unit` at 100 (openapi load_balancer_base.yml), the
scaling guide allows up to 200 only where support raised the account's limits, and the
provider accepts 1 to 200; the capacity plan refuses more than 100 (LB_MAX_UNITS). It
targets the web tag (droplet ids are limited to 10) and lives in the stack's VPC, so it
reaches Nginx on port 80 over the private network.

TLS ends here (tls: managed or certificate): HTTPS 443 -> HTTP 80, and HTTP 80 redirected to
HTTPS. The client's address travels in X-Forwarded-For, which Nginx trusts only from the VPC
CIDR (cloud-init/files/etc/nginx/conf.d/pyscale.conf.j2, "Real client address"); PROXY
protocol stays off because Nginx does not expect it. (tls: node has no load balancer:
settings refuse it with more than one node.)

A certificate cannot be deleted while a load balancer uses it, so a changed certificate
must be a new one beside the old: its name carries a digest of its domains, a new domain
list makes a new certificate, created before the old one is deleted (Pulumi's default
replacement order; never delete_before_replace), and the forwarding rule moves to it by name
(`certificate_name`; `certificate_id` is deprecated). Let's Encrypt issuance needs the
domain's DNS hosted on DigitalOcean.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import moved
from components.digitalocean.network import Network
from pyscale import render
from pyscale.capacity import CapacityPlan
from pyscale.rollout import LB_HEALTH
from pyscale.settings import Settings

# DigitalOcean's default idle timeout (openapi load_balancer_base.yml: 60, within 30..600);
# it must stay below Nginx's client keepalive_timeout
# (render.NodeDefaults.client_keepalive_timeout_s) so the balancer closes idle
# connections first and never sends a request onto a socket Nginx is closing.
HTTP_IDLE_TIMEOUT_S = 60


@dataclass(frozen=True)
class HealthCheck:
    """Every field set, because the defaults differ by where they are read: the API's are
    unhealthy 5 / healthy 3 (openapi health_check.yml), the provider's unhealthy 3 /
    healthy 5 (terraform-provider-digitalocean resource_loadbalancer.go), and the provider's
    are what an unset field gets (interval 10 s and timeout 5 s are the same in both).
    The timing is the rollout's (pyscale/rollout/plan.py LB_HEALTH), whose drain waits out
    the unhealthy threshold: three failures (30 s) take a dying node out; three passes
    (30 s) put a replacement node into service."""

    protocol: str = "http"
    port: int = render.NODE.http_port
    check_interval_seconds: int = LB_HEALTH.interval_s
    response_timeout_seconds: int = LB_HEALTH.timeout_s
    unhealthy_threshold: int = LB_HEALTH.unhealthy_threshold
    healthy_threshold: int = LB_HEALTH.healthy_threshold


HEALTH_CHECK = HealthCheck()


@dataclass(frozen=True)
class LoadBalancerArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network


def certificate_name(name: str, domains: list[str]) -> str:
    """Stable while the domains stay the same, new when they change."""
    digest = hashlib.sha256(",".join(sorted(domains)).encode()).hexdigest()[:8]
    return f"{name}-le-{digest}"


def forwarding_rules(
    settings: Settings, certificate: pulumi.Input[str] | None
) -> list[do.LoadBalancerForwardingRuleArgs]:
    http = render.NODE.http_port
    https = render.NODE.https_port
    plain = do.LoadBalancerForwardingRuleArgs(
        entry_protocol="http", entry_port=http, target_protocol="http", target_port=http
    )
    if settings.tls == "off":
        return [plain]
    terminated = do.LoadBalancerForwardingRuleArgs(
        entry_protocol="https",
        entry_port=https,
        target_protocol="http",
        target_port=http,
        certificate_name=certificate,
    )
    return [terminated, plain]


@pulumi.type_token("pyscale:digitalocean:LoadBalancer")
class LoadBalancer(pulumi.ComponentResource):
    """The load balancer in front of the web tag, with its Let's Encrypt certificate under
    tls: managed; children are named after the stack (settings.resource_prefix), as they
    were before this part existed."""

    ip: pulumi.Output[str]
    load_balancer_id: pulumi.Output[str]  # what the nodes' firewall admits web traffic from
    load_balancer_urn: pulumi.Output[str]  # DigitalOcean's own URN, for the Project

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        certificate_ref: pulumi.Input[str] | None = None
        if settings.tls == "managed":
            domains = [settings.domain]
            certificate = do.Certificate(
                f"{prefix}-certificate",
                name=certificate_name(prefix, domains),
                type="lets_encrypt",
                domains=domains,
                opts=child,
            )
            certificate_ref = certificate.name
        elif settings.tls == "certificate":
            certificate_ref = settings.certificate_name
        balancer = do.LoadBalancer(
            f"{prefix}-lb",
            name=f"{prefix}-lb",
            region=settings.region,
            vpc_uuid=network.vpc_id,
            droplet_tag=network.tags.web,
            size_unit=plan.load_balancer.size_unit,
            forwarding_rules=forwarding_rules(settings, certificate_ref),
            redirect_http_to_https=settings.tls in ("managed", "certificate"),
            healthcheck=do.LoadBalancerHealthcheckArgs(
                protocol=HEALTH_CHECK.protocol,
                port=HEALTH_CHECK.port,
                path=plan.load_balancer.health_check_path,
                check_interval_seconds=HEALTH_CHECK.check_interval_seconds,
                response_timeout_seconds=HEALTH_CHECK.response_timeout_seconds,
                unhealthy_threshold=HEALTH_CHECK.unhealthy_threshold,
                healthy_threshold=HEALTH_CHECK.healthy_threshold,
            ),
            enable_backend_keepalive=True,
            http_idle_timeout_seconds=HTTP_IDLE_TIMEOUT_S,
            enable_proxy_protocol=False,
            opts=child,
        )
        self.ip = balancer.ip
        self.load_balancer_id = balancer.id
        self.load_balancer_urn = balancer.load_balancer_urn
        self.register_outputs(
            {
                "ip": self.ip,
                "load_balancer_id": self.load_balancer_id,
                "load_balancer_urn": self.load_balancer_urn,
            }
        )
