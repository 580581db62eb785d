"""What OVHcloud Public Cloud sells, as pyscale needs it: instance flavors, managed
PostgreSQL and Valkey flavors with their connection limits, service plans, load-balancer
flavors and regions, each with its source."""

from __future__ import annotations

from pyscale.clouds.base import (
    CacheSize,
    Catalog,
    DatabaseSize,
    LoadBalancerChoice,
    LoadBalancerSize,
    MachineSize,
    index,
)

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
# postgresql_01_capabilities, updated 2025-06-18: 7 GB ~ 200, 15 GB ~ 400).
DATABASES = index(
    DatabaseSize("db1-4", 1, 4, 100),
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
# but no managed databases, so a stack there could not be built).
REGIONS = ("BHS5", "DE1", "GRA7", "GRA9", "GRA11", "SBG5", "SGP1", "UK1", "WAW1",
           "EU-WEST-PAR", "EU-SOUTH-MIL")  # fmt: skip

# Public Cloud image names, as `GET /cloud/project/{serviceName}/image` returns them and the
# WebStack looks them up per region ("Debian 13": ovh/terraform-provider-ovh, instance
# acceptance tests, 2026-08).
IMAGES = {"debian-13": "Debian 13", "debian-12": "Debian 12", "ubuntu-24.04": "Ubuntu 24.04"}

CATALOG = Catalog(
    machines=MACHINES,
    databases=DATABASES,
    caches=CACHES,
    regions=REGIONS,
    database_versions=("14", "15", "16", "17"),
    cache_versions=("7", "8"),
    images=IMAGES,
)


def load_balancer(connections: int) -> LoadBalancerChoice:
    """The smallest flavor that holds `connections`, else the largest (the capacity plan
    then refuses the chain: its connection check fails)."""
    flavor = next((f for f in LB_FLAVORS if f.max_connections >= connections), LB_FLAVORS[-1])
    return LoadBalancerChoice(
        size=flavor.name, size_unit=0, max_connections=flavor.max_connections, max_size_unit=0
    )


def read_endpoints(replicas: int) -> int:
    """One read-only endpoint in front of every standby: in the worst case every reader lands
    on the same standby."""
    return min(replicas, 1)
