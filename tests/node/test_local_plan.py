"""The plan a local node runs: the stack's own where the machine grants it, else one derived
through the capacity model from the machine's cores, memory and descriptor limit, with a
note for each difference. Pure: machines are described, not probed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pyscale import capacity, settings
from pyscale.localnode import Machine, local_plan
from pyscale.localnode.netns import VETH_BLOCK
from tests.node.conftest import STACK, STACK_FILE

ROOMY = Machine(cpus=64, memory_gib=256, nofile_ceiling=capacity.LINUX_NR_OPEN)


def _stack(tmp_path: Path, extra: str = "") -> settings.Settings:
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE + extra)
    return settings.load(STACK, tmp_path)


def test_a_machine_that_grants_everything_runs_the_stacks_own_plan(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    local = local_plan(stack, ROOMY)
    assert local.plan == capacity.plan(stack)
    # Only the private network differs: the host, as the load balancer, is in it.
    assert local.settings == dataclasses.replace(stack, vpc_cidr=str(VETH_BLOCK))
    assert local.notes == (
        f"vpc: the host stands in for the load balancer over the veth pair, so the node's "
        f"private network is {VETH_BLOCK} here (the stack's VPC is {stack.vpc_cidr})",
    )


def test_a_smaller_machine_gets_a_derived_plan_and_says_what_changed(tmp_path: Path) -> None:
    # 0.5 ms a request: one core finishes 1 x 70 % x 1000 / 0.5 = 1,400 req/s, short of
    # the stack's 2,000, and two finish them: said, whatever the default cpuMs.
    stack = _stack(tmp_path, "  pyscale:workload:\n    cpuMs: 0.5\n")
    local = local_plan(stack, Machine(cpus=1, memory_gib=1, nofile_ceiling=10_000))
    assert (local.settings.node_size.vcpus, local.settings.node_size.memory_gib) == (1, 1)
    assert local.plan == capacity.plan(
        local.settings, max_process_nofile=10_000, throughput_holds=False
    )
    assert local.plan.gunicorn.workers < capacity.plan(stack).gunicorn.workers
    assert local.plan.gunicorn.limit_nofile <= 10_000
    assert local.plan.nginx.limit_nofile <= 10_000
    notes = " | ".join(local.notes)
    assert "node size: s-2vcpu-4gb has 2 vCPUs" in notes
    assert "max_process_nofile=10,000" in notes
    assert "gunicorn.workers: " in notes and "gunicorn.limit_nofile: " in notes
    # One core finishes fewer requests/s than the stack's two: said, not refused.
    assert "throughput: this machine cannot finish" in notes and "fleet CPU req/s" in notes


def test_tls_is_served_as_plain_http_locally(tmp_path: Path) -> None:
    node_tls = STACK_FILE.replace('pyscale:tls: "off"', "pyscale:tls: node")
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(node_tls)
    local = local_plan(settings.load(STACK, tmp_path), ROOMY)
    assert local.settings.tls == "off"
    assert local.notes[0].startswith("tls: the stack uses 'node'")
    assert local.notes[1].startswith("vpc: the host stands in for the load balancer")
