"""What DigitalOcean sells, as pyscale needs it: droplet sizes, managed database and Valkey
sizes with their connection limits, load-balancer units and regions, each with its source."""

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

# Droplet slugs (docs.digitalocean.com/products/droplets/concepts/choosing-a-plan).
# Basic (s-), CPU-Optimized (c-, dedicated vCPU) and General Purpose (g-).
MACHINES = index(
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

# Managed PostgreSQL: 25 backend connections per GiB of RAM, 3 of them kept for maintenance,
# so the 1 GiB plan admits 22 (docs.digitalocean.com/products/databases/postgresql/details/
# limits). PgBouncer pools share this budget.
DATABASES = index(
    DatabaseSize("db-s-1vcpu-1gb", 1, 1, 22),
    DatabaseSize("db-s-1vcpu-2gb", 1, 2, 47),
    DatabaseSize("db-s-2vcpu-4gb", 2, 4, 97),
    DatabaseSize("db-s-4vcpu-8gb", 4, 8, 197),
    DatabaseSize("db-s-6vcpu-16gb", 6, 16, 397),
    DatabaseSize("db-s-8vcpu-32gb", 8, 32, 797),
    DatabaseSize("db-s-16vcpu-64gb", 16, 64, 1597),
)
# Standby nodes need a plan with at least 2 GB of RAM (DigitalOcean, "Add standby nodes").
STANDBY_MIN_MEMORY_GIB = 2

# Managed Valkey. DigitalOcean publishes no per-size client limit and runs the engine with
# its default `maxclients 10000` (valkey.io/topics/clients, "Maximum number of clients").
VALKEY_DEFAULT_MAXCLIENTS = 10_000
CACHES = index(
    CacheSize("db-s-1vcpu-1gb", 1, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-1vcpu-2gb", 2, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-2vcpu-4gb", 4, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-4vcpu-8gb", 8, VALKEY_DEFAULT_MAXCLIENTS),
    CacheSize("db-s-6vcpu-16gb", 16, VALKEY_DEFAULT_MAXCLIENTS),
)

# Load balancer: each size unit adds 10,000 requests/s, 10,000 simultaneous connections and
# 250 new TLS connections/s (docs.digitalocean.com/products/networking/load-balancers/
# details/limits). DigitalOcean's limit is 100 units (the 4.84.1 provider would accept up to
# 200, which the API refuses without a support request).
LB_UNIT = LoadBalancerSize("unit", 10_000, 10_000, 250)
LB_MAX_UNITS = 100

REGIONS = ("ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2", "sfo3",
           "sgp1", "syd1", "tor1")  # fmt: skip

# Distribution image slugs (docs.digitalocean.com/products/droplets/details/images; Debian 13
# added 2025-09-13 per the Droplets release notes). DigitalOcean's base images carry
# cloud-init and openssh-server (digitalocean/marketplace-partners README).
IMAGES = {"debian-13": "debian-13-x64", "debian-12": "debian-12-x64",
          "ubuntu-24.04": "ubuntu-24-04-x64"}  # fmt: skip

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
    """Enough size units for `connections` (the capacity plan checks the 100-unit ceiling)."""
    units = -(-connections // LB_UNIT.max_connections)
    return LoadBalancerChoice(
        size=str(units),
        size_unit=units,
        max_connections=units * LB_UNIT.max_connections,
        max_size_unit=LB_MAX_UNITS,
    )


def read_endpoints(replicas: int) -> int:
    """Every read replica is a cluster of its own with its own connection string."""
    return replicas
