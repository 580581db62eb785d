"""What an OVHcloud Public Cloud project must have before `pulumi up` (see
pyscale/prerequisites.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Prerequisite

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings


def prerequisites(settings: Settings, plan: CapacityPlan) -> list[Prerequisite]:
    project = settings.ovh_service_name
    monitor = int(settings.monitoring.node)  # the monitoring instance
    found = [
        Prerequisite(
            "API credentials with rights on /cloud/project/*",
            "the provider creates every resource through the OVHcloud API",
            "https://eu.api.ovh.com/createToken/ (GET/POST/PUT/DELETE /cloud/project/*); "
            "export OVH_ENDPOINT OVH_APPLICATION_KEY OVH_APPLICATION_SECRET OVH_CONSUMER_KEY",
        ),
        Prerequisite(
            f"project {project} attached to a vRack",
            "private networks are built on the project's vRack; without one, creating the "
            "network fails ('Can not get vrack_id and segmentation_id', providers.md O2)",
            f"check: GET /cloud/project/{project}/vrack (404: none). Attach: Control panel > "
            f"Bare Metal Cloud > Network > vRack: add project {project}, or POST "
            f'/vrack/{{vrackServiceName}}/cloudProject {{"project": "{project}"}}',
        ),
        Prerequisite(
            f"instance quota in {settings.region} for {plan.nodes + monitor} more instances "
            f"and {plan.nodes * plan.vcpus + monitor * settings.monitoring.size.vcpus} more "
            "vCPUs (the web nodes twice over while a rollout replaces every node)",
            "a replacement is created before the instance it replaces is deleted",
            f"GET /cloud/project/{project}/quota?region={settings.region}; raise it from "
            "Public Cloud > Quota and Regions",
        ),
    ]
    if settings.ssh_keys:
        found.append(
            Prerequisite(
                f"an SSH key pair named '{settings.ssh_keys[0]}' in the project",
                "OVHcloud injects a key pair of the project by name at boot",
                "Public Cloud > SSH Keys > Add key (or POST /cloud/project/{project}/sshkey)",
            )
        )
    if settings.tls == "certificate":
        found.append(
            Prerequisite(
                f"a CERTIFICATE container '{settings.certificate_name}' in the key manager of "
                f"{settings.region}",
                "the load balancer's TLS listener refers to it; OVHcloud has no managed "
                "Let's Encrypt for it",
                "OVHcloud guide 'Secure a Load Balancer with an external certificate' "
                "(openstack secret store + container create)",
            )
        )
    return found
