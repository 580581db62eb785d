"""pyscale/capacity/autoscale.py: a fleet that scales itself is planned at its maximum for
the peak, its minimum holds the baseline with N+1, and every budget that the maximum breaks
is refused with the binding link named."""

from __future__ import annotations

from typing import Any

import pytest

from pyscale import capacity, pricing, settings
from pyscale.clouds.digitalocean import catalog as do_catalog
from pyscale.monitoring import rules

# prod's workload (Pulumi.prod.yaml): 2 s in flight, 1 ms of CPU each.
WORKLOAD = {"latencyMs": 2000, "cpuMs": 1.0, "requestsPerConnection": 20, "queriesPerRequest": 0.5}
POOL = {
    "cloud": "digitalocean",
    "domain": "app.example.com",
    "sshKeys": ["3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45"],
    "backups": False,
    "nodeSize": "c-8",
    "targetConcurrency": 20_000,
    "workload": WORKLOAD,
}
K8S = {
    "cloud": "digitalocean",
    "platform": "kubernetes",
    "domain": "app.example.com",
    "backups": False,
    "monitoring": {"node": False},
    "kubernetes": {"image": "registry.example.com/team/app:1.4.2", "podVcpus": 2},
    "nodeSize": "c-8",
    "targetConcurrency": 20_000,
    "workload": WORKLOAD,
}


def pool_settings(base: dict[str, Any] = POOL, **keys: Any) -> settings.Settings:
    return settings.parse("prod", {**base, "autoscale": {"enabled": True, **keys}})


def fixed(base: dict[str, Any] = POOL, **raw: Any) -> capacity.CapacityPlan:
    """The same stack as a fixed fleet (no keys, no autoscale)."""
    return capacity.plan(settings.parse("prod", {**base, **raw}))


def broken(chosen: settings.Settings) -> list[capacity.Check]:
    with pytest.raises(capacity.CapacityError) as caught:
        capacity.plan(chosen)
    return caught.value.broken


def test_default_bounds_are_the_fixed_fleets_counts_for_baseline_and_peak() -> None:
    plan = capacity.plan(pool_settings(peakConcurrency=60_000))
    pool = plan.autoscale
    assert pool is not None
    assert pool.min_nodes == fixed().nodes
    assert pool.max_nodes == fixed(targetConcurrency=60_000).nodes
    assert pool.min_nodes < pool.max_nodes
    # The plan is the maximum's, holding the peak; the baseline is the minimum's.
    assert (plan.nodes, plan.target_concurrency) == (pool.max_nodes, 60_000)
    assert (plan.min_nodes, plan.baseline_concurrency) == (pool.min_nodes, 20_000)


def test_peak_defaults_to_twice_the_baseline() -> None:
    plan = capacity.plan(pool_settings())
    assert plan.autoscale is not None and plan.autoscale.peak_concurrency == 40_000


def test_every_budget_is_sized_at_the_maximum() -> None:
    """Database and cache clients, the load balancer and the rollout's peak are the ones a
    fixed fleet of the maximum's size holding the peak would have."""
    plan = capacity.plan(pool_settings(peakConcurrency=60_000))
    assert plan.autoscale is not None
    high, workers = plan.autoscale.max_nodes, plan.gunicorn.workers
    db, cache = plan.database, plan.cache
    assert db.app_connections == high * workers * db.per_process_pool
    assert cache.client_connections == high * workers * cache.per_process_pool
    # The pool replaces its members itself, all at once at worst: old and new together.
    assert plan.rollout.by_pool and plan.rollout.batch_size == high
    assert plan.rollout.peak_nodes == 2 * high
    assert db.rollout_connections == 2 * high * workers * db.per_process_pool
    at_peak = fixed(targetConcurrency=60_000)
    assert plan.load_balancer == at_peak.load_balancer
    assert plan.load_balancer.size_unit > fixed().load_balancer.size_unit
    assert all(c.ok for c in capacity.checks(plan))


def test_the_trusted_source_ceiling_is_checked_at_the_maximum() -> None:
    found = broken(pool_settings(peakConcurrency=60_000, maxNodes=60))
    ceiling = [c for c in found if "the most the cloud admits" in c.link]
    assert len(ceiling) == 1
    (check,) = ceiling
    assert check.link.startswith("at the pool's maximum (60 nodes): ")
    assert (check.have, check.need) == (do_catalog.MAX_NODES.value - 1, 60)
    assert check.setting.startswith("pyscale:autoscale.maxNodes")
    assert "nodeCount" not in check.setting


def test_database_connections_are_checked_at_the_maximum() -> None:
    """The readers of the minimum fit a replica's connections; those of thirty c-8 nodes,
    old and new members together during a configuration change, do not."""
    found = broken(pool_settings(peakConcurrency=60_000, maxNodes=30))
    links = [c.link for c in found]
    assert any("read clients per replica" in link for link in links), links
    assert capacity.plan(pool_settings(peakConcurrency=60_000, maxNodes=10)).nodes == 10


def test_load_balancer_units_are_checked_at_the_peak() -> None:
    found = broken(pool_settings(peakConcurrency=2_000_000, maxNodes=49))
    units = [c for c in found if "size_unit <= provider maximum" in c.link]
    assert len(units) == 1
    assert units[0].setting == "pyscale:autoscale.peakConcurrency"


def test_a_minimum_that_cannot_hold_the_baseline_is_refused() -> None:
    found = broken(pool_settings(minNodes=2, maxNodes=6, peakConcurrency=40_000))
    links = {c.link: c for c in found}
    key = "pool minimum CPU req/s with one node down >= baseline req/s"
    assert key in links, list(links)
    assert links[key].setting.startswith("pyscale:autoscale.minNodes")
    assert links[key].need == 10_000  # 20,000 in flight for 2 s


def test_a_maximum_below_the_derived_minimum_is_refused() -> None:
    found = broken(pool_settings(maxNodes=2, peakConcurrency=20_000))
    assert "pool maximum >= pool minimum (nodes)" in [c.link for c in found]


def test_a_pool_member_drains_before_the_cloud_destroys_it() -> None:
    found = broken(
        settings.parse(
            "prod",
            {**POOL, "autoscale": {"enabled": True}, "rollout": {"drainSeconds": 90}},
        )
    )
    (check,) = [c for c in found if "shutdown to destroy" in c.link]
    assert (check.have, check.need) == (do_catalog.POOL_SHUTDOWN_S, 90)
    assert check.setting == "pyscale:rollout.drainSeconds"


def test_a_fixed_fleet_is_planned_as_before() -> None:
    """Same numbers with autoscale off, and no pool in the exported plan."""
    plan = fixed()
    assert plan.autoscale is None and not plan.rollout.by_pool
    assert plan.min_nodes == plan.nodes and plan.baseline_concurrency == 20_000
    assert not [c for c in capacity.checks(plan) if c.link.startswith(("pool ", "at the pool"))]
    assert plan.to_dict()["autoscale"] is None


def test_kubernetes_pods_scale_from_the_baseline_to_the_pools_maximum() -> None:
    plan = capacity.plan(pool_settings(K8S, peakConcurrency=60_000, cpuTarget=0.6))
    pool, pods = plan.autoscale, plan.pods
    assert pool is not None and pods is not None
    assert pool.shutdown_grace_s is None  # the cluster autoscaler drains pods, not the cloud
    baseline = fixed(K8S).pods
    assert baseline is not None
    assert pods.maximum == pool.max_nodes * pods.per_node  # the HPA may fill the maximum
    assert pods.needed == baseline.needed  # ...from the baseline's pods
    assert pods.minimum == baseline.needed + pods.per_node  # plus one node's (N+1)
    assert pods.hpa_cpu_percent == 60
    assert not plan.rollout.by_pool  # node-pool upgrades surge, as a fixed pool's do
    assert all(c.ok for c in capacity.checks(plan))


def test_cost_at_both_ends() -> None:
    chosen = pool_settings(peakConcurrency=60_000)
    plan = capacity.plan(chosen)
    assert plan.autoscale is not None
    high = pricing.estimate(chosen, plan)
    low = pricing.estimate_at_minimum(chosen, plan)
    assert low is not None
    nodes_high = next(line for line in high.lines if line.item == "nodes")
    nodes_low = next(line for line in low.lines if line.item == "nodes")
    assert (nodes_low.quantity, nodes_high.quantity) == (plan.autoscale.min_nodes, plan.nodes)
    gap = (plan.nodes - plan.autoscale.min_nodes) * nodes_high.unit_monthly
    assert high.total - low.total == pytest.approx(gap)
    assert pricing.estimate_at_minimum(chosen, fixed()) is None


def test_too_few_nodes_alerts_below_the_pools_minimum() -> None:
    """A pool at its minimum is not short of nodes: the page fires below the minimum's N+1,
    and says the baseline, not the peak."""
    chosen = pool_settings(peakConcurrency=60_000)
    plan = capacity.plan(chosen)
    assert plan.autoscale is not None
    (alert,) = [a for a in rules.alerts(plan, chosen) if a.name == "PyscaleFleetBelowTarget"]
    assert alert.threshold == plan.autoscale.min_nodes - 1 < plan.nodes - 1
    assert "20,000 concurrent requests" in alert.runbook + alert.summary
