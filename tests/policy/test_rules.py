"""Every rule, called the way CrossGuard calls it (`policy.validate(args, report_violation)`)
on hand-built arguments: silent on a compliant topology, firing on one crafted bad resource.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel, Secret
from pulumi_policy import proxy as sdk_proxy

from policy import rules
from tests.policy.craft import (
    R,
    edited,
    find,
    good_dev,
    good_digitalocean,
    good_ovh,
    outputs_resource,
    violations,
)

GOOD = {"prod": good_digitalocean, "dev": good_dev, "prod-ovh": good_ovh}


@pytest.mark.parametrize("policy", [p.name for p in rules.POLICIES])
@pytest.mark.parametrize("topology", sorted(GOOD))
def test_compliant_topologies_pass(policy: str, topology: str) -> None:
    assert violations(policy, GOOD[topology]()) == []


def fired(policy: str, resources: list[R], culprit: str | R) -> list[str]:
    """Messages `policy` reported against `culprit` (asserting it reported nothing else)."""
    found = violations(policy, resources)
    target = culprit.urn if isinstance(culprit, R) else find(resources, culprit).urn
    assert found, f"{policy} did not fire on {culprit}"
    assert {urn for _, urn in found} == {target}, found
    return [message for message, _ in found]


# --- ssh-not-public ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port_range", "source"),
    [("22", "0.0.0.0/0"), ("22", "::/0"), ("1-65535", "0.0.0.0/0"), ("all", "::/0")],
)
def test_ssh_open_to_the_internet_on_a_droplet_firewall(port_range: str, source: str) -> None:
    bad = edited(
        good_digitalocean(),
        "pyscale-prod-firewall",
        inboundRules=[{"protocol": "tcp", "portRange": port_range, "sourceAddresses": [source]}],
    )
    (message,) = fired("ssh-not-public", bad, "pyscale-prod-firewall")
    assert source in message


@pytest.mark.parametrize(
    "sources",
    [
        ["0.0.0.0/1", "128.0.0.0/1"],  # two halves
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"],
        ["::0/0"],
        ["0:0:0:0:0:0:0:0/0"],
        ["0.0.0.0/0.0.0.0"],  # netmask notation
        ["0.0.0.0/00"],  # a prefix with a leading zero
        ["1.2.3.4/0"],  # host bits set
        [" 0.0.0.0/0"],
        ["::ffff:0:0/96"],  # every IPv4 address, IPv4-mapped
        ["::/1", "8000::/1"],
    ],
)
def test_ssh_open_to_the_internet_however_it_is_written(sources: list[str]) -> None:
    bad = edited(
        good_digitalocean(),
        "pyscale-prod-firewall",
        inboundRules=[
            {"protocol": "tcp", "portRange": "22", "sourceAddresses": [s]} for s in sources
        ],
    )
    (message,) = fired("ssh-not-public", bad, "pyscale-prod-firewall")
    assert "together cover" in message


def test_ssh_from_an_address_that_cannot_be_read_is_refused() -> None:
    bad = edited(
        good_digitalocean(),
        "pyscale-prod-firewall",
        inboundRules=[{"protocol": "tcp", "portRange": "22", "sourceAddresses": ["010.0.0.0/8"]}],
    )
    (message,) = fired("ssh-not-public", bad, "pyscale-prod-firewall")
    assert "'010.0.0.0/8'" in message and "not an address in CIDR form" in message


@pytest.mark.parametrize("sources", [["198.51.100.0/24", "203.0.113.0/24"],
                                     ["2001:db8::/32"]])  # fmt: skip
def test_ssh_from_named_networks_is_not_the_internet(sources: list[str]) -> None:
    ok = edited(
        good_digitalocean(),
        "pyscale-prod-firewall",
        inboundRules=[{"protocol": "tcp", "portRange": "22", "sourceAddresses": sources}],
    )
    assert violations("ssh-not-public", ok) == []


# --- monitoring-not-public --------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "port_range", "sources"),
    [
        ("pyscale-prod-firewall", "3000", ["0.0.0.0/0"]),
        ("pyscale-prod-firewall", "9090", ["0.0.0.0/1", "128.0.0.0/1"]),
        ("pyscale-prod-firewall", "9464", ["::/0"]),
        ("pyscale-prod-firewall", "9000-9200", ["0.0.0.0/0"]),
    ],
)
def test_monitoring_ports_open_to_the_internet(
    resource: str, port_range: str, sources: list[str]
) -> None:
    bad = edited(
        good_digitalocean(),
        resource,
        inboundRules=[{"protocol": "tcp", "portRange": port_range, "sourceAddresses": sources}],
    )
    messages = fired("monitoring-not-public", bad, resource)
    assert all("monitoring.adminCidrs" in m for m in messages)


def test_metrics_from_the_private_network_are_not_public() -> None:
    assert violations("monitoring-not-public", good_digitalocean()) == []
    assert violations("monitoring-not-public", good_ovh()) == []


def test_grafana_open_on_an_ovh_security_group_without_remote_prefix() -> None:
    bad = edited(
        good_ovh(),
        "pyscale-prod-ovh-node-sg",
        rules=[{"direction": "INGRESS", "protocol": "TCP", "portRangeMin": 3000,
                "portRangeMax": 3000}],
    )  # fmt: skip
    fired("monitoring-not-public", bad, "pyscale-prod-ovh-node-sg")


def test_ssh_open_on_an_ovh_security_group_without_remote_prefix() -> None:
    # OpenStack: a rule without remoteIpPrefix and without port bounds admits every address
    # on every port.
    bad = edited(good_ovh(), "pyscale-prod-ovh-node-sg", rules=[{"direction": "INGRESS"}])
    fired("ssh-not-public", bad, "pyscale-prod-ovh-node-sg")


def test_ssh_open_on_an_openstack_rule() -> None:
    rule = R(rules.OS_SECGROUP_RULE, "ssh", {"direction": "ingress", "protocol": "tcp",
             "portRangeMin": 22, "portRangeMax": 22, "remoteIpPrefix": "0.0.0.0/0"})  # fmt: skip
    fired("ssh-not-public", [*good_ovh(), rule], "ssh")


def ssh_rule(name: str, prefix: str, group: str | None = "sg-1") -> R:
    return R(rules.OS_SECGROUP_RULE, name, {"direction": "ingress", "protocol": "tcp",
             "portRangeMin": 22, "portRangeMax": 22, "remoteIpPrefix": prefix,
             "securityGroupId": group})  # fmt: skip


def test_ssh_open_through_several_openstack_rules_of_one_group() -> None:
    halves = [ssh_rule("ssh-a", "0.0.0.0/1"), ssh_rule("ssh-b", "128.0.0.0/1")]
    (message,) = fired("ssh-not-public-across-rules", [*good_ovh(), *halves], "ssh-a")
    assert "rules ssh-a, ssh-b" in message and "cover 0.0.0.0/0" in message
    assert violations("ssh-not-public", [*good_ovh(), *halves]) == []  # neither alone


def test_openstack_rules_of_different_groups_are_not_joined() -> None:
    apart = [ssh_rule("ssh-a", "0.0.0.0/1", "sg-1"), ssh_rule("ssh-b", "128.0.0.0/1", "sg-2")]
    assert violations("ssh-not-public-across-rules", [*good_ovh(), *apart]) == []


def test_rules_of_groups_not_known_yet_are_not_joined() -> None:
    unknown = [ssh_rule("ssh-a", "0.0.0.0/1", None), ssh_rule("ssh-b", "128.0.0.0/1", None)]
    assert violations("ssh-not-public-across-rules", [*good_ovh(), *unknown]) == []


def test_a_public_rule_alone_is_reported_once() -> None:
    both = [ssh_rule("ssh-a", "0.0.0.0/0"), ssh_rule("ssh-b", "198.51.100.0/24")]
    assert violations("ssh-not-public-across-rules", [*good_ovh(), *both]) == []
    fired("ssh-not-public", [*good_ovh(), *both], "ssh-a")


@pytest.mark.parametrize("policy", ["ssh-not-public", "ssh-not-public-across-rules"])
def test_ssh_rules_are_mandatory(policy: str) -> None:
    assert rules.by_name(policy).enforcement_level is EnforcementLevel.MANDATORY


# --- web-through-load-balancer ----------------------------------------------------------


def test_public_http_to_nodes_behind_a_load_balancer() -> None:
    bad = edited(
        good_digitalocean(),
        "pyscale-prod-firewall",
        inboundRules=[{"protocol": "tcp", "portRange": "443", "sourceAddresses": ["0.0.0.0/0"]}],
    )
    (message,) = fired("web-through-load-balancer", bad, "pyscale-prod-firewall")
    assert "443" in message


def test_public_http_to_ovh_nodes() -> None:
    bad = edited(
        good_ovh(),
        "pyscale-prod-ovh-node-sg",
        rules=[{"direction": "INGRESS", "protocol": "TCP", "portRangeMin": 80,
                "portRangeMax": 443, "remoteIpPrefix": "151.101.0.0/16"}],
    )  # fmt: skip
    fired("web-through-load-balancer", bad, "pyscale-prod-ovh-node-sg")


def test_single_node_exemption_needs_a_single_node() -> None:
    # dev's open firewall with a second droplet is no longer the single-node topology.
    dev = good_dev()
    second = edited(dev, "pyscale-dev-node-1")
    extra = find(second, "pyscale-dev-node-1")
    extra.name = "pyscale-dev-node-2"
    fired("web-through-load-balancer", [*dev, extra], "pyscale-dev-firewall")


# --- load-balancer-https / load-balancer-http-health-check --------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"redirectHttpToHttps": False}, "redirectHttpToHttps"),
        ({"healthcheck": None}, "healthcheck"),
        (
            {"forwardingRules": [{"entryProtocol": "http", "entryPort": 80,
                                  "targetProtocol": "http", "targetPort": 80}]},
            "entryProtocol https",
        ),
        (
            {"forwardingRules": [{"entryProtocol": "https", "entryPort": 443,
                                  "targetProtocol": "http", "targetPort": 80}]},
            "certificate",
        ),
    ],
)  # fmt: skip
def test_digitalocean_load_balancer_without_tls_redirect_or_health(change, words) -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-lb", **change)
    messages = fired("load-balancer-https", bad, "pyscale-prod-lb")
    assert any(words in m for m in messages), messages


def test_ovh_http_listener_without_redirect() -> None:
    bad = [r for r in good_ovh() if r.type != rules.OVH_L7_POLICY]
    fired("load-balancer-https", bad, "pyscale-prod-ovh-lb-http")


def test_ovh_without_tls_listener() -> None:
    bad = [r for r in good_ovh() if r.name != "pyscale-prod-ovh-lb-https"]
    fired("load-balancer-https", bad, "pyscale-prod-ovh-lb-lb")


def test_ovh_pool_without_health_monitor() -> None:
    bad = edited(good_ovh(), "pyscale-prod-ovh-lb-web-pool", healthMonitor=None)
    fired("load-balancer-https", bad, "pyscale-prod-ovh-lb-web-pool")


def test_tcp_health_check_is_advisory() -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-lb",
                 healthcheck={"protocol": "tcp", "port": 80})  # fmt: skip
    fired("load-balancer-http-health-check", bad, "pyscale-prod-lb")
    ovh = edited(good_ovh(), "pyscale-prod-ovh-lb-web-pool", healthMonitor={"type": "TCP"})
    fired("load-balancer-http-health-check", ovh, "pyscale-prod-ovh-lb-web-pool")
    policy = rules.by_name("load-balancer-http-health-check")
    assert policy.enforcement_level is EnforcementLevel.ADVISORY


# --- data-stores-private ----------------------------------------------------------------


@pytest.mark.parametrize("store", ["pyscale-prod-pg", "pyscale-prod-pg-replica-1",
                                   "pyscale-prod-valkey"])  # fmt: skip
def test_digitalocean_store_without_firewall(store: str) -> None:
    bad = [r for r in good_digitalocean() if r.name != f"{store}-firewall"]
    fired("data-stores-private", bad, store)


def test_digitalocean_firewall_trusting_the_internet() -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-valkey-firewall",
                 rules=[{"type": "ip_addr", "value": "0.0.0.0/0"}])  # fmt: skip
    fired("data-stores-private", bad, "pyscale-prod-valkey-firewall")


def test_digitalocean_database_outside_the_vpc() -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-pg", privateNetworkUuid=None)
    fired("data-stores-private", bad, "pyscale-prod-pg")


@pytest.mark.parametrize("restrictions", [[], [{"ip": "0.0.0.0/0"}], [{"ip": "::/0"}]])
def test_ovh_database_open(restrictions: list[dict[str, str]]) -> None:
    bad = edited(good_ovh(), "pyscale-prod-ovh-cache-valkey", ipRestrictions=restrictions)
    fired("data-stores-private", bad, "pyscale-prod-ovh-cache-valkey")


def test_ovh_ip_restriction_resource_open() -> None:
    opened = R(rules.OVH_DATABASE_IP_RESTRICTION, "open", {"ip": "0.0.0.0/0"}, stack="prod-ovh")
    fired("data-stores-private", [*good_ovh(), opened], "open")


# --- prod-database-protected ------------------------------------------------------------


def test_prod_database_unprotected() -> None:
    bad = good_digitalocean()
    find(bad, "pyscale-prod-pg").protect = False
    fired("prod-database-protected", bad, "pyscale-prod-pg")


def test_prod_database_without_read_replica() -> None:
    bad = [r for r in good_digitalocean() if "replica" not in r.name]
    (message,) = fired("prod-database-protected", bad, "pyscale-prod-pg")
    assert "read replica" in message


def test_staging_needs_no_protection() -> None:
    staging = good_digitalocean("staging")
    find(staging, "pyscale-staging-pg").protect = False
    assert violations("prod-database-protected", staging) == []


@pytest.mark.parametrize(
    "change",
    [{"plan": "essential", "nodes": [{"region": "GRA"}]}, {"backupRegions": []}],
)
def test_ovh_prod_database_without_replica_or_backups(change: dict) -> None:
    bad = edited(good_ovh(), "pyscale-prod-ovh-db-postgresql", **change)
    fired("prod-database-protected", bad, "pyscale-prod-ovh-db-postgresql")


def test_ovh_prod_database_unprotected() -> None:
    bad = edited(good_ovh(), "pyscale-prod-ovh-db-postgresql", deletionProtection=False)
    find(bad, "pyscale-prod-ovh-db-postgresql").protect = False
    fired("prod-database-protected", bad, "pyscale-prod-ovh-db-postgresql")


# --- nodes-in-private-network -----------------------------------------------------------


def test_droplet_outside_the_vpc() -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-node-2", vpcUuid=None)
    find(bad, "pyscale-prod-node-2").deps = ()
    messages = fired("nodes-in-private-network", bad, "pyscale-prod-node-2")
    assert len(messages) == 2  # no VPC dependency, no vpcUuid


def test_ovh_instance_without_private_network() -> None:
    bad = good_ovh()
    find(bad, "pyscale-prod-ovh-node-1").deps = ("pyscale-prod-ovh-node-sg",)
    fired("nodes-in-private-network", bad, "pyscale-prod-ovh-node-1")


# --- no-plaintext-secrets ---------------------------------------------------------------


def test_user_data_with_credentials_must_be_secret() -> None:
    bad = good_digitalocean()
    node = find(bad, "pyscale-prod-node-1")
    node.props["userData"] = node.props["userData"].value
    (message,) = fired("no-plaintext-secrets", bad, "pyscale-prod-node-1")
    assert "userData" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("database_primary_uri", "postgresql://pyscale:hunter2@db.example:25060/app"),
        ("cache_uri", "rediss://default:pw@cache.example:25061"),
        ("admin_password", "hunter2"),
        ("tls", {"privateKey": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"}),
    ],
)
def test_plain_stack_outputs_with_credentials(key: str, value: object) -> None:
    stack = outputs_resource("prod", {"url": "https://app.example.com", key: value})
    (message,) = fired("no-plaintext-secrets", [*good_digitalocean(), stack], stack)
    assert key in message and "stack output" in message


def test_secret_outputs_pass() -> None:
    uri = Secret("postgresql://pyscale:hunter2@db.example:25060/app")
    stack = outputs_resource("prod", {"database_primary_uri": uri, "url": "https://x"})
    assert violations("no-plaintext-secrets", [*good_digitalocean(), stack]) == []


def test_plaintext_config_keys() -> None:
    config = {
        "pyscale:region": "fra1",
        "pyscale:alertSlackUrl": "https://hooks.slack.com/services/T0/B0/x",
        "pyscale:databasePassword": "hunter2",
        "pyscale:app": '{"repo": "https://deploy:tok3n@git.example.com/app.git"}',
    }
    assert rules.plaintext_config(config, secret_keys=[]) == [
        "pyscale:app",
        "pyscale:databasePassword",
    ]
    assert rules.plaintext_config(config, secret_keys=["pyscale:databasePassword",
                                                       "pyscale:app"]) == []  # fmt: skip


# --- capacity-consistent / prod-node-redundancy -----------------------------------------


def test_fewer_nodes_than_the_plan() -> None:
    bad = [r for r in good_digitalocean() if r.name != "pyscale-prod-node-3"]
    (message,) = fired("capacity-consistent", bad, "pyscale-prod")
    assert "3 nodes" in message and "creates 2" in message


def test_node_size_off_the_plan() -> None:
    bad = edited(good_digitalocean(), "pyscale-prod-node-1", size="s-1vcpu-1gb")
    fired("capacity-consistent", bad, "pyscale-prod-node-1")


def test_ovh_node_count_off_the_plan() -> None:
    bad = [r for r in good_ovh() if r.name != "pyscale-prod-ovh-node-1"]
    fired("capacity-consistent", bad, "pyscale-prod-ovh")


def test_nodes_without_a_webstack() -> None:
    bad = [r for r in good_digitalocean() if not r.type.endswith(":WebStack")]
    assert [u for _, u in violations("capacity-consistent", bad)] == [None]


def test_single_prod_node_is_advised_against() -> None:
    bad = good_digitalocean("prod", nodes=1)
    fired("prod-node-redundancy", bad, "pyscale-prod")
    assert rules.by_name("prod-node-redundancy").enforcement_level is EnforcementLevel.ADVISORY


# --- preview: values the engine does not know yet ------------------------------------------


def test_unknown_values_during_preview_neither_crash_nor_fire() -> None:
    # In a preview, ids and tag names computed from other resources arrive as the SDK's
    # unknown sentinels behind a proxy that raises on access.
    resources = good_digitalocean()
    for r in resources:
        for key in ("vpcUuid", "privateNetworkUuid", "clusterId", "dropletTag"):
            if key in r.props:
                r.props[key] = sdk_proxy.UNKNOWN_STRING_VALUE
    lb = find(resources, "pyscale-prod-lb")
    lb.props = sdk_proxy.unknown_checking_proxy(lb.props)
    for policy in rules.POLICIES:
        assert violations(policy.name, resources) == [], policy.name


def test_every_rule_documents_its_enforcement() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "delivery.md").read_text()
    for policy in rules.POLICIES:
        assert f"| `{policy.name}` | {policy.enforcement_level.value} |" in table, policy.name
