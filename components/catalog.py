"""What each cloud sells, as the capacity model needs it: sizes, limits and regions.

These are facts about the providers, not choices of ours, so they live apart from the
settings (what the user asked for) and from the capacity model (what follows from both).
Each table names its source; when a provider changes a limit, this is the one file to edit.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOUDS = ("digitalocean", "ovh")


@dataclass(frozen=True)
class MachineSize:
    """A droplet size or instance flavor: what the node's numbers are derived from."""

    name: str
    vcpus: int
    memory_gib: int


@dataclass(frozen=True)
class DatabaseSize:
    """A managed PostgreSQL size and the connections its server admits for clients."""

    name: str
    vcpus: int
    memory_gib: int
    max_connections: int


@dataclass(frozen=True)
class CacheSize:
    """A managed Valkey size and the client connections it admits (maxclients)."""

    name: str
    memory_gib: int
    max_clients: int


@dataclass(frozen=True)
class LoadBalancerSize:
    """One step of load-balancer capacity: a DigitalOcean size unit or an OVH flavor."""

    name: str
    max_connections: int
    requests_per_second: int
    new_tls_per_second: int


def _index(*items):
    return {item.name: item for item in items}


# DigitalOcean droplet slugs (docs.digitalocean.com/products/droplets/concepts/choosing-a-plan).
# Basic (s-), CPU-Optimized (c-, dedicated vCPU) and General Purpose (g-).
DO_MACHINES = _index(
    MachineSize("s-1vcpu-1gb", 1, 1),
    MachineSize("s-1vcpu-2gb", 1, 2),
    MachineSize("s-2vcpu-2gb", 2, 2),
    MachineSize("s-2vcpu-4gb", 2, 4),
    MachineSize("s-4vcpu-8gb", 4, 8),
    MachineSize("s-8vcpu-16gb", 8, 16),
    MachineSize("c-2", 2, 4),
    MachineSize("c-4", 4, 8),
    MachineSize("c-8", 8, 16),
    MachineSize("c-16", 16, 32),
    MachineSize("c-32", 32, 64),
    MachineSize("g-2vcpu-8gb", 2, 8),
    MachineSize("g-4vcpu-16gb", 4, 16),
    MachineSize("g-8vcpu-32gb", 8, 32),
    MachineSize("g-16vcpu-64gb", 16, 64),
)

# OVHcloud Public Cloud flavors (ovhcloud.com/en/public-cloud/prices): General Purpose b3,
# Compute Optimized c3, Discovery d2 (shared vCPU, for dev only).
OVH_MACHINES = _index(
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

# DigitalOcean managed PostgreSQL: 25 backend connections per GiB of RAM, 3 of them kept for
# maintenance, so the 1 GiB plan admits 22 (docs.digitalocean.com/products/databases/
# postgresql/details/limits). PgBouncer pools share this budget.
DO_DATABASES = _index(
    DatabaseSize("db-s-1vcpu-1gb", 1, 1, 22),
    DatabaseSize("db-s-1vcpu-2gb", 1, 2, 47),
    DatabaseSize("db-s-2vcpu-4gb", 2, 4, 97),
    DatabaseSize("db-s-4vcpu-8gb", 4, 8, 197),
    DatabaseSize("db-s-6vcpu-16gb", 6, 16, 397),
    DatabaseSize("db-s-8vcpu-32gb", 8, 32, 797),
    DatabaseSize("db-s-16vcpu-64gb", 16, 64, 1597),
)

# OVHcloud managed PostgreSQL flavors. Connections: about 100 per 4 GB of RAM, capped at
# 1000 (OVHcloud PostgreSQL capabilities, "Maximum simultaneous connections", ovh/docs
# postgresql_01_capabilities, updated 2025-06-18: 7 GB ~ 200, 15 GB ~ 400).
OVH_DATABASES = _index(
    DatabaseSize("db1-4", 1, 4, 100),
    DatabaseSize("db1-7", 2, 7, 200),
    DatabaseSize("db1-15", 4, 15, 400),
    DatabaseSize("db1-30", 8, 30, 750),
    DatabaseSize("db1-60", 16, 60, 1000),
    DatabaseSize("db1-120", 32, 120, 1000),
)

# OVHcloud PostgreSQL service plans fix the number of nodes: one primary, the rest standbys
# that serve the read-only endpoint (OVHcloud PostgreSQL capabilities).
OVH_DATABASE_PLANS = {"essential": 1, "business": 2, "enterprise": 3}

# Managed Valkey. DigitalOcean publishes no per-size client limit and runs the engine with
# its default `maxclients 10000` (valkey.io/topics/clients, "Maximum number of clients").
VALKEY_DEFAULT_MAXCLIENTS = 10_000
DO_CACHES = _index(
    CacheSize("db-s-1vcpu-1gb", 1, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-1vcpu-2gb", 2, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-2vcpu-4gb", 4, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-4vcpu-8gb", 8, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-6vcpu-16gb", 16, VALKEY_DEFAULT_MAXCLIENTS),
)
# OVHcloud Valkey: 4096 clients per GB of RAM, at least 10,000 (OVHcloud Valkey
# capabilities, updated 2025-07-31).
OVH_CACHES = _index(
    CacheSize("db1-4", 4, 16_384),
    CacheSize("db1-7", 7, 28_672),
    CacheSize("db1-15", 15, 61_440),
    CacheSize("db1-30", 30, 122_880),
)

# DigitalOcean load balancer: each size unit adds 10,000 requests/s, 10,000 simultaneous
# connections and 250 new TLS connections/s (docs.digitalocean.com/products/networking/
# load-balancers/details/limits). DigitalOcean's limit is 100 units (the 4.84.1 provider
# would accept up to 200, which the API refuses without a support request).
DO_LB_UNIT = LoadBalancerSize("unit", 10_000, 10_000, 250)
DO_LB_MAX_UNITS = 100

# OVHcloud Public Cloud Load Balancer (Octavia) flavors, smallest first. OVHcloud publishes
# sizes S, M, L, XL (ovhcloud.com/en/public-cloud/load-balancer) without a connection
# figure in any source we could read: these are conservative estimates that double per
# size; verify with OVHcloud before relying on the largest flavor near its limit.
OVH_LB_FLAVORS = (
    LoadBalancerSize("small", 10_000, 5_000, 200),
    LoadBalancerSize("medium", 20_000, 10_000, 400),
    LoadBalancerSize("large", 40_000, 20_000, 800),
    LoadBalancerSize("xl", 80_000, 40_000, 1_600),
)

DO_REGIONS = (
    "ams3",
    "atl1",
    "blr1",
    "fra1",
    "lon1",
    "nyc1",
    "nyc2",
    "nyc3",
    "sfo2",
    "sfo3",
    "sgp1",
    "syd1",
    "tor1",
)
# OVHcloud regions that have instances, managed PostgreSQL and Valkey (SYD1 and RBX-A have
# instances but no managed databases, so a stack there could not be built).
OVH_REGIONS = (
    "BHS5",
    "DE1",
    "GRA7",
    "GRA9",
    "GRA11",
    "SBG5",
    "SGP1",
    "UK1",
    "WAW1",
    "EU-WEST-PAR",
    "EU-SOUTH-MIL",
)

MACHINES = {"digitalocean": DO_MACHINES, "ovh": OVH_MACHINES}
DATABASES = {"digitalocean": DO_DATABASES, "ovh": OVH_DATABASES}
CACHES = {"digitalocean": DO_CACHES, "ovh": OVH_CACHES}
REGIONS = {"digitalocean": DO_REGIONS, "ovh": OVH_REGIONS}
