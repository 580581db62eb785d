"""pyscale/pricing.py and each cloud's price table: the estimate prices what the plan
creates, at the billing the cloud applies to what is requested, every line with its source."""

import dataclasses
import re
from pathlib import Path

import pytest

from pyscale import capacity, clouds, pricing, settings
from pyscale.clouds.digitalocean import pricing as do_pricing
from pyscale.clouds.ovh import pricing as ovh_pricing

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def estimate_for(stack: str, **changes: object) -> tuple[pricing.Estimate, capacity.CapacityPlan]:
    loaded = dataclasses.replace(settings.load(stack, REPO), **changes)
    plan = capacity.plan(loaded)
    return pricing.estimate(loaded, plan), plan


def lines(estimate: pricing.Estimate) -> dict[str, pricing.Line]:
    return {line.item: line for line in estimate.lines}


def test_prod_prices_every_billed_part() -> None:
    estimate, plan = estimate_for("prod")
    by_item = lines(estimate)
    assert by_item["nodes"].quantity == plan.nodes == 4
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
        4 * 336  # c-16 nodes
        + 4 * 336 * 0.2  # weekly backups, the plan the droplets request
        + 24  # the monitoring node, s-2vcpu-4gb
        + 6 * 12  # load balancer units
        + (1 + 1 + 2) * 120  # primary, standby, two replicas of db-s-4vcpu-8gb
        + 60  # valkey db-s-2vcpu-4gb
    )
    assert estimate.total == pytest.approx(expected)


@pytest.mark.parametrize(("plan", "share"), [("weekly", 0.2), ("daily", 0.3)])
def test_droplet_backups_are_priced_at_the_plan_requested(
    monkeypatch: pytest.MonkeyPatch, plan: str, share: float
) -> None:
    """DigitalOcean's basic backup plans: weekly 20%, daily 30% of the droplet (its pricing
    page); the estimate follows the plan the nodes request, whichever it is."""
    monkeypatch.setattr(do_pricing, "BACKUP_PLAN", plan)
    backups = lines(estimate_for("prod")[0])["node backups"]
    assert backups.unit_monthly == pytest.approx(do_pricing.DROPLETS["c-16"] * share)
    assert plan in backups.size


def test_no_backups_no_backup_line() -> None:
    for stack in ("prod", "prod-ovh"):
        assert "node backups" not in lines(estimate_for(stack, backups=False)[0]), stack


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


def test_ovh_instances_are_billed_by_the_hour() -> None:
    """CloudInstance has no monthly option: a node costs its hourly price for 730 hours."""
    nodes = lines(estimate_for("prod-ovh")[0])["nodes"]
    assert nodes.unit_monthly == pytest.approx(ovh_pricing.INSTANCES_HOURLY["c3-32"] * 730)
    assert nodes.source.billing.startswith("hourly")


def test_ovh_network_lines_follow_what_the_stack_creates() -> None:
    """The floating IP exists only with the load balancer; the gateway in every topology."""
    with_lb = lines(estimate_for("prod-ovh")[0])
    assert with_lb["floating ip"].quantity == with_lb["gateway"].quantity == 1
    assert with_lb["gateway"].size == ovh_pricing.GATEWAY_MODEL
    loaded = settings.load("prod-ovh", REPO)
    slow = dataclasses.replace(loaded.workload, latency_ms=10_000)  # one node's CPU holds it
    # A single plaintext node (refused in a prod stack file; the estimate does not care).
    single = lines(estimate_for("prod-ovh", node_count=1, tls="off", workload=slow)[0])
    assert "floating ip" not in single and "load balancer" not in single
    assert single["gateway"].quantity == 1


def test_ovh_backups_are_the_rotation_kept_per_node() -> None:
    estimate, plan = estimate_for("prod-ovh", backups=True)
    backups = lines(estimate)["node backups"]
    assert backups.quantity == plan.nodes
    kept_gb = ovh_pricing.BACKUP_ROTATION * ovh_pricing.BACKUP_GB_ASSUMED
    assert backups.unit_monthly == pytest.approx(
        kept_gb * ovh_pricing.BACKUP_GB_HOURLY * 730, abs=0.01
    )


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_line_names_its_source_date_and_billing(stack: str) -> None:
    estimate, _ = estimate_for(stack)
    for line in estimate.lines:
        assert line.source.url.startswith("https://"), line
        assert DATE.fullmatch(line.source.as_of), line
        assert line.source.billing, line
    assert estimate.as_of == min(line.source.as_of for line in estimate.lines)


def test_estimate_is_dated_and_serialisable() -> None:
    estimate, _ = estimate_for("staging")
    document = estimate.to_dict()
    assert document["as_of"] == do_pricing.DROPLET_SOURCE.as_of
    assert document["total"] == estimate.total
    keys = {"item", "size", "quantity", "monthly", "billing", "source", "as_of"}
    assert all(set(line) >= keys for line in document["lines"])


@pytest.mark.parametrize(
    ("table", "catalog_sizes"),
    [
        (do_pricing.DROPLETS, clouds.get("digitalocean").catalog.machines),
        (ovh_pricing.INSTANCES_HOURLY, clouds.get("ovh").catalog.machines),
        (do_pricing.DATABASE_NODES, clouds.get("digitalocean").catalog.databases),
        (do_pricing.DATABASE_NODES, clouds.get("digitalocean").catalog.caches),
        (ovh_pricing.DATABASE_NODES, clouds.get("ovh").catalog.databases),
        (ovh_pricing.DATABASE_NODES, clouds.get("ovh").catalog.caches),
    ],
)
def test_every_size_a_stack_may_choose_has_a_price(table, catalog_sizes) -> None:
    assert set(catalog_sizes) <= set(table)
