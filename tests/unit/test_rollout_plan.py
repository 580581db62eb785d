"""pyscale/rollout/plan.py and the rollout checks: batches, who serves during a batch, the
connection budgets of old and new nodes together, and the drain's arithmetic."""

from __future__ import annotations

import pytest

from pyscale import capacity, report, settings
from pyscale.capacity import CapacityError
from pyscale.rollout import LB_HEALTH, rollout_plan


def plan_for(**raw: object) -> capacity.CapacityPlan:
    return capacity.plan(settings.parse("prod", {"domain": "app.example.com", **raw}))


def test_default_rollout_replaces_one_node_at_a_time_with_n_plus_1() -> None:
    plan = plan_for(nodeSize="c-16")
    r = plan.rollout
    assert r.gated and r.batch_size_default
    assert r.spare_nodes == 1 and r.batch_size == 1
    assert r.batches == plan.nodes
    assert r.serving_during_batch == plan.nodes - 1
    assert r.peak_nodes == plan.nodes + 1
    assert r.describe() == (
        f"{plan.nodes} nodes replaced in {plan.nodes} batches of 1, each gated on LB health "
        f"(timeout 900 s), old node drains {r.drain_s} s"
    )


def test_spare_nodes_allow_larger_batches_by_default() -> None:
    plan = plan_for(nodeSize="c-16", nodeCount=6)
    needed = max(plan.throughput.nodes_for_slots, plan.throughput.nodes_for_cpu)
    assert plan.rollout.spare_nodes == 6 - needed
    assert plan.rollout.batch_size == 6 - needed
    assert plan.rollout.batches == -(-6 // plan.rollout.batch_size)


def test_a_batch_the_rest_cannot_cover_is_refused_naming_the_setting() -> None:
    with pytest.raises(CapacityError) as error:
        plan_for(nodeSize="c-16", rollout={"batchSize": 2})
    message = str(error.value)
    assert "nodes outside a rollout batch" in message
    assert "pyscale:rollout.batchSize" in message


def test_default_batch_shrinks_to_fit_the_connection_budgets() -> None:
    """Forty 4-core nodes have 32 spares, but 40 x 4 workers already hold 160 of the one
    replica's 177 connections: the plan picks the largest batch whose old and new nodes
    still fit (4 nodes, 16 workers more)."""
    plan = plan_for(
        nodeCount=40,
        nodeSize="c-4",
        workload={"queriesPerRequest": 0.5, "cpuMs": 0.4},
        database={"size": "db-s-4vcpu-8gb", "readReplicas": 1},
    )
    assert (plan.rollout.spare_nodes, plan.rollout.batch_size) == (32, 4)
    db = plan.database
    assert plan.rollout.batch_size < plan.rollout.spare_nodes
    assert db.read_connections_per_replica <= db.max_connections - db.reserved
    assert db.rollout_connections <= db.pool_max_clients
    assert plan.cache.rollout_client_connections <= plan.cache.max_clients


def test_pools_are_sized_for_old_and_new_nodes_together() -> None:
    plan = plan_for(nodeSize="c-16")
    peak = plan.rollout.peak_nodes * plan.gunicorn.workers
    assert plan.database.rollout_connections == peak * plan.database.per_process_pool
    assert plan.cache.rollout_client_connections == peak * plan.cache.per_process_pool
    assert plan.database.app_connections == plan.processes * plan.database.per_process_pool


def test_default_drain_is_detection_plus_three_mean_latencies() -> None:
    r = plan_for(nodeSize="c-16", workload={"latencyMs": 2000}).rollout
    assert r.detect_s == LB_HEALTH.detect_down_s == 35
    assert r.finish_needed_s == 6
    assert (r.drain_s, r.finish_s) == (41, 6)


def test_a_drain_shorter_than_the_requests_need_is_refused() -> None:
    with pytest.raises(CapacityError, match=r"drain time .* have 5, need 6; change "
                       r"pyscale:rollout.drainSeconds"):  # fmt: skip
        plan_for(nodeSize="c-16", workload={"latencyMs": 2000}, rollout={"drainSeconds": 40})


def test_single_node_is_not_gated_and_says_so() -> None:
    plan = capacity.plan(settings.parse("dev", {"tls": "off"}))
    assert not plan.rollout.gated
    assert plan.rollout.peak_nodes == 1
    assert "not gated" in plan.rollout.describe()
    assert not any("rollout" in c.link for c in capacity.checks(plan))


def test_rollout_settings_refuse_out_of_range_values() -> None:
    with pytest.raises(settings.SettingsError, match=r"rollout.batchSize = 0"):
        settings.parse("staging", {"tls": "off", "rollout": {"batchSize": 0}})
    with pytest.raises(settings.SettingsError, match=r"rollout.healthTimeoutSeconds = 5"):
        settings.parse("staging", {"tls": "off", "rollout": {"healthTimeoutSeconds": 5}})


def test_plan_text_says_what_a_node_change_will_do(capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_for(nodeSize="c-16")
    report._print_rollout(plan)
    out = capsys.readouterr().out
    assert out.startswith(f"\nRollout: {plan.rollout.describe()}\n")
    assert f"{plan.rollout.serving_during_batch} nodes serve while a batch is replaced" in out
    assert f"{plan.database.rollout_connections:,} clients at the peak" in out


def test_a_pools_rollout_is_the_whole_pool_with_the_old_members_serving() -> None:
    """DigitalOcean replaces a pool's members itself and does not say how many at a time:
    the plan takes them all at once, the old ones serving until the new ones had the
    cooldown, and sizes the connection pools for old and new together."""
    kwargs = {"nodes": 7, "needed_nodes": 4, "load_balanced": True, "batch_size": 7,
              "batch_size_default": True, "health_timeout_s": 900, "drain_s": None,
              "latency_ms": 2000}  # fmt: skip
    pool = rollout_plan(**kwargs, by_pool=True)
    fixed = rollout_plan(**kwargs)
    assert (pool.peak_nodes, pool.serving_during_batch) == (14, 7)
    assert (fixed.peak_nodes, fixed.serving_during_batch) == (14, 0)
    assert "replaced by the cloud" in pool.describe()
    assert "not gated node by node" in pool.describe()
    assert "gated on LB health" in fixed.describe()
