"""Throughput: the requests/s a target concurrency means, and what serves them.

Connection slots say how many requests a node can hold; they say nothing of how fast it
finishes them. By Little's law a target of C requests in flight, each in flight for L
seconds on average, is C / L requests/s. Every request costs CPU (workload.cpuMs,
node-wide), so a node finishes at most vcpus x CPU_UTILISATION_CEILING / cpuMs requests/s,
whatever its slots. The fleet is sized by whichever limit needs more nodes (`binding`), the
load balancer by whichever of connections, requests/s and new TLS connections/s needs the
larger size, and the database and cache are checked against the queries and commands the
requests/s bring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyscale import clouds
from pyscale.capacity.seeds import (
    CACHE_OPS_PER_SECOND,
    CPU_UTILISATION_CEILING,
    DB_QUERIES_PER_VCPU,
    KUBE_RESERVED_VCPUS,
    LB_HEADROOM,
)
from pyscale.clouds.base import LoadBalancerChoice, LoadBalancerDemand

if TYPE_CHECKING:
    from pyscale.settings import Settings

# TLS modes where the load balancer terminates TLS (and so pays for each new handshake).
LB_TERMINATES_TLS = ("managed", "certificate")


@dataclass(frozen=True)
class ThroughputPlan:
    """Requests/s: what the target means, what one node and the fleet can finish, and what
    sized the fleet and the load balancer."""

    target_rps: int  # targetConcurrency / latency (Little's law)
    latency_ms: int
    cpu_ms: float
    cpu_utilisation_ceiling: float
    node_rps_ceiling: int  # one node's CPU: vcpus x ceiling / cpuMs
    node_slot_rps: int  # one node's slots: per-node concurrency / latency
    nodes_for_slots: int  # without the spare node
    nodes_for_cpu: int  # without the spare node
    binding: str  # what set the node count: "cpu", "slots" or "nodeCount" (fixed)
    fleet_rps_one_node_down: int  # min(CPU, slots) per node x (nodes - 1)
    new_tls_per_second: int  # at the load balancer (0 when it does not terminate TLS)
    lb_units_for: Mapping[str, int | str]  # connections / rps / tls -> the size each needs
    database_qps: int
    database_qps_ceiling: int
    cache_ops_per_second: int
    cache_ops_ceiling: int


def target_rps(settings: Settings) -> int:
    return settings.workload.rps(settings.target_concurrency)


def node_share(settings: Settings) -> tuple[int, int]:
    """On Kubernetes, (app pods per node, the vCPUs they use): the node's vCPUs less what the
    cluster keeps (KUBE_RESERVED_VCPUS), in whole pods of kubernetes.podVcpus."""
    pod = settings.kubernetes.pod_vcpus
    per_node = max(settings.node_size.vcpus - KUBE_RESERVED_VCPUS, 0) // pod
    return per_node, per_node * pod


def app_vcpus(settings: Settings) -> int:
    """The vCPUs of a node the app's processes get: all of a VM node's; on Kubernetes, the
    pods' share (at least 1, so that a pod too big for the node still reaches the checks,
    which then name kubernetes.podVcpus)."""
    if not settings.on_kubernetes:
        return settings.node_size.vcpus
    return max(node_share(settings)[1], 1)


def node_rps_ceiling(vcpus: int, cpu_ms: float) -> int:
    """What one node's CPUs finish per second at the utilisation ceiling."""
    return math.floor(vcpus * CPU_UTILISATION_CEILING * 1000 / cpu_ms)


def node_count(settings: Settings, slots_per_node: int) -> tuple[int, int, int, str]:
    """(nodes, nodes for slots, nodes for CPU, binding): the fleet holds the target's
    connections and finishes its requests/s, plus one spare node (N+1), unless nodeCount
    fixes it (the checks then say whether it holds)."""
    for_slots = -(-settings.target_concurrency // slots_per_node)
    ceiling = node_rps_ceiling(app_vcpus(settings), settings.workload.cpu_ms)
    for_cpu = -(-target_rps(settings) // ceiling)
    if settings.node_count is not None:
        return settings.node_count, for_slots, for_cpu, "nodeCount"
    binding = "cpu" if for_cpu > for_slots else "slots"
    return max(for_slots, for_cpu) + 1, for_slots, for_cpu, binding


def load_balancer_demand(settings: Settings) -> LoadBalancerDemand:
    rps = target_rps(settings)
    tls = settings.tls in LB_TERMINATES_TLS
    return LoadBalancerDemand(
        connections=math.ceil(settings.target_concurrency * LB_HEADROOM),
        requests_per_second=rps,
        new_tls_per_second=-(-rps // settings.workload.requests_per_connection) if tls else 0,
    )


def plan_throughput(
    settings: Settings,
    nodes: tuple[int, int, int, str],
    per_node_concurrency: int,
    lb: LoadBalancerChoice | None,
) -> ThroughputPlan:
    """The throughput block of the plan, once the node count and the load balancer are
    chosen (`lb` is None for the single-node topology)."""
    count, for_slots, for_cpu, binding = nodes
    workload = settings.workload
    rps = target_rps(settings)
    cpu = node_rps_ceiling(app_vcpus(settings), workload.cpu_ms)
    slot_rps = per_node_concurrency * 1000 // workload.latency_ms
    db = settings.database
    # Queries spread over the primary and every read endpoint (DigitalOcean: one per
    # replica; OVHcloud: one for all standbys).
    servers = 1 + clouds.get(settings.cloud).read_endpoints(db.read_replicas)
    return ThroughputPlan(
        target_rps=rps,
        latency_ms=workload.latency_ms,
        cpu_ms=workload.cpu_ms,
        cpu_utilisation_ceiling=CPU_UTILISATION_CEILING,
        node_rps_ceiling=cpu,
        node_slot_rps=slot_rps,
        nodes_for_slots=for_slots,
        nodes_for_cpu=for_cpu,
        binding=binding,
        fleet_rps_one_node_down=max(count - 1, 1) * min(cpu, slot_rps),
        new_tls_per_second=load_balancer_demand(settings).new_tls_per_second if lb else 0,
        lb_units_for=dict(lb.sized_for) if lb else {},
        database_qps=math.ceil(rps * workload.queries_per_request),
        database_qps_ceiling=servers * db.size.vcpus * DB_QUERIES_PER_VCPU,
        cache_ops_per_second=math.ceil(rps * workload.cache_ops_per_request),
        cache_ops_ceiling=CACHE_OPS_PER_SECOND,
    )
