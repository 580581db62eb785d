"""The health gates in the program (components/gate.py, components/<cloud>/nodes.py): one per
node behind a load balancer, fed the node's id and what the cloud's API needs to find it,
and each batch's nodes created only after the batch before passed its gates."""

from __future__ import annotations

import json

import pytest

from pyscale import offline
from pyscale.offline import Registered, Run
from pyscale.rollout.plan import GATE_TYPE

NODE_TYPES = {
    "prod": "digitalocean:index/droplet:Droplet",
    "prod-ovh": "ovh:index/cloudInstance:CloudInstance",
}


def gates_and_nodes(run: Run) -> tuple[list[Registered], list[Registered]]:
    gates = sorted(run.of_type(GATE_TYPE), key=lambda g: g.inputs["node_name"])
    nodes = sorted(run.web(NODE_TYPES[run.stack]), key=lambda n: n.inputs["name"])
    return gates, nodes


@pytest.mark.parametrize("stack", sorted(NODE_TYPES))
def test_every_node_has_a_gate_with_the_plans_rollout(stack: str) -> None:
    run = offline.run(stack)
    gates, nodes = gates_and_nodes(run)
    r = run.plan.rollout
    assert len(gates) == len(nodes) == run.plan.nodes
    for gate, node in zip(gates, nodes, strict=True):
        assert gate.inputs["node_name"] == node.inputs["name"]
        assert gate.inputs["node_id"] == node.id  # the gate follows the node's replacement
        assert gate.inputs["cloud"] == run.settings.cloud
        assert (gate.inputs["timeout_s"], gate.inputs["drain_s"]) == (
            r.health_timeout_s,
            r.drain_s,
        )
        assert (gate.inputs["interval_s"], gate.inputs["in_a_row"]) == (
            r.poll_interval_s,
            r.healthy_in_a_row,
        )
        # No credentials in the gate's state: the provider reads the environment.
        assert not any("token" in key.lower() for key in gate.inputs)


def test_digitalocean_gates_ask_the_load_balancer_of_the_stack() -> None:
    run = offline.run("prod")
    (balancer,) = run.of_type("digitalocean:index/loadBalancer:LoadBalancer")
    for gate in run.of_type(GATE_TYPE):
        assert gate.inputs["target"] == {
            "load_balancer_id": balancer.id,
            "node_name": gate.inputs["node_name"],
        }


def test_ovh_gates_ask_every_pool_member_of_their_node() -> None:
    run = offline.run("prod-ovh")
    members = run.of_type("ovh:index/cloudLoadbalancerPoolMember:CloudLoadbalancerPoolMember")
    for gate in run.of_type(GATE_TYPE):
        mine = [m for m in members if m.inputs["name"] == gate.inputs["node_name"]]
        assert mine
        assert gate.inputs["target"]["members"] == [
            {"pool_id": m.inputs["poolId"], "id": m.id} for m in mine
        ]
        assert gate.inputs["target"]["region"] == run.settings.region


@pytest.mark.parametrize(("stack", "batch"), [("prod", 1), ("prod", 2), ("prod-ovh", 1)])
def test_a_batch_is_created_only_after_the_batch_before_passed(stack: str, batch: int) -> None:
    overrides = {"pyscale:nodeCount": "6"} if batch > 1 else {}
    overrides |= {"pyscale:rollout": json.dumps({"batchSize": batch})}
    run = offline.run(stack, overrides=overrides)
    gates, nodes = gates_and_nodes(run)
    assert run.plan.rollout.batch_size == batch
    for index, node in enumerate(nodes):
        first = (index // batch) * batch
        before = {g.urn for g in gates[max(first - batch, 0) : first]}
        waits = {d for d in node.options["dependencies"] if d.split("::")[-2].endswith(GATE_TYPE)}
        assert waits == before, node.urn


def test_a_single_node_has_no_gate() -> None:
    run = offline.run("dev")
    assert run.of_type(GATE_TYPE) == []
    assert not run.plan.rollout.gated
