"""What OVHcloud Public Cloud sells, as pyscale needs it: instance flavors, managed
PostgreSQL and Valkey flavors with their connection limits, service plans, load-balancer
flavors and regions, each with its source."""

from __future__ import annotations

from collections.abc import Callable

from pyscale.clouds.base import (
    CacheSize,
    Catalog,
    DatabaseSize,
    Fact,
    LoadBalancerChoice,
    LoadBalancerDemand,
    LoadBalancerSize,
    MachineSize,
    index,
)

PG_CAPABILITIES = "ovh/docs public_cloud_databases/postgresql_01_capabilities (updated 2025-06-18)"

# Instance flavors (ovhcloud.com/en/public-cloud/prices): General Purpose b3, Compute
# Optimized c3, Discovery d2 (shared vCPU, for dev only).
MACHINES = index(
    MachineSize("d2-2", 1, 2),
    MachineSize("d2-4", 2, 4),
    MachineSize("d2-8", 4, 8),
    MachineSize("b3-8", 2, 8),
    MachineSize("b3-16", 4, 16),
    MachineSize("b3-32", 8, 32),
    MachineSize("b3-64", 16, 64),
    MachineSize("b3-128", 32, 128),
    MachineSize("c3-4", 2, 4),
    MachineSize("c3-8", 4, 8),
    MachineSize("c3-16", 8, 16),
    MachineSize("c3-32", 16, 32),
    MachineSize("c3-64", 32, 64),
)

# Managed PostgreSQL flavors. Connections: about 100 per 4 GB of RAM, capped at 1000
# (OVHcloud PostgreSQL capabilities, "Maximum simultaneous connections", ovh/docs
# postgresql_01_capabilities, updated 2025-06-18: 7 GB ~ 200, 15 GB ~ 400). vCores and
# memory: the same page's "Hardware resources" table (revision of 2023-08-17, the last with
# one; db1-4 is 2 vCores, 4 GB).
DATABASES = index(
    DatabaseSize("db1-4", 2, 4, 100),
    DatabaseSize("db1-7", 2, 7, 200),
    DatabaseSize("db1-15", 4, 15, 400),
    DatabaseSize("db1-30", 8, 30, 750),
    DatabaseSize("db1-60", 16, 60, 1000),
    DatabaseSize("db1-120", 32, 120, 1000),
)

# PostgreSQL service plans fix the number of nodes: one primary, the rest standbys that
# serve the read-only endpoint (OVHcloud PostgreSQL capabilities).
DATABASE_PLANS = {"essential": 1, "business": 2, "enterprise": 3}

# Valkey: 4096 clients per GB of RAM, at least 10,000 (OVHcloud Valkey capabilities,
# updated 2025-07-31).
CACHES = index(
    CacheSize("db1-4", 4, 16_384),
    CacheSize("db1-7", 7, 28_672),
    CacheSize("db1-15", 15, 61_440),
    CacheSize("db1-30", 30, 122_880),
)

# Public Cloud Load Balancer (Octavia) flavors, smallest first. OVHcloud publishes sizes S,
# M, L, XL (ovhcloud.com/en/public-cloud/load-balancer) without a connection figure in any
# source we could read: these are conservative estimates that double per size; verify with
# OVHcloud before relying on the largest flavor near its limit.
LB_FLAVORS = (
    LoadBalancerSize("small", 10_000, 5_000, 200),
    LoadBalancerSize("medium", 20_000, 10_000, 400),
    LoadBalancerSize("large", 40_000, 20_000, 800),
    LoadBalancerSize("xl", 80_000, 40_000, 1_600),
)

# Regions that have instances, managed PostgreSQL and Valkey (SYD1 and RBX-A have instances
# but no managed databases, so a stack there could not be built). Managed PostgreSQL runs in
# BHS, DE, GRA, SBG, SGP, UK and WAW (PG_CAPABILITIES, "Supported regions"); Valkey also in
# EU-WEST-PAR and EU-SOUTH-MIL (ovh/docs valkey capabilities, updated 2025-07-31), where
# every stack's PostgreSQL could not be built.
REGIONS = ("BHS5", "DE1", "GRA7", "GRA9", "GRA11", "SBG5", "SGP1", "UK1", "WAW1")
# The managed services' own region names (a service's nodes[].region).
POSTGRES_SERVICE_REGIONS = ("BHS", "DE", "GRA", "SBG", "SGP", "UK", "WAW")
VALKEY_SERVICE_REGIONS = (*POSTGRES_SERVICE_REGIONS, "EU-WEST-PAR", "EU-SOUTH-MIL")
VALKEY_CAPABILITIES = "ovh/docs public_cloud_databases/valkey capabilities (updated 2025-07-31)"
# Valkey versions as the API names them (VALKEY_CAPABILITIES); settings take the major.
VALKEY_VERSIONS = {"7": "7.2", "8": "8.0"}
NO_POSTGRES_REGIONS = ("EU-WEST-PAR", "EU-SOUTH-MIL")
NO_POSTGRES = Fact(
    "OVHcloud offers managed Valkey but no managed PostgreSQL in EU-WEST-PAR and "
    "EU-SOUTH-MIL, and every stack has a PostgreSQL service",
    f"{PG_CAPABILITIES}, Supported regions",
)
# Instances do not scale themselves on OVHcloud: the scaling OVHcloud offers is Managed
# Kubernetes' node-pool autoscaling (KubeNodePool autoscale, min/max nodes).
NO_INSTANCE_AUTOSCALING = Fact(
    "OVHcloud Public Cloud has no instance autoscaling; a fleet scales itself there with "
    "Managed Kubernetes node-pool autoscaling",
    "github.com/ovh/public-cloud-roadmap/issues/62, open; OVHcloud's answer in #345",
)

# PostgreSQL versions: 14 to 17 (PG_CAPABILITIES), each ending on the upstream end of life
# (ovh/docs information_02_lifecycle_policy: "PostgreSQL EOL will coincide with the official
# PostgreSQL versioning policy"; postgresql.org/support/versioning), after which "running
# services will be automatically upgraded to the latest available version". A version past
# its end of life would therefore not stay the version the stack names.
POSTGRES_END_OF_LIFE = {"14": "2026-11-12", "15": "2027-11-11", "16": "2028-11-09",
                        "17": "2029-11-08"}  # fmt: skip
# The day the versions were last read against their sources; re-read them before 2027-11-11.
VERSIONS_CHECKED = "2026-12-03"
OFFERED_POSTGRES = tuple(v for v, end in POSTGRES_END_OF_LIFE.items() if end > VERSIONS_CHECKED)
RETIRED_POSTGRES = {v: e for v, e in POSTGRES_END_OF_LIFE.items() if v not in OFFERED_POSTGRES}
LIFECYCLE = (
    "ovh/docs public_cloud_databases/information_02_lifecycle_policy; "
    "postgresql.org/support/versioning"
)

# Valkey's maxmemory-policy cannot be set on OVHcloud: its advanced parameters have none
# (ovh/docs redis_09_advanced_parameters_references) and CONFIG is among the commands it does
# not support (valkey capabilities, "Users and roles"). OVHcloud does not state the default;
# the engine's is noeviction (valkey.io/topics/lru-cache), and so is that of Aiven ("All
# Aiven for Redis services have the eviction policy set to No eviction by default",
# aiven-docs memory-usage), whose platform OVHcloud's services run on (inferred: Aiven's
# parameter names and admin user, avnadmin). A full cache refuses writes: the app sets a TTL
# on every cache key.
ENGINE_EVICTION_POLICY = "noeviction"

# Public Cloud image names, as `GET /cloud/project/{serviceName}/image` returns them and the
# WebStack looks them up per region ("Debian 13": ovh/terraform-provider-ovh, instance
# acceptance tests, 2026-08).
IMAGES = {"debian-13": "Debian 13", "debian-12": "Debian 12", "ubuntu-24.04": "Ubuntu 24.04"}

# Managed Kubernetes Service minor versions (help.ovhcloud.com, "Kubernetes versions
# supported by OVHcloud Managed Kubernetes Service": 1.29 to 1.34 in the newest list found,
# October 2025), from 1.31, the oldest NGINX Gateway Fabric 2.6 supports. Nodes run
# containerd 2.1 (descriptors 1024 soft, 524288 hard: the pod raises its soft limit).
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33")

CATALOG = Catalog(
    machines=MACHINES,
    databases=DATABASES,
    caches=CACHES,
    regions=REGIONS,
    database_versions=OFFERED_POSTGRES,
    cache_versions=tuple(VALKEY_VERSIONS),
    images=IMAGES,
    # Read replicas are the plan's standby nodes, in the stack's region.
    replica_regions=(),
    eviction_policies=(),
    engine_eviction_policy=ENGINE_EVICTION_POLICY,
    # IP restrictions admit the private subnet's CIDR: no per-node ceiling.
    max_nodes=None,
    kubernetes_versions=KUBERNETES_VERSIONS,
)


def _smallest(holds: Callable[[LoadBalancerSize], bool]) -> LoadBalancerSize:
    return next((f for f in LB_FLAVORS if holds(f)), LB_FLAVORS[-1])


def load_balancer(demand: LoadBalancerDemand) -> LoadBalancerChoice:
    """The smallest flavor that holds the whole demand, else the largest (the capacity plan
    then refuses the chain: the check that does not hold names the limit)."""
    needs = {
        "connections": lambda f: f.max_connections >= demand.connections,
        "rps": lambda f: f.requests_per_second >= demand.requests_per_second,
        "tls": lambda f: f.new_tls_per_second >= demand.new_tls_per_second,
    }
    flavor = _smallest(lambda f: all(holds(f) for holds in needs.values()))
    return LoadBalancerChoice(
        size=flavor.name,
        size_unit=0,
        max_connections=flavor.max_connections,
        max_size_unit=0,
        requests_per_second=flavor.requests_per_second,
        new_tls_per_second=flavor.new_tls_per_second,
        sized_for={limit: _smallest(holds).name for limit, holds in needs.items()},
    )


def read_endpoints(replicas: int) -> int:
    """One read-only endpoint in front of every standby: in the worst case every reader lands
    on the same standby."""
    return min(replicas, 1)
