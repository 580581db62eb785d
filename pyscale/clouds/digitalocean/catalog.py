"""What DigitalOcean sells, as pyscale needs it: droplet sizes, managed database and Valkey
sizes with their connection limits, versions, eviction policies, load-balancer units, regions
and the account's limits, each with its source.

Only what a stack can be built with is offered; what the API lists but would refuse (a
PostgreSQL version past its end of availability, a region without Valkey) is kept here as a
fact, for settings_rules.py to refuse with its reason. OPTIONS is the database options
endpoint, `GET /v2/databases/options`, as digitalocean/openapi documents it
(specification/resources/databases/responses/options.yml, read 2026-12-03 at 7c1300c4): its
`layouts` list "the slugs available with various node counts" per engine, its
`version_availability` the day each version stops being created (end_of_availability).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyscale.clouds.base import (
    CacheSize,
    Catalog,
    DatabaseSize,
    Fact,
    Limit,
    LoadBalancerChoice,
    LoadBalancerDemand,
    LoadBalancerSize,
    MachineSize,
    index,
)

OPTIONS = "GET /v2/databases/options, in digitalocean/openapi databases/responses/options.yml"

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
# limits). PgBouncer pools share this budget. The shared-CPU sizes OPTIONS lists for `pg`
# stop at db-s-6vcpu-16gb; larger PostgreSQL nodes are the dedicated gd-/so1_5- sizes.
DATABASES = index(
    DatabaseSize("db-s-1vcpu-1gb", 1, 1, 22),
    DatabaseSize("db-s-1vcpu-2gb", 1, 2, 47),
    DatabaseSize("db-s-2vcpu-4gb", 2, 4, 97),
    DatabaseSize("db-s-4vcpu-8gb", 4, 8, 197),
    DatabaseSize("db-s-6vcpu-16gb", 6, 16, 397),
)
# Listed for Valkey, MongoDB and Redis but not for PostgreSQL: OPTIONS dropped them from the
# `pg` (and MySQL) layouts when its example was refreshed from the live answer in July 2024
# (digitalocean/openapi PR #898), while keeping them for the other engines.
NOT_FOR_POSTGRES = Fact(
    "DigitalOcean offers db-s-8vcpu-32gb and db-s-16vcpu-64gb for Valkey, MongoDB and Redis "
    "but not for PostgreSQL, whose larger sizes are the dedicated gd- and so1_5- ones",
    f"{OPTIONS}: options.pg.layouts, without them since digitalocean/openapi PR #898",
)
# Standby nodes need a plan with at least 2 GB of RAM (DigitalOcean, "Add standby nodes";
# OPTIONS' pg layouts with 2 and 3 nodes start at db-s-1vcpu-2gb).
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


@dataclass(frozen=True)
class Availability:
    """When DigitalOcean stops creating clusters of an engine version, and stops running them."""

    end_of_availability: str  # YYYY-MM-DD: no new clusters from this day
    end_of_life: str  # YYYY-MM-DD


# OPTIONS, version_availability.pg. A version is offered until its end of availability.
POSTGRES_VERSIONS = {
    "13": Availability("2025-05-13", "2025-11-13"),
    "14": Availability("2026-05-12", "2026-11-12"),
    "15": Availability("2027-05-12", "2027-11-11"),
    "16": Availability("2028-05-09", "2028-11-09"),
    "17": Availability("2029-05-08", "2029-11-08"),
}
# The day POSTGRES_VERSIONS was last read against its source: the versions offered are those
# still available after it. Re-read the source and move this date before 2027-05-12, the day
# PostgreSQL 15 stops being created.
VERSIONS_CHECKED = "2026-12-03"
OFFERED_POSTGRES = tuple(
    v for v, a in POSTGRES_VERSIONS.items() if a.end_of_availability > VERSIONS_CHECKED
)
RETIRED_POSTGRES = {v: a for v, a in POSTGRES_VERSIONS.items() if v not in OFFERED_POSTGRES}
# OPTIONS, options.valkey.versions: ["8"] (version_availability.valkey: 8, no end date).
VALKEY_VERSIONS = ("8",)
VALKEY_ONLY_8 = Fact(
    "DigitalOcean's managed Valkey comes in version 8 only",
    f"{OPTIONS}: options.valkey.versions",
)

# The maxmemory-policy values DatabaseValkeyConfig takes: the provider validates
# `valkey_maxmemory_policy` against these six, hyphenated (terraform-provider-digitalocean
# v2.99.1 digitalocean/database/resource_database_valkey_config.go, since v2.76.0, PR #1505:
# no LFU policy). The spelling (providers.md D16): the provider sends the value unchanged
# (godo UpdateValkeyConfig, PATCH /v2/databases/{id}/config), so hyphens are the only spelling
# that gets past its validation; godo itself rewrites underscores to hyphens for the same
# endpoint's Redis policy ("normalize ... to use dashes"), and the provider's acceptance test
# applies "noeviction" then "volatile-random" against the API. The underscore enum of openapi
# eviction_policy_model.yml, which valkey_advanced_config.yml reuses, is the spelling of the
# cluster's own /eviction_policy endpoint (DatabaseCluster.eviction_policy), which pyscale
# leaves unset; terraform-provider-digitalocean PR #1402 dropped the config's policy in 2025
# after it could not update it. Not checked against a live cluster.
EVICTION_POLICIES = (
    "noeviction", "allkeys-lru", "allkeys-random", "volatile-lru", "volatile-random",
    "volatile-ttl",
)  # fmt: skip
NO_LFU = Fact(
    "DigitalOcean's Valkey takes no LFU eviction policy: valkey_maxmemory_policy is one of "
    + ", ".join(EVICTION_POLICIES),
    "terraform-provider-digitalocean v2.99.1 database/resource_database_valkey_config.go, "
    "validation added in PR #1505; openapi databases/models/eviction_policy_model.yml",
)
# "noeviction ... Default" (docs.digitalocean.com/products/databases/valkey/how-to/
# choose-eviction-policies): a full cache refuses writes until a policy is set.
ENGINE_EVICTION_POLICY = "noeviction"

# Load balancer: each size unit adds 10,000 requests/s, 10,000 simultaneous connections and
# 250 new TLS connections/s (docs.digitalocean.com/products/networking/load-balancers/
# details/limits). DigitalOcean's limit is 100 units (the 4.84.1 provider would accept up to
# 200, which the API refuses without a support request).
LB_UNIT = LoadBalancerSize("unit", 10_000, 10_000, 250)
LB_MAX_UNITS = 100

# Droplet regions pyscale builds in, and the legacy ones that lack what a stack needs.
DROPLET_REGIONS = ("ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "sfo2",
                   "sfo3", "sgp1", "syd1", "tor1")  # fmt: skip
LEGACY_REGIONS = ("ams2", "sfo1")
# OPTIONS, options.pg.regions and options.valkey.regions. ric1 has both, so a read replica
# may live there; it is not among pyscale's droplet regions (not checked for droplets).
POSTGRES_REGIONS = ("ams3", "atl1", "blr1", "fra1", "lon1", "nyc1", "nyc2", "nyc3", "ric1",
                    "sfo2", "sfo3", "sgp1", "syd1", "tor1")  # fmt: skip
VALKEY_REGIONS = tuple(r for r in POSTGRES_REGIONS if r != "nyc2")
# `size_unit` "is currently not available in the AMS2, NYC2, or SFO1 regions" (openapi
# load_balancers/models/load_balancer_base.yml): there a load balancer takes only the
# deprecated `size`, which pyscale does not size.
NO_LB_SIZE_UNITS = ("ams2", "nyc2", "sfo1")
# What each offering is, for refusals, with where its regions are written.
OFFERINGS = {
    "managed PostgreSQL": (POSTGRES_REGIONS, f"{OPTIONS}: options.pg.regions"),
    "managed Valkey": (VALKEY_REGIONS, f"{OPTIONS}: options.valkey.regions"),
    "load-balancer size units (a stack of more than one node needs them)": (
        tuple(r for r in DROPLET_REGIONS if r not in NO_LB_SIZE_UNITS),
        "openapi load_balancers/models/load_balancer_base.yml: size_unit",
    ),
}


def missing_in(region: str) -> list[tuple[str, str]]:
    """What a stack needs that DigitalOcean does not offer in `region`, each with its source."""
    return [(what, source) for what, (where, source) in OFFERINGS.items() if region not in where]


# A region must offer all three. Size units matter only to a stack of more than one node,
# but no region lacks them alone (nyc2 also lacks Valkey; ams2 and sfo1 lack all three), so
# a region that lacks any is refused for every stack.
REGIONS = tuple(r for r in DROPLET_REGIONS if not missing_in(r))

# A database firewall admits 100 addresses by default and a droplet counts 2 (its public and
# private address), so the web tag every firewall trusts holds at most 50 droplets. While a
# rollout replaces every node (create before delete) the tag briefly holds both generations:
# past 25 nodes, ask support to raise the limit first (not checked by pyscale).
TRUSTED_SOURCE_ADDRESSES = 100
ADDRESSES_PER_DROPLET = 2
MAX_NODES = Limit(
    TRUSTED_SOURCE_ADDRESSES // ADDRESSES_PER_DROPLET,
    Fact(
        f"a DigitalOcean database firewall admits {TRUSTED_SOURCE_ADDRESSES} addresses and a "
        f"droplet counts {ADDRESSES_PER_DROPLET}, so at most "
        f"{TRUSTED_SOURCE_ADDRESSES // ADDRESSES_PER_DROPLET} nodes reach the databases "
        "(more needs a support request)",
        "docs.digitalocean.com/products/databases/postgresql/details/limits",
    ),
)

# Alert e-mails: an uptime alert to an address not verified on the account or team is
# refused with 400 "invalid email" (openapi PR #830, with the API's answer); monitor alerts
# are assumed to follow the same rule (their model, monitoring/models/alerts.yml, says
# nothing). pyscale cannot see the team's addresses: the plan lists it as a prerequisite.
# Ranges a VPC may not overlap: DigitalOcean keeps them for Kubernetes (DOKS) networking.
RESERVED_VPC_RANGES = ("10.244.0.0/16", "10.245.0.0/16", "10.246.0.0/24")
RESERVED_VPC = Fact(
    "DigitalOcean reserves " + ", ".join(RESERVED_VPC_RANGES) + " for its Kubernetes "
    "networking; a VPC range may not overlap them",
    'docs.digitalocean.com/products/networking/vpc/concepts/plan-your-network, "DigitalOcean '
    'Reserved IP Addresses and Ranges" (the list as quoted by a DOKS network plan, '
    "architecture-starform.pages.dev/networking/02-vpc-and-ip; the page itself was read "
    "only up to that heading)",
)
ALERT_EMAILS_VERIFIED = Fact(
    "each address must be verified on the DigitalOcean account or team, else the alert is "
    "refused with 400 invalid email",
    "digitalocean/openapi uptime/models/notification.yml, PR #830",
)

# Distribution image slugs (docs.digitalocean.com/products/droplets/details/images; Debian 13
# added 2025-09-13 per the Droplets release notes). DigitalOcean's base images carry
# cloud-init and openssh-server (digitalocean/marketplace-partners README).
IMAGES = {"debian-13": "debian-13-x64", "debian-12": "debian-12-x64",
          "ubuntu-24.04": "ubuntu-24-04-x64"}  # fmt: skip

# DOKS minor versions a cluster can be created with (docs.digitalocean.com/products/
# kubernetes/details/supported-releases/; no current slug list was found on 2026-12-04, so
# these are the minors NGINX Gateway Fabric 2.6 supports, 1.31+, that DOKS offered last).
# The component resolves the newest patch slug of the minor with get_kubernetes_versions
# (version_prefix=...) at deploy time: a minor DOKS no longer offers fails the preview.
KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34")

# A Droplet autoscale pool scaling down (or replacing members on a configuration change)
# "issue[s] a shutdown event and wait[s] 60 seconds before issuing a destroy event"
# (docs.digitalocean.com/products/droplets/concepts/autoscale-pools, "Graceful Shutdown"):
# a leaving member drains within that (pyscale-drain runs on shutdown).
POOL_SHUTDOWN_S = 60
# A pool's Droplet template requires SSH keys (openapi autoscale_pool_droplet_template.yml:
# `ssh_keys` required; the control panel: "SSH keys, which are mandatory") and has no
# backups field: its members are replaced, never restored.
POOL_TEMPLATE = "openapi autoscale_pool_droplet_template.yml"
POOL_SSH_KEYS = Fact(
    "a DigitalOcean Droplet autoscale pool's members need SSH keys", f"{POOL_TEMPLATE}: ssh_keys"
)
POOL_NO_BACKUPS = Fact(
    "a DigitalOcean Droplet autoscale pool's template has no backups option",
    f"{POOL_TEMPLATE} and the provider's droplet_template: no backups field",
)

CATALOG = Catalog(
    machines=MACHINES,
    databases=DATABASES,
    caches=CACHES,
    regions=REGIONS,
    database_versions=OFFERED_POSTGRES,
    cache_versions=VALKEY_VERSIONS,
    images=IMAGES,
    replica_regions=POSTGRES_REGIONS,
    eviction_policies=EVICTION_POLICIES,
    engine_eviction_policy=ENGINE_EVICTION_POLICY,
    max_nodes=MAX_NODES,
    kubernetes_versions=KUBERNETES_VERSIONS,
    pool_shutdown_s=POOL_SHUTDOWN_S,
)


def load_balancer(demand: LoadBalancerDemand) -> LoadBalancerChoice:
    """Enough size units for every part of the demand (the capacity plan checks the 100-unit
    ceiling): connections, requests/s and new TLS connections/s each need their own count."""
    sized_for = {
        "connections": -(-demand.connections // LB_UNIT.max_connections),
        "rps": -(-demand.requests_per_second // LB_UNIT.requests_per_second),
        "tls": -(-demand.new_tls_per_second // LB_UNIT.new_tls_per_second),
    }
    units = max(1, *sized_for.values())
    return LoadBalancerChoice(
        size=str(units),
        size_unit=units,
        max_connections=units * LB_UNIT.max_connections,
        max_size_unit=LB_MAX_UNITS,
        requests_per_second=units * LB_UNIT.requests_per_second,
        new_tls_per_second=units * LB_UNIT.new_tls_per_second,
        sized_for=sized_for,
    )


def read_endpoints(replicas: int) -> int:
    """Every read replica is a cluster of its own with its own connection string."""
    return replicas
