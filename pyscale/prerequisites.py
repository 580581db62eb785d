"""What must exist or be done before `pulumi up` can work, for one stack.

`pyscale plan` lists them (text, and `prerequisites` in the JSON), each with the command or
console page that does it. Each cloud adds its own (pyscale/clouds/<cloud>/prerequisites.py);
the ones here hold for every stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale import clouds
from pyscale.clouds.base import Prerequisite

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

# The Pulumi CLI version the workflows pin (.github/workflows/*.yml).
PULUMI_VERSION = "3.272.0"


def for_stack(settings: Settings, plan: CapacityPlan) -> list[Prerequisite]:
    """Everything the stack's account needs first: the shared ones, then its cloud's."""
    return common(settings) + clouds.get(settings.cloud).prerequisites(settings, plan)


def common(settings: Settings) -> list[Prerequisite]:
    """What every stack needs, whatever its cloud."""
    found = [
        Prerequisite(
            f"the Pulumi CLI {PULUMI_VERSION} and a state backend for stack '{settings.stack}'",
            "the state records what exists; without it an update cannot tell create from "
            "change, and secrets in it are encrypted with the stack's secrets provider",
            "pulumi login (Pulumi Cloud), or pulumi login 's3://<bucket>?endpoint=...' with "
            f"pulumi stack init {settings.stack} --secrets-provider passphrase "
            "(README, Deploying for real, step 1)",
        ),
    ]
    if settings.tls == "node":
        found.append(
            Prerequisite(
                f"an A record for {settings.domain} pointing at the node",
                "certbot on the node proves the domain over HTTP-01; the bootstrap retries "
                "for a few minutes, then stops and the node never serves",
                "after the first pulumi up: pulumi stack output load_balancer_ip, then set "
                "the record at the DNS host",
                when="during the first pulumi up",
            )
        )
    if settings.on_kubernetes:
        found += _kubernetes(settings)
    return found


def _kubernetes(settings: Settings) -> list[Prerequisite]:
    """What a stack on the cloud's managed Kubernetes needs, whatever the cloud."""
    found = [
        Prerequisite(
            f"the app's image {settings.kubernetes.image} pushed, and the cluster allowed to "
            "pull it",
            "the Deployment runs this image; a pod whose image cannot be pulled never starts "
            "and the rollout stops",
            "docker build -t <image> . && docker push <image> (README, Kubernetes); a "
            "private registry: DigitalOcean's registry integration, or an imagePullSecret",
        ),
    ]
    if settings.tls == "managed" and settings.domain:
        found.append(
            Prerequisite(
                f"an A record for {settings.domain} pointing at the gateway's load balancer",
                "cert-manager proves the domain to Let's Encrypt over HTTP-01 through the "
                "gateway; until the name resolves there, the HTTPS listener has no certificate",
                "after the first pulumi up: pulumi stack output load_balancer_ip, then set "
                "the record at the DNS host",
                when="during the first pulumi up",
            )
        )
    return found
