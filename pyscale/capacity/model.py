"""The capacity plan as data: every number a node, the load balancer and the data stores
get, grouped by what reads them. Derived by `pyscale.capacity.plan`, checked by
`pyscale.capacity.checks`; frozen, so one plan object is read everywhere (offline plan,
rendering, the local node, the benchmark's prediction) and never recomputed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyscale.capacity.checks import checks
from pyscale.capacity.throughput import ThroughputPlan
from pyscale.rollout.plan import RolloutPlan

if TYPE_CHECKING:
    from pyscale.capacity.autoscale import AutoscalePlan
    from pyscale.capacity.pods import PodPlan


@dataclass(frozen=True)
class GunicornPlan:
    workers: int
    interface: str  # app.interface: wsgi (gevent) or asgi (uvicorn)
    worker_class: str
    worker_connections: int
    backlog: int
    keepalive_s: int
    max_requests: int  # a worker's requests before it is recycled
    # The first generation's worker k (0-based) waits k x this many requests more, so that
    # the workers' restarts are spread evenly instead of random jitter clustering them.
    max_requests_stagger: int
    # Seconds between two workers' restarts at the node's CPU ceiling, with equal load.
    restart_spacing_s: float
    timeout_s: int
    graceful_timeout_s: int
    limit_nofile: int  # systemd LimitNOFILE for the service (per process)

    @property
    def server(self) -> str:
        """What serves each worker's concurrent requests, for people."""
        return "gevent" if self.interface == "wsgi" else "uvicorn"


@dataclass(frozen=True)
class NginxPlan:
    worker_processes: int
    worker_connections: int
    worker_rlimit_nofile: int
    listen_backlog: int
    upstream_keepalive: int  # idle upstream connections cached per worker
    upstream_keepalive_timeout_s: int
    limit_nofile: int  # systemd LimitNOFILE for nginx.service (the master)


@dataclass(frozen=True)
class EdgePlan:
    """What one client address may take of one node (Nginx limit_conn and limit_req).

    Counted after the real-IP module, so behind the load balancer each client is itself;
    the VPC, loopback and `exempt_cidrs` are not counted. 0 turns a limit off."""

    client_concurrency: int  # requests one client may have in flight on this node
    client_rate: int  # requests/s one client may send this node, sustained
    client_burst: int  # requests above the rate let through at once before 429
    zone_mb: int  # each shared-memory zone: a state per client address in flight
    exempt_cidrs: tuple[str, ...]
    # The demo app's /db, /cache and /io answer the VPC and loopback only (404 elsewhere).
    private_demo_routes: bool


@dataclass(frozen=True)
class KernelPlan:
    somaxconn: int
    tcp_max_syn_backlog: int
    ip_local_port_range: tuple[int, int]
    tcp_fin_timeout: int
    tcp_tw_reuse: int
    tcp_keepalive_time: int
    tcp_keepalive_intvl: int
    tcp_keepalive_probes: int
    file_max: int
    nr_open: int
    nofile: int  # limits.conf soft and hard nofile for every user

    def sysctls(self) -> dict[str, str]:
        """The sysctl file's content, in a stable order (user-data must be deterministic)."""
        low, high = self.ip_local_port_range
        return {
            "fs.file-max": str(self.file_max),
            "fs.nr_open": str(self.nr_open),
            "net.core.somaxconn": str(self.somaxconn),
            "net.ipv4.tcp_max_syn_backlog": str(self.tcp_max_syn_backlog),
            "net.ipv4.ip_local_port_range": f"{low} {high}",
            "net.ipv4.tcp_fin_timeout": str(self.tcp_fin_timeout),
            "net.ipv4.tcp_tw_reuse": str(self.tcp_tw_reuse),
            "net.ipv4.tcp_keepalive_time": str(self.tcp_keepalive_time),
            "net.ipv4.tcp_keepalive_intvl": str(self.tcp_keepalive_intvl),
            "net.ipv4.tcp_keepalive_probes": str(self.tcp_keepalive_probes),
        }


@dataclass(frozen=True)
class DatabasePlan:
    size: str
    max_connections: int  # what the server admits (per cluster node)
    reserved: int  # kept out of the pool
    pool_mode: str
    pool_size: int  # PgBouncer server connections for the app
    pool_max_clients: int  # client connections PgBouncer accepts
    per_process_pool: int  # each Gunicorn worker's write pool (to the primary's PgBouncer)
    per_process_read_pool: int  # each worker's pool to one read replica
    app_connections: int  # write clients from every worker of every node
    # ... while a rollout batch's old and new nodes are up together (the pools are sized
    # for this peak, so a rollout never needs a smaller pool than steady state)
    rollout_connections: int
    read_replicas: int
    read_connections_per_replica: int


@dataclass(frozen=True)
class CachePlan:
    size: str
    max_clients: int
    per_process_pool: int
    client_connections: int
    rollout_client_connections: int  # old and new nodes of a rollout batch together
    eviction_policy: str | None  # None: the provider does not let us set it (OVHcloud)
    engine_eviction_policy: str  # what the managed engine runs with when nobody sets one

    @property
    def runs_with(self) -> str:
        """The maxmemory-policy the cache really has: ours, else the engine's."""
        return self.eviction_policy or self.engine_eviction_policy


@dataclass(frozen=True)
class LoadBalancerPlan:
    enabled: bool
    size: str  # DigitalOcean: size units as a string; OVHcloud: flavor name; "" when disabled
    size_unit: int  # DigitalOcean size_unit (0 elsewhere)
    max_connections: int
    max_size_unit: int = 0  # the provider's ceiling on size_unit (0: it sizes by flavor)
    # What the chosen size forwards per second, as the provider states it (0 when disabled):
    # requests, and new TLS connections it terminates.
    requests_per_second: int = 0
    new_tls_per_second: int = 0
    health_check_path: str = "/healthz"


@dataclass(frozen=True)
class CapacityPlan:
    target_concurrency: int
    nodes: int
    vcpus: int
    memory_gib: int
    per_node_concurrency: int  # what one node's Gunicorn accepts: workers x worker_connections
    per_node_load: int  # what one node must hold with one node down (N+1)
    # The most nodes the cloud's wiring admits (DigitalOcean: the databases' trusted
    # sources); None where the cloud sets no such ceiling.
    max_nodes: int | None
    gunicorn: GunicornPlan
    nginx: NginxPlan
    edge: EdgePlan
    kernel: KernelPlan
    database: DatabasePlan
    cache: CachePlan
    load_balancer: LoadBalancerPlan
    throughput: ThroughputPlan
    rollout: RolloutPlan
    # platform: kubernetes: the app pods the node pool runs (None on VMs). Then `gunicorn`,
    # `nginx`, `edge` and `kernel` are a whole node's share, which no file on a node carries.
    pods: PodPlan | None = None
    # autoscale.enabled: the pool's bounds; then `nodes` is its maximum and
    # `target_concurrency` the peak it holds there (pyscale/capacity/autoscale.py).
    autoscale: AutoscalePlan | None = None

    @property
    def min_nodes(self) -> int:
        """The fewest nodes that serve: the pool's minimum, else the fixed count."""
        return self.autoscale.min_nodes if self.autoscale else self.nodes

    @property
    def baseline_concurrency(self) -> int:
        """targetConcurrency: what `min_nodes` hold with one node down."""
        return self.autoscale.baseline_concurrency if self.autoscale else self.target_concurrency

    @property
    def capacity_one_node_down(self) -> int:
        """What the fleet holds with one node lost (N+1); a single node counts as itself."""
        return max(self.nodes - 1, 1) * self.per_node_concurrency

    @property
    def processes(self) -> int:
        """Gunicorn worker processes across the fleet: each holds its own pools."""
        return self.nodes * self.gunicorn.workers

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"checks": [dataclasses.asdict(c) for c in checks(self)]}
