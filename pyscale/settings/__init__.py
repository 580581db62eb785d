"""Typed, validated stack settings, read from the stack's `pyscale:` config.

Every value a stack can set is parsed here, once, into frozen dataclasses. Validation
collects every problem before failing so that a user fixes a stack file in one pass, and
it runs before the program registers a single resource: a bad value never half-creates a
stack. Each message names the config key, the value given and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from pyscale import clouds
from pyscale.clouds.base import CacheSize, DatabaseSize, MachineSize
from pyscale.clouds.ovh.catalog import DATABASE_PLANS as OVH_DATABASE_PLANS

NAMESPACE = "pyscale"
ENVIRONMENTS = ("dev", "staging", "prod")
# managed: DigitalOcean-managed Let's Encrypt certificate on the load balancer.
# certificate: a certificate already uploaded to the cloud, named by `certificateName`.
# node: Nginx terminates TLS itself with a certbot certificate (single-node topology).
# off: plain HTTP (local runs and throwaway stacks only).
TLS_MODES = ("managed", "certificate", "node", "off")
POOL_MODES = ("transaction", "session", "statement")
EVICTION_POLICIES = (
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "noeviction",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEMO_APP_MODULE = "pyscale_demo.wsgi:application"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_WSGI = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_GIT_URL = re.compile(r"^(https://|git@|ssh://)\S+$")
_HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Problem:
    """One bad setting: which key, what it held, what would have been accepted."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{NAMESPACE}:{self.key} = {self.value!r}: {self.allowed}"


class SettingsError(ValueError):
    """Every problem found in a stack's config, reported together."""

    def __init__(self, stack: str, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"stack '{stack}' has {len(problems)} invalid setting(s) "
            f"(fix them in Pulumi.{stack}.yaml or with `pulumi config set`):\n{lines}"
        )


@dataclass(frozen=True)
class DatabaseSettings:
    """Managed PostgreSQL: the primary cluster, its read replicas and the PgBouncer pool."""

    size: DatabaseSize
    version: str
    # Standby nodes in the primary cluster (high availability, not read capacity).
    standby_nodes: int
    read_replicas: int
    replica_region: str | None
    pool_mode: str
    maintenance_day: str
    maintenance_hour: str
    # OVHcloud only: the service plan that fixes the node count (primary + standbys).
    ovh_plan: str


@dataclass(frozen=True)
class CacheSettings:
    """Managed Valkey: Redis-compatible, used for cache and sessions."""

    size: CacheSize
    version: str
    eviction_policy: str | None  # None on OVHcloud, which does not expose it


@dataclass(frozen=True)
class AppSettings:
    """The WSGI application the nodes run; the embedded demo app when `repo` is unset."""

    repo: str | None
    ref: str
    module: str

    @property
    def is_demo(self) -> bool:
        return self.repo is None


@dataclass(frozen=True)
class AlertSettings:
    """Where monitoring alerts go. Slack webhooks are secrets and read by the wiring."""

    emails: tuple[str, ...]
    slack_channel: str | None
    cpu_percent: int
    memory_percent: int
    disk_percent: int


@dataclass(frozen=True)
class Settings:
    """Everything one stack asked for, validated."""

    stack: str
    cloud: str
    region: str
    environment: str
    target_concurrency: int
    node_size: MachineSize
    node_count: int | None
    domain: str | None
    tls: str
    certificate_name: str | None
    ssh_keys: tuple[str, ...]
    ssh_allow_cidrs: tuple[str, ...]
    vpc_cidr: str
    database: DatabaseSettings
    cache: CacheSettings
    app: AppSettings
    alerts: AlertSettings
    protect: bool
    backups: bool
    ovh_service_name: str | None = None

    @property
    def single_node(self) -> bool:
        """The dev topology: one node, no load balancer, Nginx faces the internet."""
        return self.node_count == 1

    @property
    def resource_prefix(self) -> str:
        return f"pyscale-{self.stack}"


# Defaults per environment: dev is one small node that terminates TLS itself; staging is a
# small cluster; prod is the source articles' 50,000-request topology.
ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "targetConcurrency": 2_000,
        "nodeCount": 1,
        "tls": "node",
        "vpcCidr": "10.112.0.0/20",
        "protect": False,
        "backups": False,
        "database": {"readReplicas": 0, "standbyNodes": 0, "ovhPlan": "essential"},
    },
    "staging": {
        "targetConcurrency": 10_000,
        "tls": "managed",
        "vpcCidr": "10.111.0.0/20",
        "protect": False,
        "backups": False,
        "database": {"readReplicas": 1, "standbyNodes": 0, "ovhPlan": "business"},
    },
    "prod": {
        "targetConcurrency": 50_000,
        "tls": "managed",
        "vpcCidr": "10.110.0.0/20",
        "protect": True,
        "backups": True,
        "database": {"readReplicas": 2, "standbyNodes": 1, "ovhPlan": "business"},
    },
}
TOP_LEVEL_KEYS = (
    "cloud",
    "region",
    "environment",
    "targetConcurrency",
    "nodeSize",
    "nodeCount",
    "domain",
    "tls",
    "certificateName",
    "sshKeys",
    "sshAllowCidrs",
    "vpcCidr",
    "database",
    "cache",
    "app",
    "alerts",
    "protect",
    "backups",
    "ovhServiceName",
)
# Secret keys are read as Pulumi secrets by the wiring, never into Settings.
SECRET_KEYS = ("alertSlackUrl",)
DATABASE_KEYS = (
    "size",
    "version",
    "standbyNodes",
    "readReplicas",
    "replicaRegion",
    "poolMode",
    "maintenanceDay",
    "maintenanceHour",
    "ovhPlan",
)
CACHE_KEYS = ("size", "version", "evictionPolicy")
APP_KEYS = ("repo", "ref", "module")
ALERT_KEYS = ("emails", "slackChannel", "cpuPercent", "memoryPercent", "diskPercent")
# DigitalOcean clusters have at most 3 nodes (primary + 2 standbys) and read replicas are
# separate clusters; we cap replicas where the connection budget math stays meaningful.
MAX_STANDBY_NODES = 2
MAX_READ_REPLICAS = 5


class _Reader:
    """Reads raw config values, recording a Problem instead of raising on each bad one."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def fail(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(Problem(key, value, allowed))

    def get(self, key: str, default: Any = None) -> Any:
        value = _lookup(self.raw, key)
        return default if value is None else value

    def integer(self, key: str, default: int | None, low: int, high: int | None = None) -> Any:
        value = self.get(key, default)
        if value is None:
            return None
        parsed = _as_int(value)
        allowed = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
        if parsed is None or parsed < low or (high is not None and parsed > high):
            self.fail(key, value, f"must be {allowed}")
            return default
        return parsed

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        self.fail(key, value, "must be true or false")
        return default

    def choice(self, key: str, default: str | None, allowed: tuple[str, ...]) -> Any:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # YAML reads `version: 17` as a number
        if value not in allowed:
            self.fail(key, value, f"must be one of {', '.join(allowed)}")
            return allowed[0]
        return value

    def text(self, key: str, default: str | None, pattern: re.Pattern[str], what: str) -> Any:
        value = self.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            self.fail(key, value, f"must be {what}")
            return default
        return value

    def strings(self, key: str, check: Callable[[str], bool], what: str) -> tuple[str, ...]:
        value = self.get(key, [])
        if isinstance(value, str):
            value = _decode(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, value, f"must be a list of {what}")
            return ()
        bad = [v for v in value if not check(v)]
        if bad:
            self.fail(key, bad if len(bad) > 1 else bad[0], f"each entry must be {what}")
            return tuple(v for v in value if check(v))
        return tuple(value)

    def sized(self, key: str, default: str, table: Mapping[str, Any], what: str) -> Any:
        value = self.get(key, default)
        if value not in table:
            self.fail(key, value, f"must be a known {what}: {', '.join(table)}")
            return table[default]
        return table[value]


def _decode(value: Any) -> Any:
    """Pulumi hands config to programs as strings; objects and lists arrive JSON-encoded."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _lookup(raw: Mapping[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = _decode(node)
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return _decode(node)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    return None


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


# DigitalOcean takes VPC ranges from RFC 1918 only, no larger than /16 and no smaller than
# /28; OVHcloud subnets accept the same. A range must also not overlap another VPC in the
# same account, which one stack cannot see: each environment has its own default range.
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _vpc_cidr_problem(value: Any) -> str | None:
    """Why `value` cannot be a VPC range, or None when it can."""
    allowed = "an RFC 1918 IPv4 CIDR from /16 to /28, such as 10.110.0.0/20"
    if not isinstance(value, str) or not _is_cidr(value):
        return f"must be {allowed}"
    network = ipaddress.ip_network(value)
    if network.version != 4 or not any(network.subnet_of(r) for r in _PRIVATE_RANGES):
        return f"is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16; must be {allowed}"
    if not 16 <= network.prefixlen <= 28:
        return f"has a /{network.prefixlen} prefix; must be {allowed}"
    return None


def _check_keys(reader: _Reader, raw: Mapping[str, Any]) -> None:
    """A misspelt key would otherwise be ignored silently and the default used."""
    nested = {"database": DATABASE_KEYS, "cache": CACHE_KEYS, "app": APP_KEYS, "alerts": ALERT_KEYS}
    for key in raw:
        if key not in TOP_LEVEL_KEYS and key not in SECRET_KEYS:
            reader.fail(
                key, raw[key], f"is not a pyscale setting; known: {', '.join(TOP_LEVEL_KEYS)}"
            )
    for key, allowed in nested.items():
        value = _lookup(raw, key)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            reader.fail(key, value, f"must be an object with keys {', '.join(allowed)}")
            continue
        for sub in value:
            if sub not in allowed:
                reader.fail(
                    f"{key}.{sub}", value[sub], f"is not a known key; known: {', '.join(allowed)}"
                )


def parse(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate one stack's `pyscale:` config (keys without the namespace) into Settings.

    Raises SettingsError listing every problem found.
    """
    reader = _Reader(raw)
    _check_keys(reader, raw)

    default_env = stack.split("-")[0] if stack.split("-")[0] in ENVIRONMENTS else "dev"
    environment = reader.choice("environment", default_env, ENVIRONMENTS)
    env_defaults = ENVIRONMENT_DEFAULTS[environment]
    cloud = reader.choice("cloud", "digitalocean", clouds.NAMES)
    provider = clouds.get(cloud)
    cloud_defaults = provider.defaults
    region = reader.choice("region", cloud_defaults.region, provider.catalog.regions)

    node_size = reader.sized(
        "nodeSize",
        cloud_defaults.node_size[environment],
        provider.catalog.machines,
        f"{cloud} node size",
    )
    node_count = reader.integer("nodeCount", env_defaults.get("nodeCount"), 1, 500)
    target = reader.integer("targetConcurrency", env_defaults["targetConcurrency"], 1, 10_000_000)

    domain = reader.text("domain", None, _DOMAIN, "a lower-case DNS name such as app.example.com")
    tls = reader.choice("tls", env_defaults["tls"], TLS_MODES)
    certificate_name = reader.get("certificateName")
    if tls in ("managed", "node") and domain is None:
        reader.fail(
            "tls",
            tls,
            "needs pyscale:domain (a certificate is issued for a name); "
            "set a domain or use tls: off",
        )
    if tls == "certificate" and not certificate_name:
        reader.fail(
            "certificateName",
            certificate_name,
            "must name an uploaded certificate when tls is 'certificate'",
        )
    if tls == "managed" and cloud == "ovh":
        reader.fail(
            "tls",
            tls,
            "OVHcloud has no managed Let's Encrypt on its load balancer; "
            "use 'certificate' (key manager) or 'node'",
        )
    if tls == "node" and node_count != 1:
        # Behind a load balancer the Let's Encrypt HTTP-01 check may reach another node,
        # and every node would ask for its own certificate.
        reader.fail(
            "tls",
            tls,
            "terminating TLS on the nodes needs pyscale:nodeCount: 1; "
            "a cluster uses 'managed' (DigitalOcean) or 'certificate'",
        )
    if tls == "managed" and node_count == 1:
        reader.fail(
            "tls",
            tls,
            "a single node has no load balancer to hold the certificate; use 'node' or 'off'",
        )

    ssh_keys = reader.strings("sshKeys", lambda v: bool(v.strip()), "SSH key fingerprints or names")
    ssh_cidrs = reader.strings("sshAllowCidrs", _is_cidr, "a CIDR such as 198.51.100.0/24")
    vpc_cidr = reader.get("vpcCidr", env_defaults["vpcCidr"])
    vpc_problem = _vpc_cidr_problem(vpc_cidr)
    if vpc_problem:
        reader.fail("vpcCidr", vpc_cidr, vpc_problem)
        vpc_cidr = env_defaults["vpcCidr"]

    db_defaults = env_defaults["database"]
    database = DatabaseSettings(
        size=reader.sized(
            "database.size",
            cloud_defaults.database_size[environment],
            provider.catalog.databases,
            f"{cloud} database size",
        ),
        version=str(reader.choice("database.version", "17", provider.catalog.database_versions)),
        standby_nodes=reader.integer(
            "database.standbyNodes", db_defaults["standbyNodes"], 0, MAX_STANDBY_NODES
        ),
        read_replicas=reader.integer(
            "database.readReplicas", db_defaults["readReplicas"], 0, MAX_READ_REPLICAS
        ),
        replica_region=reader.choice("database.replicaRegion", None, provider.catalog.regions),
        pool_mode=reader.choice("database.poolMode", "transaction", POOL_MODES),
        maintenance_day=reader.choice("database.maintenanceDay", "sunday", WEEKDAYS),
        maintenance_hour=reader.text(
            "database.maintenanceHour", "03:00", _HOUR, "a 24-hour time HH:MM such as 03:00"
        ),
        ovh_plan=reader.choice(
            "database.ovhPlan", db_defaults["ovhPlan"], tuple(OVH_DATABASE_PLANS)
        ),
    )
    if cloud == "digitalocean" and database.standby_nodes and database.size.memory_gib < 2:
        # DigitalOcean "Add standby nodes": standbys need a plan with at least 2 GB of RAM.
        reader.fail(
            "database.standbyNodes",
            database.standby_nodes,
            f"standby nodes need a database size with at least 2 GB; "
            f"{database.size.name} has {database.size.memory_gib} GB",
        )
    if cloud == "ovh":
        # OVHcloud serves reads from the plan's standby nodes: the plan fixes the replicas.
        standbys = OVH_DATABASE_PLANS[database.ovh_plan] - 1
        if reader.get("database.readReplicas") is None:
            database = replace(database, read_replicas=standbys)
        elif database.read_replicas > standbys:
            reader.fail(
                "database.readReplicas",
                database.read_replicas,
                f"OVHcloud plan '{database.ovh_plan}' has {standbys} standby node(s) to "
                "read from; raise database.ovhPlan (business: 1, enterprise: 2)",
            )
    cache = CacheSettings(
        size=reader.sized(
            "cache.size",
            cloud_defaults.cache_size[environment],
            provider.catalog.caches,
            f"{cloud} cache size",
        ),
        version=str(reader.choice("cache.version", "8", provider.catalog.cache_versions)),
        eviction_policy=reader.choice(
            "cache.evictionPolicy",
            "allkeys-lru" if cloud == "digitalocean" else None,
            EVICTION_POLICIES,
        ),
    )
    if cloud == "ovh" and cache.eviction_policy is not None:
        # OVHcloud's Valkey advanced parameters have no maxmemory-policy: refuse rather than
        # accept a setting that would silently not apply.
        reader.fail(
            "cache.evictionPolicy",
            cache.eviction_policy,
            "OVHcloud does not let clients set maxmemory-policy; remove the key "
            "(the app sets a TTL on every cache key)",
        )
    app = AppSettings(
        repo=reader.text("app.repo", None, _GIT_URL, "an https:// or ssh git URL"),
        ref=str(reader.get("app.ref", "main")),
        module=reader.text("app.module", DEMO_APP_MODULE, _WSGI, "a WSGI path module:callable"),
    )
    if app.repo is None and app.module != DEMO_APP_MODULE:
        reader.fail(
            "app.module",
            app.module,
            "needs pyscale:app.repo; without a repo the "
            f"embedded demo app ({DEMO_APP_MODULE}) is deployed",
        )
    alerts = AlertSettings(
        emails=reader.strings("alerts.emails", lambda v: "@" in v, "e-mail addresses"),
        slack_channel=reader.get("alerts.slackChannel"),
        cpu_percent=reader.integer("alerts.cpuPercent", 85, 1, 100),
        memory_percent=reader.integer("alerts.memoryPercent", 90, 1, 100),
        disk_percent=reader.integer("alerts.diskPercent", 85, 1, 100),
    )
    ovh_service_name = reader.get("ovhServiceName")
    if cloud == "ovh" and not ovh_service_name:
        reader.fail(
            "ovhServiceName",
            ovh_service_name,
            "must be your OVHcloud Public Cloud project id (32 hex characters)",
        )
    settings = Settings(
        stack=stack,
        cloud=cloud,
        region=region,
        environment=environment,
        target_concurrency=target,
        node_size=node_size,
        node_count=node_count,
        domain=domain,
        tls=tls,
        certificate_name=certificate_name,
        ssh_keys=ssh_keys,
        ssh_allow_cidrs=ssh_cidrs,
        vpc_cidr=vpc_cidr,
        database=database,
        cache=cache,
        app=app,
        alerts=alerts,
        protect=reader.boolean("protect", env_defaults["protect"]),
        backups=reader.boolean("backups", env_defaults["backups"]),
        ovh_service_name=ovh_service_name,
    )
    if reader.problems:
        raise SettingsError(stack, reader.problems)
    return settings


def from_pulumi_config(stack: str, config: Mapping[str, Any]) -> Settings:
    """Parse the engine's flat config map (`pyscale:key` -> string) for this project."""
    prefix = f"{NAMESPACE}:"
    return parse(stack, {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)})


def read_stack_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read Pulumi.<stack>.yaml into the engine's form: (config strings, secret keys).

    Encrypted values (`secure:`) cannot be decrypted offline; they become a placeholder and
    stay marked secret, which is all an offline plan needs.
    """
    document = yaml.safe_load(path.read_text()) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            config[key] = "[secret]"
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


def stack_names(root: Path) -> list[str]:
    """The stacks that have a `Pulumi.<stack>.yaml` in `root`, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def stack_config(stack: str, root: Path) -> tuple[dict[str, str], list[str]]:
    """The engine's view of `Pulumi.<stack>.yaml` in `root`: config strings and secret keys.
    A missing file is a SettingsError that lists the stacks there."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root))
        raise SettingsError(stack, [Problem("stack", stack, f"no {path.name}; stacks: {known}")])
    return read_stack_file(path)


def load(stack: str, root: Path) -> Settings:
    """Settings for a stack file in `root` (the CLI's and the tests' entry point)."""
    config, _ = stack_config(stack, root)
    return from_pulumi_config(stack, config)
