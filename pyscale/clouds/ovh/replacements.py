"""The inputs whose change makes OVHcloud's provider replace a resource, not update it.

Read from ovh/terraform-provider-ovh (`ForceNew: true` and `RequiresReplace` plan modifiers;
master of 2026-08-21 with the v2.20-v2.22 changes of its changelog applied, as pulumi-ovh
2.22.0 bridges v2.22.0; the SDK's "Changing this value recreates the resource" docstrings
agree). Pulumi replaces on these without being told, so `pyscale diff` names the change a
replacement. A cloud instance's `userData` and `imageId` are not here: the provider
reinstalls the instance in place, and pyscale's own `replaceOnChanges` makes them
replacements (components/ovh/nodes.py). Conditional ones are left out: a database's
`nodes` replaces only when an existing node's region changes.
"""

from __future__ import annotations

REPLACING: dict[str, frozenset[str]] = {
    "ovh:index/cloudInstance:CloudInstance": frozenset({
        "serviceName", "region", "availabilityZone", "sshKeyName", "groupId",
    }),
    "ovh:CloudProject/database:Database": frozenset({"serviceName", "engine"}),
    "ovh:index/cloudLoadbalancer:CloudLoadbalancer": frozenset({
        "serviceName", "region", "availabilityZone", "network", "flavorName",
    }),
    "ovh:index/cloudNetworkPrivateVrack:CloudNetworkPrivateVrack": frozenset({
        "serviceName", "region", "description", "vlanId",
    }),
    "ovh:index/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet": frozenset({
        "networkId", "serviceName", "cidr", "region",
    }),
    "ovh:index/cloudSecurityGroup:CloudSecurityGroup": frozenset({"serviceName", "region"}),
    "ovh:CloudProjectDatabase/postgresSqlUser:PostgresSqlUser": frozenset({
        "serviceName", "clusterId", "name",
    }),
    "ovh:CloudProjectDatabase/databaseInstance:DatabaseInstance": frozenset({
        "serviceName", "engine", "clusterId", "name",
    }),
}  # fmt: skip
