"""DigitalOcean's rules on registered inputs that the provider schema leaves as plain strings
and numbers (pyscale/offline/conformance.py checks them). Each value list comes from the
catalog, where its source is written; these say which input of which resource it binds."""

from pyscale.clouds.base import Fact, InputRule
from pyscale.clouds.digitalocean import catalog

DROPLET = "digitalocean:index/droplet:Droplet"
CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster"
REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica"
VALKEY_CONFIG = "digitalocean:index/databaseValkeyConfig:DatabaseValkeyConfig"
LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
POOL = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool"
DROPLET_POOL = "digitalocean:index/dropletAutoscale:DropletAutoscale"

PG = {"engine": "pg"}
VALKEY = {"engine": "valkey"}
PG_REGIONS = Fact("managed PostgreSQL regions", f"{catalog.OPTIONS}: options.pg.regions")
SIZE_UNITS = Fact(
    "load-balancer size_unit: 1 to 100, not in ams2, nyc2, sfo1",
    "openapi load_balancers/models/load_balancer_base.yml: size_unit",
)
BACKUP_POLICY = Fact(
    "droplet backup policy: daily or weekly, a 4-hour window starting at 0, 4, 8, 12, 16 or 20",
    "openapi droplets/models/droplet_backup_policy.yml",
)

AUTOSCALE_CONFIG = "openapi autoscale_pools/models/autoscale_pool_dynamic_config.yml"
# The regions a pool's droplet template names (its enum in the API schema): fewer than the
# droplet regions (no atl1).
POOL_REGIONS = ("nyc1", "nyc2", "nyc3", "ams2", "ams3", "sfo1", "sfo2", "sfo3", "sgp1", "lon1",
                "fra1", "tor1", "blr1", "syd1")  # fmt: skip


def _pool_range(path: str, what: str, low: float, high: float) -> InputRule:
    return InputRule(
        DROPLET_POOL,
        f"config.{path}",
        Fact(f"Droplet autoscale pool {what}: {low:g} to {high:g}", f"{AUTOSCALE_CONFIG}: {path}"),
        minimum=low,
        maximum=high,
    )


RULES = (
    _pool_range("minInstances", "min_instances", 1, 500),
    _pool_range("maxInstances", "max_instances", 1, 1000),
    _pool_range("cooldownMinutes", "cooldown_minutes", 5, 20),
    _pool_range("targetCpuUtilization", "target_cpu_utilization", 0.05, 1),
    _pool_range("targetMemoryUtilization", "target_memory_utilization", 0.05, 1),
    InputRule(
        DROPLET_POOL,
        "dropletTemplate.region",
        Fact(
            "Droplet autoscale pool regions",
            "openapi autoscale_pools/models/autoscale_pool_droplet_template.yml: region",
        ),
        allowed=POOL_REGIONS,
    ),
    InputRule(
        DROPLET,
        "region",
        Fact("droplet regions", "docs.digitalocean.com/platform/regional-availability"),
        allowed=catalog.DROPLET_REGIONS,
    ),
    InputRule(
        DROPLET,
        "size",
        Fact(
            "droplet sizes pyscale has numbers for",
            "docs.digitalocean.com/products/droplets/concepts/choosing-a-plan",
        ),
        allowed=tuple(catalog.MACHINES),
    ),
    InputRule(
        DROPLET,
        "image",
        Fact("distribution image slugs", "docs.digitalocean.com/products/droplets/details/images"),
        allowed=tuple(catalog.IMAGES.values()),
    ),
    InputRule(DROPLET, "backupPolicy.plan", BACKUP_POLICY, allowed=("daily", "weekly")),
    InputRule(DROPLET, "backupPolicy.hour", BACKUP_POLICY, allowed=(0, 4, 8, 12, 16, 20)),
    InputRule(
        CLUSTER,
        "version",
        Fact(
            "PostgreSQL versions still created (end of availability after "
            f"{catalog.VERSIONS_CHECKED})",
            f"{catalog.OPTIONS}: version_availability.pg",
        ),
        allowed=catalog.OFFERED_POSTGRES,
        when=PG,
    ),
    InputRule(CLUSTER, "region", PG_REGIONS, allowed=catalog.POSTGRES_REGIONS, when=PG),
    InputRule(CLUSTER, "size", catalog.NOT_FOR_POSTGRES, allowed=tuple(catalog.DATABASES), when=PG),
    InputRule(
        CLUSTER,
        "nodeCount",
        Fact("a PostgreSQL cluster has 1 to 3 nodes", f"{catalog.OPTIONS}: options.pg.layouts"),
        minimum=1,
        maximum=3,
        when=PG,
    ),
    InputRule(
        CLUSTER, "version", catalog.VALKEY_ONLY_8, allowed=catalog.VALKEY_VERSIONS, when=VALKEY
    ),
    InputRule(
        CLUSTER,
        "region",
        Fact("managed Valkey regions", f"{catalog.OPTIONS}: options.valkey.regions"),
        allowed=catalog.VALKEY_REGIONS,
        when=VALKEY,
    ),
    InputRule(
        CLUSTER,
        "size",
        Fact("Valkey sizes pyscale has numbers for", f"{catalog.OPTIONS}: options.valkey.layouts"),
        allowed=tuple(catalog.CACHES),
        when=VALKEY,
    ),
    InputRule(REPLICA, "region", PG_REGIONS, allowed=catalog.POSTGRES_REGIONS),
    InputRule(REPLICA, "size", catalog.NOT_FOR_POSTGRES, allowed=tuple(catalog.DATABASES)),
    InputRule(
        VALKEY_CONFIG, "valkeyMaxmemoryPolicy", catalog.NO_LFU, allowed=catalog.EVICTION_POLICIES
    ),
    InputRule(LOAD_BALANCER, "sizeUnit", SIZE_UNITS, minimum=1, maximum=catalog.LB_MAX_UNITS),
    InputRule(
        LOAD_BALANCER,
        "region",
        SIZE_UNITS,
        allowed=tuple(r for r in catalog.DROPLET_REGIONS if r not in catalog.NO_LB_SIZE_UNITS),
    ),
    InputRule(
        POOL,
        "mode",
        Fact("PgBouncer pool modes", "openapi databases/models/connection_pool.yml: mode"),
        allowed=("session", "transaction", "statement"),
    ),
)
