"""The validated settings of one stack, as the rest of pyscale reads them.

The fields mirror the declarations (pyscale/settings/declarations.py): `database.readReplicas`
is `Settings.database.read_replicas`. The parser builds these from the declared keys, so a
field without a declaration (or the reverse) fails at the first parse, not in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyscale import nodeos
from pyscale.clouds.base import CacheSize, DatabaseSize, MachineSize
from pyscale.nodeos import NodeOS


@dataclass(frozen=True)
class WorkloadSettings:
    """What one request costs: the capacity plan sizes CPU, the load balancer's request and
    TLS rates and the database's query rate from it, not just connection slots."""

    latency_ms: int  # mean time in flight, mostly I/O wait
    cpu_ms: float  # CPU on one core per request, node-wide
    requests_per_connection: int  # keep-alive reuse
    queries_per_request: float  # database round trips, on average
    cache_ops_per_request: float  # Valkey commands, on average

    def rps(self, concurrency: int) -> int:
        """Little's law: the requests/s that keep `concurrency` requests in flight."""
        return -(-concurrency * 1000 // self.latency_ms)


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
    """The application the nodes run; the embedded demo app when `repo` is unset."""

    repo: str | None
    ref: str
    access_log: str  # sampled, nginx, both (Gunicorn too) or off
    interface: str  # wsgi (gevent) or asgi (uvicorn)
    module: str

    @property
    def is_demo(self) -> bool:
        return self.repo is None


@dataclass(frozen=True)
class RolloutSettings:
    """How nodes are replaced: batch size (None: the plan's spare nodes), how long a new
    node has to pass the load balancer's health check, how long a leaving one drains."""

    batch_size: int | None
    health_timeout_seconds: int
    drain_seconds: int | None  # None: the load balancer's detection time + the requests' tail


@dataclass(frozen=True)
class EdgeSettings:
    """The node's Nginx edge: what one client address may take of a node (None: the plan's
    share of the node), and compression."""

    client_concurrency: int | None
    client_rate: int | None
    exempt_cidrs: tuple[str, ...]
    brotli: bool  # Brotli next to gzip (the node installs Nginx's Brotli modules)


@dataclass(frozen=True)
class AlertSettings:
    """Where monitoring alerts go. Slack webhooks are secrets and read by the wiring."""

    emails: tuple[str, ...]
    slack_channel: str | None
    smtp_smarthost: str | None  # host:port of the relay the monitoring node e-mails through
    smtp_from: str | None
    smtp_username: str | None  # the password is the secret alertSmtpPassword
    cpu_percent: int
    memory_percent: int
    disk_percent: int
    error_percent: float


@dataclass(frozen=True)
class MonitoringSettings:
    """The monitoring node: whether the stack runs one, its size, who reaches it."""

    node: bool
    size: MachineSize
    admin_cidrs: tuple[str, ...]
    retention_days: int


@dataclass(frozen=True)
class KubernetesSettings:
    """The managed cluster and the app's pods (platform: kubernetes)."""

    version: str  # minor, such as "1.33": the cloud applies the patch releases
    image: str | None  # the app's image, pinned by tag or digest
    pod_vcpus: int


@dataclass(frozen=True)
class AutoscaleSettings:
    """A fleet that scales itself (autoscale.enabled); each bound or target left None is the
    capacity plan's to decide (pyscale/capacity/autoscale.py)."""

    enabled: bool
    min_nodes: int | None
    max_nodes: int | None
    peak_concurrency: int | None
    cpu_target: float | None  # 0.05-1
    memory_target: float | None  # 0.05-1; None: memory is not a scaling metric
    cooldown_minutes: int | None


@dataclass(frozen=True)
class Settings:
    """Everything one stack asked for, validated."""

    stack: str
    cloud: str
    region: str
    environment: str
    target_concurrency: int
    node_size: MachineSize
    node_image: str  # a pyscale/nodeos.py key; the cloud's catalog maps it to its image
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
    monitoring: MonitoringSettings
    workload: WorkloadSettings
    rollout: RolloutSettings
    edge: EdgeSettings
    platform: str  # vms or kubernetes
    kubernetes: KubernetesSettings
    autoscale: AutoscaleSettings
    protect: bool
    backups: bool
    ovh_service_name: str | None = None

    @property
    def single_node(self) -> bool:
        """The dev topology: one node, no load balancer, Nginx faces the internet."""
        return self.node_count == 1

    @property
    def on_kubernetes(self) -> bool:
        """The app runs as pods on the cloud's managed Kubernetes, not on booted nodes."""
        return self.platform == "kubernetes"

    @property
    def resource_prefix(self) -> str:
        return f"pyscale-{self.stack}"

    @property
    def node_os(self) -> NodeOS:
        """The operating system the nodes boot: what their files are rendered for."""
        return nodeos.get(self.node_image)


# The dataclass each group of dotted keys (`database.*`) fills.
GROUP_MODELS: dict[str, type] = {
    "database": DatabaseSettings,
    "cache": CacheSettings,
    "app": AppSettings,
    "alerts": AlertSettings,
    "monitoring": MonitoringSettings,
    "workload": WorkloadSettings,
    "rollout": RolloutSettings,
    "edge": EdgeSettings,
    "kubernetes": KubernetesSettings,
    "autoscale": AutoscaleSettings,
}


def field_name(key: str) -> str:
    """The dataclass field of a declared key's last part: `readReplicas` -> `read_replicas`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key.rpartition(".")[2]).lower()


def build(stack: str, values: dict[str, object]) -> Settings:
    """Settings from every declared, non-secret value by dotted key (all validated)."""
    top: dict[str, object] = {}
    groups: dict[str, dict[str, object]] = {name: {} for name in GROUP_MODELS}
    for key, value in values.items():
        group, _, _ = key.rpartition(".")
        (groups[group] if group else top)[field_name(key)] = value
    nested = {name: model(**groups[name]) for name, model in GROUP_MODELS.items()}
    return Settings(stack=stack, **top, **nested)
