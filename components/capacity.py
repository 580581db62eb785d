"""The capacity model: one target concurrency in, one consistent chain of numbers out.

A Python service that holds 50,000 concurrent requests fails at its weakest link, and the
links are far apart: load-balancer size units, node count, Gunicorn workers and their
worker_connections, Gunicorn's listen backlog, Nginx's worker_connections and descriptor
limit, systemd's LimitNOFILE, the kernel's accept queues, the database's connection limit and
PgBouncer's pool, Valkey's maxclients. This module derives all of them from the settings and
then checks every link, so that a chain that cannot hold is refused at preview time with a
message naming the link, both numbers and the setting to change.

Pure Python: no Pulumi import, so it is unit-tested and reused by the local node run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from components import catalog
from components.settings import Settings

# Seed numbers (DESIGN.md, from the source articles and the tools' own defaults). The plan
# starts here and raises a number only when the target needs more.
SEED_WORKER_CONNECTIONS = 1000  # gunicorn's default for async workers
# Past this one gevent process spends its time scheduling greenlets and its accept loop
# falls behind: a fixed node count that needs more gets bigger nodes or more nodes instead.
MAX_WORKER_CONNECTIONS = 10_000
SEED_NOFILE = 65_536  # limits.conf and LimitNOFILE in the source articles
SEED_SOMAXCONN = 4096
SEED_SYN_BACKLOG = 2048
SEED_GUNICORN_BACKLOG = 2048  # gunicorn's default `backlog`
SEED_NGINX_WORKER_CONNECTIONS = 1024
MAX_REQUESTS = 10_000
MAX_REQUESTS_JITTER = 1_000
WORKER_TIMEOUT_S = 120
GRACEFUL_TIMEOUT_S = 120
# Gunicorn must keep an idle upstream connection open longer than Nginx's upstream
# keepalive_timeout, or Nginx reuses a socket Gunicorn is closing and the request fails.
NGINX_UPSTREAM_KEEPALIVE_TIMEOUT_S = 60
GUNICORN_KEEPALIVE_S = 75
# Linux: listen() backlogs are truncated to somaxconn, and kernels before 5.4 keep it in 16
# bits; staying at or under 65535 behaves the same everywhere.
MAX_BACKLOG = 65_535
# Linux default fs.nr_open: the most a process may raise RLIMIT_NOFILE to.
LINUX_NR_OPEN = 1_048_576
# Descriptors a Gunicorn worker holds besides client sockets: listeners, logs, pipes,
# database and cache pools, imported modules' files.
GUNICORN_FD_MARGIN = 1024
# Nginx's kernel balancing of accepts across workers is uneven under bursts; leave room.
NGINX_IMBALANCE = 1.25
# Load balancers are sized above the target: idle keep-alive client connections count too.
LB_HEADROOM = 1.2
# PostgreSQL connections kept out of the pool for migrations, monitoring and operators.
DB_RESERVED_FRACTION = 0.1
DB_MIN_RESERVED = 2
# PgBouncer client connections a managed pool accepts: OVHcloud documents 5,000 per pool
# (ovh/public-cloud-roadmap#146). DigitalOcean publishes no figure; we budget the same.
PGBOUNCER_MAX_CLIENT_CONN = 5_000
DB_POOL_PER_PROCESS_MAX = 10
CACHE_POOL_PER_PROCESS_MAX = 20
CACHE_CLIENT_FRACTION = 0.8  # of maxclients; the rest for operators and replication
# Memory per node (estimates from the local node benchmark, bench/): a gevent Gunicorn
# worker with the app loaded, and one in-flight request across Nginx, greenlet and buffers.
GUNICORN_WORKER_MIB = 60
PER_CONNECTION_KIB = 48
MEMORY_USABLE_FRACTION = 0.8


@dataclass(frozen=True)
class GunicornPlan:
    workers: int
    worker_class: str
    worker_connections: int
    backlog: int
    keepalive_s: int
    max_requests: int
    max_requests_jitter: int
    timeout_s: int
    graceful_timeout_s: int
    limit_nofile: int  # systemd LimitNOFILE for the service (per process)


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
    read_replicas: int
    read_connections_per_replica: int


@dataclass(frozen=True)
class CachePlan:
    size: str
    max_clients: int
    per_process_pool: int
    client_connections: int
    eviction_policy: str | None  # None: the provider does not let us set it (OVHcloud)


@dataclass(frozen=True)
class LoadBalancerPlan:
    enabled: bool
    size: str  # DigitalOcean: size units as a string; OVHcloud: flavor name; "" when disabled
    size_unit: int  # DigitalOcean size_unit (0 elsewhere)
    max_connections: int
    health_check_path: str = "/healthz"


@dataclass(frozen=True)
class Check:
    """One link of the chain: `have` must be >= `need`."""

    link: str
    have: int
    need: int
    setting: str

    @property
    def ok(self) -> bool:
        return self.have >= self.need

    def __str__(self) -> str:
        verdict = "holds" if self.ok else "BROKEN"
        return f"{self.link}: {self.have} >= {self.need} {verdict} (change {self.setting})"


class CapacityError(ValueError):
    """A plan whose chain cannot hold: lists every broken link."""

    def __init__(self, broken: list[Check]) -> None:
        self.broken = broken
        lines = "\n".join(
            f"  - {c.link}: have {c.have}, need {c.need}; change {c.setting}" for c in broken
        )
        super().__init__(f"capacity plan does not hold ({len(broken)} broken link(s)):\n{lines}")


@dataclass(frozen=True)
class CapacityPlan:
    target_concurrency: int
    nodes: int
    vcpus: int
    memory_gib: int
    per_node_concurrency: int  # what one node's Gunicorn accepts: workers x worker_connections
    per_node_load: int  # what one node must hold with one node down (N+1)
    gunicorn: GunicornPlan
    nginx: NginxPlan
    kernel: KernelPlan
    database: DatabasePlan
    cache: CachePlan
    load_balancer: LoadBalancerPlan

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


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _node_count(settings: Settings, per_node: int) -> int:
    if settings.node_count is not None:
        return settings.node_count
    # N+1: enough nodes for the target, plus one so that losing a node (or replacing one
    # during a deploy) still leaves the target covered.
    return _ceil_div(settings.target_concurrency, per_node) + 1


def plan(settings: Settings, max_process_nofile: int = LINUX_NR_OPEN) -> CapacityPlan:
    """Derive and check the plan. `max_process_nofile` is the host's per-process descriptor
    ceiling: a cloud node's is fs.nr_open; a local run passes its own (the local node uses
    this to derive a smaller plan through the same model rather than edit files by hand).

    Raises CapacityError when a link cannot hold.
    """
    vcpus = settings.node_size.vcpus
    workers = 2 * vcpus + 1
    seed_capacity = workers * SEED_WORKER_CONNECTIONS
    nodes = _node_count(settings, seed_capacity)
    per_node_load = _ceil_div(settings.target_concurrency, max(nodes - 1, 1))
    # Raise worker_connections only when a fixed node count makes each node hold more.
    worker_connections = min(
        MAX_WORKER_CONNECTIONS, max(SEED_WORKER_CONNECTIONS, _ceil_div(per_node_load, workers))
    )
    per_node = workers * worker_connections

    backlog = min(MAX_BACKLOG, max(SEED_GUNICORN_BACKLOG, per_node))
    somaxconn = max(SEED_SOMAXCONN, backlog)

    # Every proxied request holds two Nginx connections (client and upstream); idle cached
    # upstream connections come on top, and accepts are not spread perfectly.
    nginx_total = math.ceil(2 * per_node * NGINX_IMBALANCE)
    nginx_workers = max(vcpus, _ceil_div(2 * nginx_total, max_process_nofile))
    upstream_keepalive = per_node // nginx_workers
    nginx_wc = max(SEED_NGINX_WORKER_CONNECTIONS, _ceil_div(nginx_total, nginx_workers))
    nginx_rlimit = min(max_process_nofile, max(SEED_NOFILE, 2 * nginx_wc))

    gunicorn_nofile = min(
        max_process_nofile, max(SEED_NOFILE, worker_connections + GUNICORN_FD_MARGIN)
    )
    nofile = max(SEED_NOFILE, gunicorn_nofile, nginx_rlimit)
    file_max = 2 * (nginx_workers * nginx_rlimit + workers * gunicorn_nofile)

    kernel = KernelPlan(
        somaxconn=somaxconn,
        tcp_max_syn_backlog=max(SEED_SYN_BACKLOG, backlog),
        ip_local_port_range=(1024, 65535),
        tcp_fin_timeout=30,
        tcp_tw_reuse=1,
        tcp_keepalive_time=600,
        tcp_keepalive_intvl=15,
        tcp_keepalive_probes=5,
        file_max=max(2_097_152, file_max),
        nr_open=max(LINUX_NR_OPEN, nofile)
        if max_process_nofile >= LINUX_NR_OPEN
        else max_process_nofile,
        nofile=min(nofile, max_process_nofile),
    )
    gunicorn = GunicornPlan(
        workers=workers,
        worker_class="gevent",
        worker_connections=worker_connections,
        backlog=backlog,
        keepalive_s=GUNICORN_KEEPALIVE_S,
        max_requests=MAX_REQUESTS,
        max_requests_jitter=MAX_REQUESTS_JITTER,
        timeout_s=WORKER_TIMEOUT_S,
        graceful_timeout_s=GRACEFUL_TIMEOUT_S,
        limit_nofile=gunicorn_nofile,
    )
    nginx = NginxPlan(
        worker_processes=nginx_workers,
        worker_connections=nginx_wc,
        worker_rlimit_nofile=nginx_rlimit,
        listen_backlog=somaxconn,
        upstream_keepalive=upstream_keepalive,
        upstream_keepalive_timeout_s=NGINX_UPSTREAM_KEEPALIVE_TIMEOUT_S,
        limit_nofile=nginx_rlimit,
    )
    result = CapacityPlan(
        target_concurrency=settings.target_concurrency,
        nodes=nodes,
        vcpus=vcpus,
        memory_gib=settings.node_size.memory_gib,
        per_node_concurrency=per_node,
        per_node_load=per_node_load,
        gunicorn=gunicorn,
        nginx=nginx,
        kernel=kernel,
        database=_database(settings, nodes * workers),
        cache=_cache(settings, nodes * workers),
        load_balancer=_load_balancer(settings, nodes),
    )
    broken = [c for c in checks(result) if not c.ok]
    if broken:
        raise CapacityError(broken)
    return result


def _database(settings: Settings, processes: int) -> DatabasePlan:
    db = settings.database
    limit = db.size.max_connections
    reserved = max(DB_MIN_RESERVED, math.ceil(limit * DB_RESERVED_FRACTION))
    pool_size = max(1, limit - reserved)
    if db.pool_mode == "session":
        # A session-mode client holds its server connection for life: clients <= pool.
        max_clients = pool_size
    else:
        max_clients = PGBOUNCER_MAX_CLIENT_CONN
    per_process = max(1, min(DB_POOL_PER_PROCESS_MAX, max_clients // processes))
    replicas = db.read_replicas
    # DigitalOcean: one URI per replica, each worker reads from one (chosen by process), so
    # replicas share the fleet. OVHcloud: one read-only endpoint in front of every standby,
    # so in the worst case every reader lands on the same standby.
    endpoints = replicas if settings.cloud == "digitalocean" else min(replicas, 1)
    readers_per_replica = _ceil_div(processes, endpoints) if replicas else 0
    per_process_read = (
        max(1, min(DB_POOL_PER_PROCESS_MAX, pool_size // readers_per_replica)) if replicas else 0
    )
    return DatabasePlan(
        size=db.size.name,
        max_connections=limit,
        reserved=reserved,
        pool_mode=db.pool_mode,
        pool_size=pool_size,
        pool_max_clients=max_clients,
        per_process_pool=per_process,
        per_process_read_pool=per_process_read,
        app_connections=processes * per_process,
        read_replicas=replicas,
        read_connections_per_replica=readers_per_replica * per_process_read,
    )


def _cache(settings: Settings, processes: int) -> CachePlan:
    size = settings.cache.size
    budget = int(size.max_clients * CACHE_CLIENT_FRACTION)
    per_process = max(1, min(CACHE_POOL_PER_PROCESS_MAX, budget // processes))
    return CachePlan(
        size=size.name,
        max_clients=size.max_clients,
        per_process_pool=per_process,
        client_connections=processes * per_process,
        eviction_policy=settings.cache.eviction_policy,
    )


def _load_balancer(settings: Settings, nodes: int) -> LoadBalancerPlan:
    if nodes == 1:
        return LoadBalancerPlan(enabled=False, size="", size_unit=0, max_connections=0)
    wanted = math.ceil(settings.target_concurrency * LB_HEADROOM)
    if settings.cloud == "digitalocean":
        units = _ceil_div(wanted, catalog.DO_LB_UNIT.max_connections)
        return LoadBalancerPlan(
            enabled=True,
            size=str(units),
            size_unit=units,
            max_connections=units * catalog.DO_LB_UNIT.max_connections,
        )
    flavor = next(
        (f for f in catalog.OVH_LB_FLAVORS if f.max_connections >= wanted),
        catalog.OVH_LB_FLAVORS[-1],
    )
    return LoadBalancerPlan(
        enabled=True, size=flavor.name, size_unit=0, max_connections=flavor.max_connections
    )


def checks(p: CapacityPlan) -> list[Check]:
    """Every link of the chain, as numbers. A plan holds when every check is ok."""
    g, n, k, db, c, lb = p.gunicorn, p.nginx, p.kernel, p.database, p.cache, p.load_balancer
    result = [
        Check(
            "fleet capacity with one node down (N+1)",
            p.capacity_one_node_down,
            p.target_concurrency,
            "pyscale:nodeCount or pyscale:nodeSize",
        ),
        Check(
            "gunicorn workers x worker_connections >= per-node load",
            p.per_node_concurrency,
            p.per_node_load,
            "pyscale:nodeSize",
        ),
        Check(
            "gunicorn listen backlog >= per-node load burst",
            g.backlog,
            min(p.per_node_load, MAX_BACKLOG),
            "pyscale:nodeSize or nodeCount",
        ),
        Check(
            "net.core.somaxconn >= gunicorn backlog (the kernel truncates it)",
            k.somaxconn,
            g.backlog,
            "capacity.SEED_SOMAXCONN",
        ),
        Check(
            "net.core.somaxconn >= nginx listen backlog",
            k.somaxconn,
            n.listen_backlog,
            "capacity.SEED_SOMAXCONN",
        ),
        Check(
            "net.ipv4.tcp_max_syn_backlog >= gunicorn backlog",
            k.tcp_max_syn_backlog,
            g.backlog,
            "capacity.SEED_SYN_BACKLOG",
        ),
        Check(
            "nginx connections >= 2 x per-node concurrency (client + upstream)",
            n.worker_processes * n.worker_connections,
            2 * p.per_node_concurrency,
            "pyscale:nodeSize",
        ),
        Check(
            "nginx worker_rlimit_nofile >= 2 x worker_connections",
            n.worker_rlimit_nofile,
            2 * n.worker_connections,
            "pyscale:nodeSize",
        ),
        Check(
            "nginx upstream keepalive pool <= gunicorn connections",
            p.per_node_concurrency,
            n.worker_processes * n.upstream_keepalive,
            "pyscale:nodeSize",
        ),
        Check(
            "gunicorn LimitNOFILE >= worker_connections + margin",
            g.limit_nofile,
            g.worker_connections + GUNICORN_FD_MARGIN,
            "pyscale:nodeSize",
        ),
        Check(
            "limits.conf nofile >= gunicorn LimitNOFILE",
            k.nofile,
            g.limit_nofile,
            "capacity.SEED_NOFILE",
        ),
        Check(
            "fs.nr_open >= largest per-process limit",
            k.nr_open,
            max(g.limit_nofile, n.worker_rlimit_nofile),
            "capacity.LINUX_NR_OPEN",
        ),
        Check(
            "fs.file-max >= every process's descriptor limit",
            k.file_max,
            n.worker_processes * n.worker_rlimit_nofile + g.workers * g.limit_nofile,
            "capacity.plan",
        ),
        Check(
            "gunicorn keepalive > nginx upstream keepalive_timeout",
            g.keepalive_s,
            n.upstream_keepalive_timeout_s + 1,
            "capacity.GUNICORN_KEEPALIVE_S",
        ),
        Check(
            "ephemeral ports >= outbound connections per node (database + cache)",
            k.ip_local_port_range[1] - k.ip_local_port_range[0] + 1,
            g.workers * (db.per_process_pool + db.per_process_read_pool + c.per_process_pool),
            "capacity.KernelPlan.ip_local_port_range",
        ),
        Check(
            "database pool size <= server connections - reserved",
            db.max_connections - db.reserved,
            db.pool_size,
            "pyscale:database.size",
        ),
        Check(
            "database clients (nodes x workers x pool) <= PgBouncer clients",
            db.pool_max_clients,
            db.app_connections,
            "pyscale:database.size or pyscale:database.poolMode",
        ),
        Check(
            "cache clients (nodes x workers x pool) <= maxclients",
            c.max_clients,
            c.client_connections,
            "pyscale:cache.size",
        ),
        Check(
            "node memory >= workers + in-flight connections",
            int(p.memory_gib * 1024 * MEMORY_USABLE_FRACTION),
            g.workers * GUNICORN_WORKER_MIB + p.per_node_concurrency * PER_CONNECTION_KIB // 1024,
            "pyscale:nodeSize",
        ),
    ]
    if db.read_replicas:
        result.append(
            Check(
                "read clients per replica <= replica connections - reserved",
                db.max_connections - db.reserved,
                db.read_connections_per_replica,
                "pyscale:database.size or pyscale:database.readReplicas",
            )
        )
    if lb.enabled:
        result.append(
            Check(
                "load balancer connections >= target",
                lb.max_connections,
                p.target_concurrency,
                "pyscale:targetConcurrency",
            )
        )
        if lb.size_unit:
            result.append(
                Check(
                    "load balancer size_unit <= provider maximum",
                    catalog.DO_LB_MAX_UNITS,
                    lb.size_unit,
                    "pyscale:targetConcurrency",
                )
            )
    return result
