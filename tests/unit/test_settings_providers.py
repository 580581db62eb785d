"""What DigitalOcean and OVHcloud would refuse, or silently not honour, is refused at plan
time: each message names the key, the value, what the provider allows and the source
(docs/providers.md). The catalogs offer only what a stack can be built with, and every
refusal is one a stack can reach."""

from pathlib import Path
from typing import Any

import pytest

from pyscale import clouds, settings
from pyscale.clouds.digitalocean import catalog as do_catalog
from pyscale.clouds.ovh import catalog as ovh_catalog
from pyscale.settings import declarations, describe

BASE = {
    "digitalocean": {"cloud": "digitalocean", "domain": "app.example.com"},
    "ovh": {
        "cloud": "ovh",
        "ovhServiceName": "0123456789abcdef" * 2,
        "tls": "certificate",
        "certificateName": "pyscale-prod",
    },
}


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """{"cache": {"version": "7"}} from ("cache.version", "7")."""
    group, _, key = dotted.rpartition(".")
    return {group: {key: value}} if group else {dotted: value}


def refused(cloud: str, dotted: str, value: Any, stack: str = "prod") -> settings.Problem:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse(stack, {**BASE[cloud], **nested(dotted, value)})
    found = caught.value.problems
    assert [(p.key, p.value) for p in found] == [(dotted, value)], found
    return found[0]


# (cloud, key, value, what the message must say: the rule, what is allowed, the source)
NAMED = [
    ("digitalocean", "cache.evictionPolicy", "allkeys-lfu",
     ("no LFU", "allkeys-lru", "resource_database_valkey_config.go")),
    ("digitalocean", "cache.evictionPolicy", "volatile-lfu",
     ("no LFU", "volatile-lru", "eviction_policy_model.yml")),
    ("digitalocean", "cache.version", "7", ("version 8 only", "one of 8", "options.valkey")),
    ("digitalocean", "cache.version", 7, ("version 8 only", "one of 8", "options.valkey")),
    ("digitalocean", "database.version", "14",
     ("on 2026-05-12", "end of life 2026-11-12", "one of 15, 16, 17",
      "version_availability.pg")),
    ("digitalocean", "database.version", 13, ("on 2025-05-13", "version_availability.pg")),
    ("digitalocean", "database.size", "db-s-8vcpu-32gb",
     ("not for PostgreSQL", "db-s-6vcpu-16gb", "options.pg.layouts", "PR #898")),
    ("digitalocean", "database.size", "db-s-16vcpu-64gb", ("for PostgreSQL", "PR #898")),
    ("digitalocean", "region", "nyc2",
     ("no managed Valkey", "load-balancer size units", "in nyc2", "one of ams3",
      "options.valkey.regions", "load_balancer_base.yml")),
    ("digitalocean", "region", "ams2", ("no managed PostgreSQL", "options.pg.regions")),
    ("ovh", "region", "EU-WEST-PAR",
     ("no managed PostgreSQL", "GRA11", "postgresql_01_capabilities")),
    ("ovh", "region", "EU-SOUTH-MIL", ("no managed PostgreSQL", "Supported regions")),
    ("ovh", "database.version", "14",
     ("end of life on 2026-11-12", "would not stay 14", "one of 15, 16, 17",
      "lifecycle_policy")),
]  # fmt: skip


@pytest.mark.parametrize(("cloud", "key", "value", "says"), NAMED)
def test_what_the_provider_refuses_is_refused_with_its_source(
    cloud: str, key: str, value: Any, says: tuple[str, ...]
) -> None:
    problem = refused(cloud, key, value)
    message = str(problem)
    assert message.startswith(f"pyscale:{key} = {value!r}: "), message
    for words in says:
        assert words in message, (words, message)


def test_every_refusal_is_reached_with_its_fact() -> None:
    """A refusal of a value the catalog still offers would never be said: each one is what a
    stack holding the value is told, on the cloud that refuses it."""
    for name in clouds.NAMES:
        cloud = clouds.get(name)
        for refusal in cloud.settings.refused:
            assert refusal.key in declarations.BY_KEY, refusal.key
            assert refusal.fact.source, refusal
            kind = declarations.BY_KEY[refusal.key].kind
            offered = kind.options(cloud)
            for value in refusal.values:
                assert value not in offered, (name, refusal.key, value)
                assert str(refusal.fact) in refused(name, refusal.key, value).allowed


def test_the_issue_s_examples_are_all_refusals() -> None:
    """LFU on DigitalOcean, PostgreSQL 14, Valkey 7 on DigitalOcean, PostgreSQL in EU-WEST-PAR."""
    do_rules, ovh_rules = (clouds.get(n).settings for n in ("digitalocean", "ovh"))
    assert do_rules.refusal("cache.evictionPolicy", "allkeys-lfu")
    assert do_rules.refusal("database.version", 14)
    assert do_rules.refusal("cache.version", "7")
    assert ovh_rules.refusal("region", "EU-WEST-PAR")
    assert not do_rules.refusal("database.version", "17")


def test_digitalocean_regions_have_everything_a_stack_needs() -> None:
    assert do_catalog.REGIONS
    for region in do_catalog.REGIONS:
        assert do_catalog.missing_in(region) == [], region
        assert region in do_catalog.VALKEY_REGIONS and region in do_catalog.POSTGRES_REGIONS
    for region in (*do_catalog.NO_LB_SIZE_UNITS, "nyc2"):
        assert region not in do_catalog.REGIONS, region
    # Size units matter only to multi-node stacks: refusing such a region for every stack is
    # right only while none lacks them alone.
    for region in do_catalog.NO_LB_SIZE_UNITS:
        assert len(do_catalog.missing_in(region)) > 1, region


def test_a_replica_may_live_where_postgresql_is_but_valkey_is_not() -> None:
    parsed = settings.parse(
        "prod", {**BASE["digitalocean"], **nested("database.replicaRegion", "nyc2")}
    )
    assert parsed.database.replica_region == "nyc2" and parsed.region == "fra1"


def test_postgresql_versions_offered_are_those_still_created() -> None:
    do_offered = clouds.get("digitalocean").catalog.database_versions
    assert do_offered == do_catalog.OFFERED_POSTGRES == ("15", "16", "17")
    for version in do_offered:
        availability = do_catalog.POSTGRES_VERSIONS[version]
        assert availability.end_of_availability > do_catalog.VERSIONS_CHECKED
    assert clouds.get("ovh").catalog.database_versions == ("15", "16", "17")
    assert settings.parse("prod", BASE["digitalocean"]).database.version == "17"


@pytest.mark.parametrize(
    ("count", "monitor", "ok"),
    [(50, False, True), (51, False, False), (500, False, False), (49, True, True),
     (50, True, False)],
)  # fmt: skip
def test_digitalocean_nodes_fit_the_databases_trusted_sources(
    count: int, monitor: bool, ok: bool
) -> None:
    """The monitoring node reads the metrics endpoints, so it is a trusted source too."""
    raw = {**BASE["digitalocean"], "nodeCount": count, "monitoring": {"node": monitor}}
    if ok:
        assert settings.parse("prod", raw).node_count == count
        return
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse("prod", raw)
    (problem,) = caught.value.problems
    assert problem.key == "nodeCount"
    assert "at most 50 nodes" in problem.allowed and "a droplet counts 2" in problem.allowed
    assert "postgresql/details/limits" in problem.allowed
    assert ("the monitoring node counting as one" in problem.allowed) == monitor


def test_the_node_ceiling_is_the_provider_s_arithmetic() -> None:
    limit = clouds.get("digitalocean").catalog.max_nodes
    assert limit is not None and limit is do_catalog.MAX_NODES
    assert limit.value * do_catalog.ADDRESSES_PER_DROPLET <= do_catalog.TRUSTED_SOURCE_ADDRESSES
    assert clouds.get("ovh").catalog.max_nodes is None
    assert settings.parse("prod", {**BASE["ovh"], "nodeCount": 200}).node_count == 200


def test_eviction_defaults_are_set_against_the_engine_s() -> None:
    """DigitalOcean's Valkey would keep noeviction (a full cache refuses writes): pyscale sets
    a policy it takes. OVHcloud lets no one set it: the catalog says what the engine keeps."""
    do, ovh = clouds.get("digitalocean"), clouds.get("ovh")
    assert do.catalog.engine_eviction_policy == "noeviction"
    assert do.defaults.eviction_policy in do.catalog.eviction_policies
    assert do.defaults.eviction_policy != do.catalog.engine_eviction_policy
    assert ovh.defaults.eviction_policy is None and ovh.catalog.eviction_policies == ()
    assert ovh.catalog.engine_eviction_policy == ovh_catalog.ENGINE_EVICTION_POLICY
    assert "noeviction" in ovh.settings.why_ignored("cache.evictionPolicy")


def test_alert_e_mails_are_flagged_as_needing_verification() -> None:
    """DigitalOcean refuses an alert to an address the account has not verified; pyscale
    cannot see the account, so the table says it and the plan lists it as a prerequisite."""
    fact = clouds.get("digitalocean").settings.unchecked["alerts.emails"]
    assert fact is do_catalog.ALERT_EMAILS_VERIFIED and "PR #830" in fact.source
    assert "verified" in describe.where(declarations.BY_KEY["alerts.emails"])
    alerts = nested("alerts.emails", ["a@b.c"]) | nested("monitoring.node", False)
    parsed = settings.parse("prod", {**BASE["digitalocean"], **alerts})
    assert parsed.alerts.emails == ("a@b.c",)


def test_ovh_db1_4_is_two_vcores() -> None:
    size = clouds.get("ovh").catalog.databases["db1-4"]
    assert (size.vcpus, size.memory_gib) == (2, 4)


def test_every_finding_has_one_decision_with_its_source() -> None:
    """docs/providers.md: one row per finding of issue 13 (D1-D16, O1-O13), each with a
    decision and a source, so none is left unhandled or silently dropped."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "providers.md").read_text()
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0][:1] in ("D", "O") and cells[0][1:].isdigit():
            assert cells[0] not in rows, f"{cells[0]} twice"
            rows[cells[0]] = cells
    wanted = [f"D{i}" for i in range(1, 17)] + [f"O{i}" for i in range(1, 14)]
    assert sorted(rows) == sorted(wanted)
    decisions = ("refused", "made true", "documented", "corrected", "verified", "resolved")
    for item, (_, decision, _, source) in rows.items():
        assert decision.startswith(decisions), (item, decision)
        assert source, item
