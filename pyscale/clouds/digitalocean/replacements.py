"""The inputs whose change makes DigitalOcean's provider replace a resource, not update it.

Read from terraform-provider-digitalocean v2.99.1 (commit 401992a1; `ForceNew: true` in each
resource's schema, digitalocean/<area>/resource_*.go), which pulumi-digitalocean bridges;
the installed 4.84.1 bridges a slightly later release whose inputs for these types are the
same. Pulumi replaces on these without being told, so `pyscale diff` names the change a
replacement. Conditional ones are left out: a droplet's `ipv6` replaces only going from
true to false; a cluster's `engine` does not between redis and valkey.
"""

from __future__ import annotations

REPLACING: dict[str, frozenset[str]] = {
    "digitalocean:index/droplet:Droplet": frozenset({
        "image", "region", "publicNetworking", "sshKeys", "userData", "monitoring",
        "dropletAgent", "vpcUuid", "gpuPartitionMode",
    }),
    "digitalocean:index/loadBalancer:LoadBalancer": frozenset({
        "region", "vpcUuid", "subnetUuid", "ip", "type", "network", "networkStack",
    }),
    "digitalocean:index/vpc:Vpc": frozenset({"region", "ipRange"}),
    "digitalocean:index/databaseCluster:DatabaseCluster": frozenset({
        "name", "engine", "privateNetworkUuid", "projectId",
    }),
    "digitalocean:index/databaseReplica:DatabaseReplica": frozenset({
        "name", "clusterId", "region", "privateNetworkUuid", "tags",
    }),
    "digitalocean:index/databaseDb:DatabaseDb": frozenset({"name", "clusterId"}),
    "digitalocean:index/databaseUser:DatabaseUser": frozenset({"name", "clusterId"}),
    "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": frozenset({
        "clusterId", "name", "user", "mode", "size", "dbName",
    }),
    "digitalocean:index/databaseFirewall:DatabaseFirewall": frozenset({"clusterId"}),
    "digitalocean:index/certificate:Certificate": frozenset({
        "name", "privateKey", "leafCertificate", "certificateChain", "domains", "type",
    }),
    "digitalocean:index/tag:Tag": frozenset({"name"}),
}  # fmt: skip
