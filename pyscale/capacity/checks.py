"""Every link of the chain as a number that must hold: `have >= need`.

A plan holds when every check is ok; `pyscale.capacity.plan` refuses one that does not,
listing each broken link with both numbers and the setting to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyscale.capacity.seeds import (
    GUNICORN_FD_MARGIN,
    GUNICORN_WORKER_MIB,
    MAX_BACKLOG,
    MEMORY_USABLE_FRACTION,
    PER_CONNECTION_KIB,
    UPSTREAM_IDLE_SHARE,
)

if TYPE_CHECKING:
    from pyscale.capacity.model import CachePlan, CapacityPlan, DatabasePlan


@dataclass(frozen=True)
class Check:
    """One link of the chain: `have` must be >= `need`."""

    link: str
    have: int
    need: int
    setting: str
    # A requests/s link (CPU, load-balancer rates, queries): a local node on a smaller
    # machine runs the stack's files without holding its throughput, and says so.
    throughput: bool = False

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
    ]
    result += _node_checks(p) if p.pods is None else pod_checks(p)
    t = p.throughput
    result.append(
        Check(
            "fleet CPU req/s with one node down >= target req/s (concurrency / latency)",
            max(p.nodes - 1, 1) * t.node_rps_ceiling,
            t.target_rps,
            "pyscale:nodeCount, pyscale:nodeSize or pyscale:workload.cpuMs",
            throughput=True,
        )
    )
    result.append(
        Check(
            "database queries/s it serves >= target queries/s",
            t.database_qps_ceiling,
            t.database_qps,
            "pyscale:database.size, pyscale:database.readReplicas or "
            "pyscale:workload.queriesPerRequest",
            throughput=True,
        )
    )
    result.append(
        Check(
            "cache commands/s it serves >= target commands/s",
            t.cache_ops_ceiling,
            t.cache_ops_per_second,
            "pyscale:workload.cacheOpsPerRequest",
            throughput=True,
        )
    )
    if p.max_nodes is not None:
        result.append(
            Check(
                "nodes <= the most the cloud admits (catalog max_nodes)",
                p.max_nodes,
                p.nodes,
                "pyscale:nodeCount or pyscale:nodeSize",
            )
        )
    if db.read_replicas:
        result.append(read_budget(db))
    if lb.enabled:
        result.append(
            Check(
                "load balancer connections >= target",
                lb.max_connections,
                p.target_concurrency,
                "pyscale:targetConcurrency",
            )
        )
        result.append(
            Check(
                "load balancer requests/s >= target req/s",
                lb.requests_per_second,
                t.target_rps,
                "pyscale:targetConcurrency or pyscale:workload.latencyMs",
                throughput=True,
            )
        )
        result.append(
            Check(
                "load balancer new TLS connections/s >= target new TLS/s",
                lb.new_tls_per_second,
                t.new_tls_per_second,
                "pyscale:workload.requestsPerConnection or pyscale:targetConcurrency",
                throughput=True,
            )
        )
        if lb.size_unit:
            result.append(
                Check(
                    "load balancer size_unit <= provider maximum",
                    lb.max_size_unit,
                    lb.size_unit,
                    "pyscale:targetConcurrency",
                )
            )
    if p.rollout.gated:
        result += _rollout_checks(p)
    if p.autoscale is not None:
        result = p.autoscale.at_maximum(p, result)
    return result


def read_budget(db: DatabasePlan) -> Check:
    """Every reader may land on one replica (OVHcloud's single read endpoint), old and new
    nodes of a rollout batch together: the pools are sized for that."""
    return Check(
        "read clients per replica <= replica connections - reserved",
        db.max_connections - db.reserved,
        db.read_connections_per_replica,
        "pyscale:database.size or pyscale:database.readReplicas",
    )


def rollout_budgets(db: DatabasePlan, c: CachePlan) -> list[Check]:
    """The write and cache client budgets at a rollout's peak (old + new nodes of a batch);
    with read_budget, what plan._rollout sizes the default batch to fit."""
    batch = "pyscale:rollout.batchSize"
    return [
        Check(
            "database clients during a rollout batch (old + new nodes) <= PgBouncer clients",
            db.pool_max_clients,
            db.rollout_connections,
            f"{batch} or pyscale:database.size",
        ),
        Check(
            "cache clients during a rollout batch (old + new nodes) <= maxclients",
            c.max_clients,
            c.rollout_client_connections,
            f"{batch} or pyscale:cache.size",
        ),
    ]


def _rollout_checks(p: CapacityPlan) -> list[Check]:
    """A rollout batch: the nodes outside it serve, its old and new nodes are up together,
    and a leaving node has time to finish what it serves once the load balancer stops."""
    r = p.rollout
    batch = "pyscale:rollout.batchSize"
    return [
        Check(
            "nodes outside a rollout batch hold the target concurrency",
            r.serving_during_batch * p.per_node_concurrency,
            p.target_concurrency,
            f"{batch} or pyscale:nodeCount",
        ),
        Check(
            "fleet CPU req/s outside a rollout batch >= target req/s",
            r.serving_during_batch * p.throughput.node_rps_ceiling,
            p.throughput.target_rps,
            f"{batch} or pyscale:nodeCount",
            throughput=True,
        ),
        *rollout_budgets(p.database, p.cache),
        Check(
            "drain time after the load balancer notices >= time to finish requests (s)",
            r.finish_s,
            r.finish_needed_s,
            "pyscale:rollout.drainSeconds",
        ),
    ]


def _node_checks(p: CapacityPlan) -> list[Check]:
    """The links a VM node's own files carry: backlogs, Nginx, descriptor limits, memory."""
    g, n, k = p.gunicorn, p.nginx, p.kernel
    return [
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
            "nginx upstream keepalive pool <= half the gunicorn connections",
            math.floor(p.per_node_concurrency * UPSTREAM_IDLE_SHARE),
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
            "node memory >= workers + in-flight connections",
            int(p.memory_gib * 1024 * MEMORY_USABLE_FRACTION),
            g.workers * GUNICORN_WORKER_MIB + p.per_node_concurrency * PER_CONNECTION_KIB // 1024,
            "pyscale:nodeSize",
        ),
    ]


def pod_checks(p: CapacityPlan) -> list[Check]:
    """On Kubernetes: pods fit the pool's nodes, the pool holds N+1 pods, and what a pod
    keeps of the tuning (its backlog at the kernel's default somaxconn) holds its load."""
    pod = p.pods
    assert pod is not None
    g = pod.gunicorn
    return [
        Check(
            "app pods per node (node vCPUs less the cluster's reserve, in whole pods)",
            pod.per_node,
            1,
            "pyscale:kubernetes.podVcpus or pyscale:nodeSize",
        ),
        Check(
            "node pool room (pods) >= pods for the target + one node's pods (N+1)",
            pod.maximum,
            pod.needed + max(pod.per_node, 1),
            "pyscale:nodeCount or pyscale:nodeSize",
        ),
        Check(
            "pod listen backlog (kernel-default somaxconn, unsafe sysctl) >= per-pod load burst",
            pod.backlog,
            min(pod.load, MAX_BACKLOG),
            "pyscale:kubernetes.podVcpus (smaller pods, more of them)",
        ),
        Check(
            "pod memory limit >= workers + in-flight connections",
            pod.memory_mib,
            g.workers * GUNICORN_WORKER_MIB + pod.concurrency * PER_CONNECTION_KIB // 1024,
            "pyscale:kubernetes.podVcpus or pyscale:nodeSize",
        ),
        Check(
            "pod termination grace >= gateway propagation + requests' finish time (s)",
            pod.termination_grace_s,
            pod.pre_stop_s + p.rollout.finish_needed_s,
            "pyscale:rollout.drainSeconds",
        ),
    ]
