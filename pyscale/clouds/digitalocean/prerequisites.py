"""What a DigitalOcean account must have before `pulumi up` (see pyscale/prerequisites.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Prerequisite
from pyscale.clouds.digitalocean import catalog

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

# A new team may create 10 droplets until DigitalOcean raises the limit
# (docs.digitalocean.com/products/droplets/details/limits/; `doctl account get` shows it).
DEFAULT_DROPLET_LIMIT = 10


def prerequisites(settings: Settings, plan: CapacityPlan) -> list[Prerequisite]:
    droplets = plan.nodes + int(settings.monitoring.node)  # the web nodes and the monitor
    found = [
        Prerequisite(
            "an API token with read and write scope (droplets, VPCs, firewalls, load "
            "balancers, certificates, databases, monitoring, projects, tags"
            + (", kubernetes" if settings.on_kubernetes else "")
            + ")",
            "the provider creates every resource with it",
            "Control panel > API > Generate New Token; export DIGITALOCEAN_TOKEN=... "
            "(never in a stack file in clear)",
        ),
        Prerequisite(
            f"a droplet limit of at least {droplets} (plus {plan.nodes} more while a "
            "rollout replaces every node)",
            f"new teams may create {DEFAULT_DROPLET_LIMIT} droplets; a replacement is "
            "created before the node it replaces is deleted",
            "doctl account get (Droplet Limit); raise it from Settings > Team > "
            "Droplet limit, or a support request",
        ),
        Prerequisite(
            f"a VPC in {settings.region} other than the one this stack creates, or "
            "acceptance that this stack's VPC becomes the region's default",
            "the first VPC created in a region becomes its default and cannot be deleted: "
            "`pulumi destroy` of the stack would then fail on it (providers.md D9)",
            f"doctl vpcs list --format Name,Region,Default; doctl vpcs create --name "
            f"default-{settings.region} --region {settings.region}",
        ),
    ]
    if settings.monitoring.node:
        found.append(
            Prerequisite(
                "a second API token with the droplet:read scope only, as the secret "
                "pyscale:monitoringToken",
                "the monitoring node's Prometheus lists the stack's droplets with it; the "
                "provider cannot create tokens, and an update without it is refused",
                "Control panel > API > Generate New Token > Custom Scopes > droplet: read; "
                "pulumi config set --secret pyscale:monitoringToken <token>",
            )
        )
    if settings.tls == "managed" and not settings.on_kubernetes:
        found.append(
            Prerequisite(
                f"the DNS of {settings.domain} hosted on DigitalOcean",
                "a managed (Let's Encrypt) load-balancer certificate is issued only for "
                "domains whose DNS DigitalOcean serves",
                f"doctl compute domain create {settings.domain}, then delegate the domain's "
                "NS records to ns1/ns2/ns3.digitalocean.com at its registrar",
            )
        )
    if settings.tls == "certificate":
        found.append(
            Prerequisite(
                f"a certificate named '{settings.certificate_name}' uploaded to the account",
                "the load balancer's HTTPS rule refers to it by name",
                f"doctl compute certificate create --type custom --name "
                f"{settings.certificate_name} --leaf-certificate-path ... "
                "--private-key-path ... --certificate-chain-path ...",
            )
        )
    if settings.alerts.emails:
        found.append(
            Prerequisite(
                "each alert e-mail verified in the DigitalOcean team: "
                + ", ".join(settings.alerts.emails),
                f"{catalog.ALERT_EMAILS_VERIFIED.what} (providers.md D1; "
                f"{catalog.ALERT_EMAILS_VERIFIED.source})",
                "Control panel > Settings > Team: invite the address, or verify it from "
                "Account > Notifications",
            )
        )
    found.append(
        Prerequisite(
            "GRANT USAGE, CREATE ON SCHEMA public TO pyscale, once per cluster",
            "PostgreSQL 15+ lets only the database owner (doadmin) create tables; the API "
            "cannot grant it, and the nodes never hold the admin password",
            "README, Deploying for real, step 5 (psql as doadmin from a trusted node"
            + (": a pod in the cluster, kubectl run" if settings.on_kubernetes else "")
            + ")",
            when="after the first pulumi up, before the app writes",
        )
    )
    return found
