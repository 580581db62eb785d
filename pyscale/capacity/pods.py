"""The capacity plan on Kubernetes (platform: kubernetes): the node pool's nodes cut into app
pods, and what a pod keeps of the VM node's tuning.

The model is the VM one with a node's *usable* vCPUs: what is left for app pods once the
kubelet, the container runtime, the cluster's daemons and the gateway have theirs
(`seeds.KUBE_RESERVED_VCPUS`), rounded down to whole pods of `kubernetes.podVcpus`. So the node
count, Gunicorn's worker_connections, the database and cache pools (sized per process for the
whole pool's pods) and the load balancer come out of the same chain; a pod then runs its
share of a node's workers.

What a pod cannot have is said, not hidden: Kubernetes lets a pod set only its "safe"
sysctls; net.core.somaxconn and net.ipv4.tcp_max_syn_backlog are namespaced but unsafe, and
neither DOKS nor OVHcloud's MKS lets the kubelet allow them, so each pod's network namespace
keeps the kernel's defaults and Gunicorn's backlog is cut to them (a check says whether the
per-pod burst still fits). The descriptor limit is the container runtime's: the pod's
Gunicorn raises its soft limit to the hard one at start and refuses to start below the plan.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from pyscale.capacity.model import GunicornPlan, KernelPlan
from pyscale.capacity.seeds import (
    GEVENT_WORKERS_PER_CORE,
    KUBE_RESERVED_VCPUS,
    MAX_BACKLOG,
    SEED_GUNICORN_BACKLOG,
)
from pyscale.capacity.throughput import node_share
from pyscale.rollout import RolloutPlan
from pyscale.settings import Settings

# What a node's share the app pods do not get leaves of its memory (seeds.KUBE_RESERVED_VCPUS
# says why).
KUBE_RESERVED_MEMORY_MIB = 2048
# net.core.somaxconn and net.ipv4.tcp_max_syn_backlog in a new network namespace: the
# kernel's defaults since Linux 5.4 (4096; tcp_max_syn_backlog from 128 up, by memory, so
# the floor counts), which a pod cannot raise (unsafe sysctls).
KERNEL_DEFAULT_SOMAXCONN = 4096
# From a pod's readiness failing (or its deletion) to the gateway's Nginx no longer sending
# it requests: the EndpointSlice update, the gateway controller's reconcile and Nginx's
# reload. The pod keeps serving this long before Gunicorn is told to stop (preStop).
ENDPOINT_PROPAGATION_S = 10
# The sysctls Kubernetes classes as safe (namespaced, isolated per pod) that the plan sets,
# with the Kubernetes minor that made each safe (kubernetes.io/docs/tasks/administer-cluster/
# sysctl-cluster/, "Safe and Unsafe Sysctls").
SAFE_SYSCTLS = {
    "net.ipv4.ip_local_port_range": "1.0",
    "net.ipv4.tcp_fin_timeout": "1.29",
    "net.ipv4.tcp_keepalive_time": "1.29",
    "net.ipv4.tcp_keepalive_intvl": "1.29",
    "net.ipv4.tcp_keepalive_probes": "1.29",
}
# The HorizontalPodAutoscaler adds pods above this CPU use (of the pods' request): the same
# ceiling the plan sizes a node's CPU to (seeds.CPU_UTILISATION_CEILING).
HPA_CPU_PERCENT = 70


@dataclass(frozen=True)
class PodPlan:
    """One app pod and the Deployment's bounds. Replica counts: `needed` hold the target's
    connections and requests/s; `minimum` adds one node's pods (N+1: a node may be drained
    or lost); `maximum` is all the pool's room, where the HorizontalPodAutoscaler may go."""

    kubernetes_version: str
    vcpus: int
    memory_mib: int
    per_node: int  # pods of this size a node's usable share holds (0: it does not fit)
    reserved_vcpus: int
    reserved_memory_mib: int
    gunicorn: GunicornPlan  # the pod's own: its share of the node's workers
    concurrency: int  # workers x worker_connections
    load: int  # what one pod holds when only `needed` serve
    somaxconn: int  # in the pod's network namespace (kernel default)
    backlog: int  # Gunicorn's listen backlog as the kernel caps it
    needed: int
    minimum: int
    maximum: int
    max_unavailable: int  # rolling update: old pods down at once (no surge: the pool is full)
    hpa_cpu_percent: int
    pre_stop_s: int
    termination_grace_s: int
    sysctls: dict[str, str]  # safe sysctls set in the pod's security context
    kernel_defaults: tuple[str, ...]  # the VM node's sysctls a pod keeps at the kernel's


def pod_plan(
    settings: Settings,
    *,
    nodes: int,
    node_gunicorn: GunicornPlan,
    kernel: KernelPlan,
    rollout: RolloutPlan,
    node_rps_ceiling: int,
    target_rps: int,
) -> PodPlan:
    """The pods of a pool of `nodes` nodes whose usable share runs `node_gunicorn`."""
    per_node = node_share(settings)[0]
    fits = max(per_node, 1)  # the checks refuse a pod too big for the node
    vcpus = settings.kubernetes.pod_vcpus
    workers = GEVENT_WORKERS_PER_CORE * vcpus
    concurrency = workers * node_gunicorn.worker_connections
    pod_rps = max(node_rps_ceiling // fits, 1)
    needed = max(-(-settings.target_concurrency // concurrency), -(-target_rps // pod_rps), 1)
    maximum = nodes * fits
    minimum = min(needed + fits, maximum)
    backlog = min(MAX_BACKLOG, max(SEED_GUNICORN_BACKLOG, concurrency))
    stagger = math.ceil(node_gunicorn.max_requests / workers)
    worker_rps = node_rps_ceiling / (fits * workers)
    # A stopping pod: the gateway stops sending (preStop), then Gunicorn finishes what it
    # holds within the rollout's finish time; the kubelet kills whatever is left after that.
    gunicorn = dataclasses.replace(
        node_gunicorn,
        workers=workers,
        backlog=backlog,
        max_requests_stagger=stagger,
        restart_spacing_s=round(stagger / worker_rps, 1),
        graceful_timeout_s=rollout.finish_s,
    )
    memory = (settings.node_size.memory_gib * 1024 - KUBE_RESERVED_MEMORY_MIB) // fits
    return PodPlan(
        kubernetes_version=settings.kubernetes.version,
        vcpus=vcpus,
        memory_mib=max(memory, 0),
        per_node=per_node,
        reserved_vcpus=KUBE_RESERVED_VCPUS,
        reserved_memory_mib=KUBE_RESERVED_MEMORY_MIB,
        gunicorn=gunicorn,
        concurrency=concurrency,
        load=-(-settings.target_concurrency // needed),
        somaxconn=KERNEL_DEFAULT_SOMAXCONN,
        backlog=min(backlog, KERNEL_DEFAULT_SOMAXCONN),
        needed=needed,
        minimum=minimum,
        maximum=maximum,
        max_unavailable=max(minimum - needed, 1),
        hpa_cpu_percent=HPA_CPU_PERCENT,
        pre_stop_s=ENDPOINT_PROPAGATION_S,
        termination_grace_s=ENDPOINT_PROPAGATION_S + rollout.finish_s,
        sysctls={k: v for k, v in kernel.sysctls().items() if k in SAFE_SYSCTLS},
        kernel_defaults=tuple(k for k in kernel.sysctls() if k not in SAFE_SYSCTLS),
    )
