"""pyscale/pricing.py and each cloud's price table: the estimate prices what the plan
creates, from a dated table."""

from pathlib import Path

import pytest

from pyscale import capacity, clouds, pricing, settings
from pyscale.clouds.digitalocean import pricing as do_pricing
from pyscale.clouds.ovh import pricing as ovh_pricing

REPO = Path(__file__).resolve().parents[2]


def estimate_for(stack: str) -> tuple[pricing.Estimate, capacity.CapacityPlan]:
    loaded = settings.load(stack, REPO)
    plan = capacity.plan(loaded)
    return pricing.estimate(loaded, plan), plan


def lines(estimate: pricing.Estimate) -> dict[str, pricing.Line]:
    return {line.item: line for line in estimate.lines}


def test_prod_prices_every_billed_part() -> None:
    estimate, plan = estimate_for("prod")
    by_item = lines(estimate)
    assert by_item["nodes"].quantity == plan.nodes == 3
    assert by_item["nodes"].unit_monthly == do_pricing.DROPLETS["c-16"]
    assert by_item["load balancer"].quantity == plan.load_balancer.size_unit
    assert by_item["postgresql read replicas"].quantity == 2
    assert by_item["postgresql standby"].quantity == 1
    assert "node backups" in by_item
    assert estimate.currency == "USD"
    assert estimate.total == pytest.approx(sum(line.monthly for line in estimate.lines))


def test_prod_total_matches_the_table() -> None:
    estimate, _ = estimate_for("prod")
    expected = (
        3 * 336  # c-16 nodes
        + 3 * 336 * 0.2  # backups
        + 6 * 12  # load balancer units
        + (1 + 1 + 2) * 120  # primary, standby, two replicas of db-s-4vcpu-8gb
        + 60  # valkey db-s-2vcpu-4gb
    )
    assert estimate.total == pytest.approx(expected)


def test_single_node_has_no_load_balancer_line() -> None:
    estimate, _ = estimate_for("dev")
    assert "load balancer" not in lines(estimate)
    assert lines(estimate)["nodes"].quantity == 1


def test_ovh_is_priced_in_euro_with_the_plan_nodes() -> None:
    estimate, plan = estimate_for("prod-ovh")
    by_item = lines(estimate)
    assert estimate.currency == "EUR"
    assert by_item["postgresql enterprise nodes"].quantity == 3
    assert by_item["load balancer"].size == plan.load_balancer.size


def test_estimate_is_dated_and_serialisable() -> None:
    estimate, _ = estimate_for("staging")
    document = estimate.to_dict()
    assert document["as_of"] == do_pricing.AS_OF
    assert document["total"] == estimate.total
    assert all(set(line) >= {"item", "size", "quantity", "monthly"} for line in document["lines"])


@pytest.mark.parametrize(
    ("table", "catalog_sizes"),
    [
        (do_pricing.DROPLETS, clouds.get("digitalocean").catalog.machines),
        (ovh_pricing.INSTANCES, clouds.get("ovh").catalog.machines),
        (do_pricing.DATABASE_NODES, clouds.get("digitalocean").catalog.databases),
        (do_pricing.DATABASE_NODES, clouds.get("digitalocean").catalog.caches),
        (ovh_pricing.DATABASE_NODES, clouds.get("ovh").catalog.databases),
        (ovh_pricing.DATABASE_NODES, clouds.get("ovh").catalog.caches),
    ],
)
def test_every_size_a_stack_may_choose_has_a_price(table, catalog_sizes) -> None:
    assert set(catalog_sizes) <= set(table)
