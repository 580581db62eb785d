"""Derive the plan: node count, Gunicorn, Nginx, kernel, database, cache and load balancer
from the settings and the cloud's catalog, then refuse it when a link cannot hold."""

from __future__ import annotations

import dataclasses
import math

from pyscale import clouds
from pyscale.capacity import autoscale, pods, throughput
from pyscale.capacity.checks import CapacityError, checks, read_budget, rollout_budgets
from pyscale.capacity.model import (
    CachePlan,
    CapacityPlan,
    DatabasePlan,
    EdgePlan,
    GunicornPlan,
    KernelPlan,
    LoadBalancerPlan,
    NginxPlan,
)
from pyscale.capacity.seeds import (
    CACHE_CLIENT_FRACTION,
    CACHE_POOL_PER_PROCESS_MAX,
    CLIENT_SHARE,
    CLIENT_STATE_BYTES,
    DB_MIN_RESERVED,
    DB_POOL_PER_PROCESS_MAX,
    DB_RESERVED_FRACTION,
    GEVENT_WORKERS_PER_CORE,
    GRACEFUL_TIMEOUT_S,
    GUNICORN_FD_MARGIN,
    GUNICORN_KEEPALIVE_S,
    LINUX_NR_OPEN,
    MAX_BACKLOG,
    MAX_REQUESTS,
    MAX_WORKER_CONNECTIONS,
    NGINX_IMBALANCE,
    NGINX_UPSTREAM_KEEPALIVE_TIMEOUT_S,
    PGBOUNCER_MAX_CLIENT_CONN,
    RECYCLE_S,
    SEED_GUNICORN_BACKLOG,
    SEED_NGINX_WORKER_CONNECTIONS,
    SEED_NOFILE,
    SEED_SOMAXCONN,
    SEED_SYN_BACKLOG,
    UPSTREAM_IDLE_SHARE,
    WORKER_CLASSES,
    WORKER_CONNECTIONS,
    WORKER_TIMEOUT_S,
)
from pyscale.clouds.base import LoadBalancerChoice
from pyscale.rollout import RolloutPlan, rollout_plan
from pyscale.settings import Settings


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _max_nodes(settings: Settings) -> int | None:
    """The most web nodes the cloud admits (catalog max_nodes), less the monitoring node,
    which takes a place of its own where the limit counts droplets."""
    limit = clouds.get(settings.cloud).catalog.max_nodes
    if settings.on_kubernetes:
        return None  # the data stores trust the cluster as one source, whatever its size
    return limit.value - int(settings.monitoring.node) if limit else None


def plan(
    settings: Settings, max_process_nofile: int = LINUX_NR_OPEN, throughput_holds: bool = True
) -> CapacityPlan:
    """Derive and check the plan. `max_process_nofile` is the host's per-process descriptor
    ceiling: a cloud node's is fs.nr_open; a local run passes its own (the local node uses
    this to derive a smaller plan through the same model rather than edit files by hand).

    Raises CapacityError when a link cannot hold; with `throughput_holds` False, only when a
    connection-slot link cannot (a local node on a smaller machine runs the stack's files but
    cannot finish its requests/s: its checks still show which throughput links break).

    A fleet that scales itself (autoscale.enabled) is derived at its maximum, for the peak
    (pyscale/capacity/autoscale.py): every budget is checked there.
    """

    def derive(chosen: Settings) -> CapacityPlan:
        return _derive(chosen, max_process_nofile)

    if settings.autoscale.enabled:
        result = autoscale.pool_plan(settings, derive)
    else:
        result = derive(settings)
    broken = [c for c in checks(result) if not c.ok and (throughput_holds or not c.throughput)]
    if broken:
        raise CapacityError(broken)
    return result


def _derive(settings: Settings, max_process_nofile: int) -> CapacityPlan:
    """The plan's numbers for `settings`' node count (or the N+1 count for its target),
    unchecked."""
    vcpus = throughput.app_vcpus(settings)
    workers = GEVENT_WORKERS_PER_CORE * vcpus
    seed_capacity = workers * WORKER_CONNECTIONS
    # N+1: enough nodes for the target's connections and its requests/s, plus one so that
    # losing a node (or replacing one during a deploy) still leaves the target covered.
    counted = throughput.node_count(settings, seed_capacity)
    nodes = counted[0]
    per_node_load = _ceil_div(settings.target_concurrency, max(nodes - 1, 1))
    # Raise worker_connections only when a fixed node count makes each node hold more.
    worker_connections = min(
        MAX_WORKER_CONNECTIONS, max(WORKER_CONNECTIONS, _ceil_div(per_node_load, workers))
    )
    per_node = workers * worker_connections

    backlog = min(MAX_BACKLOG, max(SEED_GUNICORN_BACKLOG, per_node))
    somaxconn = max(SEED_SOMAXCONN, backlog)

    # Every proxied request holds two Nginx connections (client and upstream); idle cached
    # upstream connections come on top, and accepts are not spread perfectly.
    nginx_total = math.ceil(2 * per_node * NGINX_IMBALANCE)
    nginx_workers = max(vcpus, _ceil_div(2 * nginx_total, max_process_nofile))
    upstream_keepalive = math.floor(per_node * UPSTREAM_IDLE_SHARE) // nginx_workers
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
    # Recycling from the node's CPU ceiling: each worker's share of it for RECYCLE_S.
    node_rps = throughput.node_rps_ceiling(vcpus, settings.workload.cpu_ms)
    worker_rps = node_rps / workers
    max_requests = max(MAX_REQUESTS, math.ceil(worker_rps * RECYCLE_S))
    stagger = math.ceil(max_requests / workers)
    gunicorn = GunicornPlan(
        workers=workers,
        interface=settings.app.interface,
        worker_class=WORKER_CLASSES[settings.app.interface],
        worker_connections=worker_connections,
        backlog=backlog,
        keepalive_s=GUNICORN_KEEPALIVE_S,
        max_requests=max_requests,
        max_requests_stagger=stagger,
        restart_spacing_s=round(stagger / worker_rps, 1),
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
    edge = _edge(settings, per_node, node_rps)
    # On Kubernetes the gateway's Service always gets the cloud's load balancer.
    lb = (
        clouds.get(settings.cloud).load_balancer(throughput.load_balancer_demand(settings))
        if nodes > 1 or settings.on_kubernetes
        else None
    )
    rollout, database, cache = _rollout(settings, nodes, max(counted[1], counted[2]), workers, lb)
    result = CapacityPlan(
        target_concurrency=settings.target_concurrency,
        nodes=nodes,
        vcpus=vcpus,
        memory_gib=settings.node_size.memory_gib,
        per_node_concurrency=per_node,
        per_node_load=per_node_load,
        max_nodes=_max_nodes(settings),
        gunicorn=gunicorn,
        nginx=nginx,
        edge=edge,
        kernel=kernel,
        database=database,
        cache=cache,
        load_balancer=_load_balancer(lb),
        throughput=throughput.plan_throughput(settings, counted, per_node, lb),
        rollout=rollout,
    )
    if settings.on_kubernetes:
        result = dataclasses.replace(
            result,
            pods=pods.pod_plan(
                settings,
                nodes=nodes,
                node_gunicorn=gunicorn,
                kernel=kernel,
                rollout=rollout,
                node_rps_ceiling=node_rps,
                target_rps=result.throughput.target_rps,
            ),
        )
    return result


def _edge(settings: Settings, per_node: int, node_rps: int) -> EdgePlan:
    """Per-client limits: the settings', or a CLIENT_SHARE of the node's slots and CPU.
    A zone holds a state for every client address with a request in flight on the node."""
    chosen = settings.edge
    # A default never rounds down to 0, which would turn the limit off.
    rate = max(1, node_rps // CLIENT_SHARE) if chosen.client_rate is None else chosen.client_rate
    return EdgePlan(
        client_concurrency=max(1, per_node // CLIENT_SHARE)
        if chosen.client_concurrency is None
        else chosen.client_concurrency,
        client_rate=rate,
        client_burst=rate,  # one second's worth, let through without delay
        zone_mb=max(1, math.ceil(per_node * CLIENT_STATE_BYTES / 2**20)),
        exempt_cidrs=chosen.exempt_cidrs,
        private_demo_routes=settings.app.is_demo and settings.environment == "prod",
    )


def _rollout(
    settings: Settings,
    nodes: int,
    needed: int,
    workers: int,
    lb: LoadBalancerChoice | None,
) -> tuple[RolloutPlan, DatabasePlan, CachePlan]:
    """The rollout and the pools sized for its peak. Without rollout.batchSize, the largest
    batch up to the spare nodes whose old and new nodes together fit the database's and the
    cache's client budgets (at least 1: the checks then say what does not fit)."""
    chosen = settings.rollout.batch_size
    # A Droplet autoscale pool replaces its members itself: all at once, at worst.
    by_pool = settings.autoscale.enabled and not settings.on_kubernetes
    sizes = [chosen] if chosen is not None else range(max(nodes - needed, 1), 0, -1)
    for batch in [nodes] if by_pool else sizes:
        rollout = rollout_plan(
            nodes=nodes,
            needed_nodes=needed,
            load_balanced=lb is not None,
            batch_size=batch,
            batch_size_default=chosen is None,
            health_timeout_s=settings.rollout.health_timeout_seconds,
            drain_s=settings.rollout.drain_seconds,
            latency_ms=settings.workload.latency_ms,
            by_pool=by_pool,
        )
        peak = rollout.peak_nodes * workers
        database = _database(settings, nodes * workers, peak)
        cache = _cache(settings, nodes * workers, peak)
        if all(c.ok for c in (read_budget(database), *rollout_budgets(database, cache))):
            break
    return rollout, database, cache


def _database(settings: Settings, processes: int, peak_processes: int) -> DatabasePlan:
    """Pools sized so that `peak_processes` (a rollout batch's old and new nodes together)
    still fit the server's budgets; `processes` is the steady-state fleet."""
    db = settings.database
    limit = db.size.max_connections
    reserved = max(DB_MIN_RESERVED, math.ceil(limit * DB_RESERVED_FRACTION))
    pool_size = max(1, limit - reserved)
    if db.pool_mode == "session":
        # A session-mode client holds its server connection for life: clients <= pool.
        max_clients = pool_size
    else:
        max_clients = PGBOUNCER_MAX_CLIENT_CONN
    per_process = max(1, min(DB_POOL_PER_PROCESS_MAX, max_clients // peak_processes))
    replicas = db.read_replicas
    # DigitalOcean: one URI per replica, each worker reads from one (chosen by process), so
    # replicas share the fleet. OVHcloud: one read-only endpoint in front of every standby,
    # so in the worst case every reader lands on the same standby.
    endpoints = clouds.get(settings.cloud).read_endpoints(replicas)
    readers_per_replica = _ceil_div(peak_processes, endpoints) if replicas else 0
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
        rollout_connections=peak_processes * per_process,
        read_replicas=replicas,
        read_connections_per_replica=readers_per_replica * per_process_read,
    )


def _cache(settings: Settings, processes: int, peak_processes: int) -> CachePlan:
    """Per-process pools sized for `peak_processes`, as for the database."""
    size = settings.cache.size
    budget = int(size.max_clients * CACHE_CLIENT_FRACTION)
    per_process = max(1, min(CACHE_POOL_PER_PROCESS_MAX, budget // peak_processes))
    return CachePlan(
        size=size.name,
        max_clients=size.max_clients,
        per_process_pool=per_process,
        client_connections=processes * per_process,
        rollout_client_connections=peak_processes * per_process,
        eviction_policy=settings.cache.eviction_policy,
        engine_eviction_policy=clouds.get(settings.cloud).catalog.engine_eviction_policy,
    )


def _load_balancer(choice: LoadBalancerChoice | None) -> LoadBalancerPlan:
    if choice is None:
        return LoadBalancerPlan(enabled=False, size="", size_unit=0, max_connections=0)
    return LoadBalancerPlan(
        enabled=True,
        size=choice.size,
        size_unit=choice.size_unit,
        max_connections=choice.max_connections,
        max_size_unit=choice.max_size_unit,
        requests_per_second=choice.requests_per_second,
        new_tls_per_second=choice.new_tls_per_second,
    )
