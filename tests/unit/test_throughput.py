"""pyscale/capacity/throughput.py: requests/s from Little's law, the fleet sized by CPU or
slots (whichever needs more), the load balancer by connections, requests/s or new TLS
connections/s, and a refusal that names the binding link and the setting."""

from __future__ import annotations

import pytest

from pyscale import capacity, settings
from pyscale.capacity import throughput
from pyscale.capacity.seeds import CPU_UTILISATION_CEILING, DB_QUERIES_PER_VCPU


def plan_for(stack: str = "prod", **raw: object) -> capacity.CapacityPlan:
    return capacity.plan(settings.parse(stack, {"domain": "app.example.com", **raw}))


@pytest.mark.parametrize(
    ("concurrency", "latency_ms", "rps"),
    [(50_000, 1000, 50_000), (50_000, 2000, 25_000), (50_000, 50, 1_000_000), (10, 3, 3334)],
)
def test_littles_law(concurrency: int, latency_ms: int, rps: int) -> None:
    """req/s = concurrency / latency, rounded up (a fraction of a request still needs CPU)."""
    workload = settings.parse("staging", {"tls": "off", "workload": {"latencyMs": latency_ms}})
    assert workload.workload.rps(concurrency) == rps


def test_node_ceiling_is_cores_at_the_utilisation_ceiling_over_cpu_ms() -> None:
    assert throughput.node_rps_ceiling(16, 1.0) == int(16 * CPU_UTILISATION_CEILING * 1000)
    assert throughput.node_rps_ceiling(2, 0.4) == 3500


def test_slots_bind_long_waits_and_cpu_binds_short_ones() -> None:
    """The same 50,000 concurrent: at 10 s a request the node count is set by connection
    slots; at 500 ms by CPU (100,000 req/s), and it is larger."""
    slow = plan_for(nodeSize="c-16", workload={"latencyMs": 10_000})
    fast = plan_for(nodeSize="c-16", workload={"latencyMs": 500, "queriesPerRequest": 0,
                                               "cacheOpsPerRequest": 0,
                                               "requestsPerConnection": 1000})  # fmt: skip
    assert slow.throughput.binding == "slots"
    assert slow.nodes == slow.throughput.nodes_for_slots + 1
    assert fast.throughput.binding == "cpu"
    assert fast.nodes == fast.throughput.nodes_for_cpu + 1
    assert fast.throughput.nodes_for_cpu == -(-100_000 // fast.throughput.node_rps_ceiling)
    assert fast.nodes > slow.nodes


@pytest.mark.parametrize(
    ("workload", "binding"),
    [
        ({"requestsPerConnection": 1000, "latencyMs": 5000}, "connections"),
        ({"requestsPerConnection": 1000, "latencyMs": 500}, "rps"),
        ({"requestsPerConnection": 2, "latencyMs": 5000}, "tls"),
    ],
)
def test_load_balancer_units_are_the_largest_any_limit_needs(workload: dict, binding: str) -> None:
    t = plan_for(nodeSize="c-16", workload={**workload, "queriesPerRequest": 0,
                                            "cacheOpsPerRequest": 0}).throughput  # fmt: skip
    lb = plan_for(nodeSize="c-16", workload={**workload, "queriesPerRequest": 0,
                                             "cacheOpsPerRequest": 0}).load_balancer  # fmt: skip
    units = t.lb_units_for
    assert lb.size_unit == max(units.values()) == units[binding]
    assert lb.requests_per_second >= t.target_rps
    assert lb.new_tls_per_second >= t.new_tls_per_second


def test_no_tls_handshakes_at_a_load_balancer_that_does_not_terminate_tls() -> None:
    assert plan_for("staging", tls="off").throughput.new_tls_per_second == 0
    managed = plan_for(tls="managed", workload={"requestsPerConnection": 4}).throughput
    assert managed.new_tls_per_second == -(-managed.target_rps // 4)


def test_a_fixed_node_count_too_low_for_the_cpu_is_refused_naming_the_link() -> None:
    """nodeCount 3 at 50 ms: 1,000,000 req/s need far more than 2 nodes' CPU."""
    with pytest.raises(capacity.CapacityError) as refused:
        plan_for(nodeSize="c-16", nodeCount=3, workload={"latencyMs": 50})
    text = str(refused.value)
    assert "fleet CPU req/s with one node down" in text
    assert "need 1000000" in text and "pyscale:workload.cpuMs" in text


def test_the_database_is_checked_for_queries_per_second() -> None:
    with pytest.raises(capacity.CapacityError) as refused:
        plan_for(nodeSize="c-16", workload={"latencyMs": 200, "queriesPerRequest": 3})
    (broken,) = [c for c in refused.value.broken if c.link.startswith("database queries/s")]
    db = settings.parse("prod", {"domain": "a.example.com"}).database
    assert broken.have == (1 + db.read_replicas) * db.size.vcpus * DB_QUERIES_PER_VCPU
    assert broken.need == 3 * 250_000


def test_the_shipped_prod_plan_is_consistent_with_its_node_count() -> None:
    from pathlib import Path

    stack = settings.load("prod", Path(__file__).resolve().parents[2])
    plan = capacity.plan(stack)
    t = plan.throughput
    assert t.target_rps == stack.workload.rps(stack.target_concurrency)
    assert plan.nodes == max(t.nodes_for_slots, t.nodes_for_cpu) + 1
    assert t.binding == ("cpu" if t.nodes_for_cpu > t.nodes_for_slots else "slots")
    assert t.fleet_rps_one_node_down >= t.target_rps
    assert (plan.nodes - 2) * t.node_rps_ceiling < t.target_rps or t.binding == "slots"
    assert plan.load_balancer.size_unit == max(t.lb_units_for.values())
