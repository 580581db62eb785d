"""The plan a local node runs: the stack's own, or one derived for this machine.

A local run cannot always grant what the stack's node would get (fewer cores, a hard
per-process descriptor limit below fs.nr_open, no certificate for the stack's name). The
node then runs a plan derived through the same capacity model from this machine's limits,
never a number edited after the fact, and says which numbers changed and why.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pyscale import capacity
from pyscale.localnode.host import Machine
from pyscale.localnode.netns import VETH_BLOCK
from pyscale.settings import Settings


@dataclass(frozen=True)
class LocalPlan:
    """The plan the local node runs, and how (and why) it differs from the stack's own."""

    settings: Settings
    plan: capacity.CapacityPlan
    notes: tuple[str, ...]


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    """A plan as dotted keys ("gunicorn.limit_nofile"), to list what the derivation changed."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {}
        for f in dataclasses.fields(value):
            out |= _flat(getattr(value, f.name), f"{prefix}{f.name}.")
        return out
    return {prefix.rstrip("."): value}


def local_plan(stack: Settings, machine: Machine | None = None) -> LocalPlan:
    """The stack's plan if `machine` (default: this one) can run it, else one derived from it.

    The derivation goes through `capacity.plan` with the machine's cores, memory and hard
    per-process descriptor limit: the same model, smaller inputs.
    """
    machine = machine or Machine.here()
    notes: list[str] = []
    settings = stack
    if stack.tls != "off":
        settings = dataclasses.replace(settings, tls="off")
        notes.append(
            f"tls: the stack uses '{stack.tls}'; the local node serves plain HTTP "
            "(no certificate for this name here), so port 80 serves the app"
        )
    # The host reaches the node over the veth pair and stands in for the load balancer, so
    # the node's private network here is the veth block: the host may forward a client's
    # address (X-Forwarded-For) and, like the load balancer, is not counted by the
    # per-client limits (a benchmark's load comes from it).
    settings = dataclasses.replace(settings, vpc_cidr=str(VETH_BLOCK))
    notes.append(
        f"vpc: the host stands in for the load balancer over the veth pair, so the node's "
        f"private network is {VETH_BLOCK} here (the stack's VPC is {stack.vpc_cidr})"
    )
    size = stack.node_size
    if size.vcpus > machine.cpus or size.memory_gib > machine.memory_gib:
        local_size = dataclasses.replace(
            size,
            name=f"{size.name} (local: {machine.cpus} cores, {machine.memory_gib} GiB)",
            vcpus=min(size.vcpus, machine.cpus),
            memory_gib=min(size.memory_gib, machine.memory_gib),
        )
        settings = dataclasses.replace(settings, node_size=local_size)
        notes.append(
            f"node size: {size.name} has {size.vcpus} vCPUs and {size.memory_gib} GiB; this "
            f"machine has {machine.cpus} cores and {machine.memory_gib} GiB, so the plan is "
            f"derived for {local_size.vcpus} vCPUs and {local_size.memory_gib} GiB"
        )
    ceiling = machine.nofile_ceiling
    if ceiling < capacity.LINUX_NR_OPEN:
        notes.append(
            f"descriptors: this machine's hard per-process limit is {ceiling:,} (the cloud "
            f"node's is fs.nr_open = {capacity.LINUX_NR_OPEN:,}); the plan is derived with "
            f"max_process_nofile={ceiling:,}"
        )
    plan = capacity.plan(settings, max_process_nofile=ceiling, throughput_holds=False)
    short = [c for c in capacity.checks(plan) if c.throughput and not c.ok]
    if short:
        notes.append(
            "throughput: this machine cannot finish the stack's requests/s (the node files "
            "are the same; `pyscale bench node` measures what it does finish): "
            + "; ".join(f"{c.link}: {c.have:,} < {c.need:,}" for c in short)
        )
    before, after = _flat(capacity.plan(stack)), _flat(plan)
    changed = [
        f"{key}: {before[key]} -> {after[key]}"
        for key in after
        if before.get(key) != after[key] and not key.startswith("load_balancer")
    ]
    if changed:
        notes.append("numbers that differ from the stack's plan: " + "; ".join(changed))
    return LocalPlan(settings, plan, tuple(notes))
