"""The DigitalOcean WebStack under Pulumi's mock engine (components/digitalocean).

Two levels. Program level: each stack file runs through the real program
(pyscale.offline.run, via the `stack_run` fixture) and the assertions read what the engine
was asked to register, resolved. Component level: a WebStack built directly under
pyscale.clouds.digitalocean.mocks, its Outputs checked inside `@pulumi.runtime.test`, where an
assertion in `.apply` fails the test instead of vanishing.

The rules live in `check_*` helpers that name the resource that broke them; the last tests
feed doctored registrations to the helpers to prove that a wrong value does fail.
"""

from __future__ import annotations

import copy
import ipaddress
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.digitalocean import WebStack, WebStackArgs, loadbalancer
from pyscale import capacity, clouds, offline, render, settings, urls
from pyscale.clouds.digitalocean import mocks, pricing
from pyscale.offline import RecordingMonitor, Registered, Run
from pyscale.rollout.plan import GATE_TYPE
from tests.unit.test_render import decoded

REPO = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")
DO = "digitalocean:index/"
DROPLET = DO + "droplet:Droplet"
FIREWALL = DO + "firewall:Firewall"
LB = DO + "loadBalancer:LoadBalancer"
CERTIFICATE = DO + "certificate:Certificate"
CLUSTER = DO + "databaseCluster:DatabaseCluster"
REPLICA = DO + "databaseReplica:DatabaseReplica"
POOL = DO + "databaseConnectionPool:DatabaseConnectionPool"
DB_FIREWALL = DO + "databaseFirewall:DatabaseFirewall"
VALKEY_CONFIG = DO + "databaseValkeyConfig:DatabaseValkeyConfig"
VPC = DO + "vpc:Vpc"
PROJECT = DO + "project:Project"
MONITOR_ALERT = DO + "monitorAlert:MonitorAlert"
UPTIME_CHECK = DO + "uptimeCheck:UptimeCheck"
UPTIME_ALERT = DO + "uptimeAlert:UptimeAlert"
WEBSTACK = "pyscale:digitalocean:WebStack"
# The WebStack's parts: component type -> the suffix of its name.
PARTS = {
    "pyscale:digitalocean:Network": "net",
    "pyscale:digitalocean:Nodes": "node",
    "pyscale:digitalocean:Database": "db",
    "pyscale:digitalocean:Cache": "cache",
    "pyscale:digitalocean:LoadBalancer": "lb",
    "pyscale:digitalocean:Monitoring": "monitoring",
    "pyscale:digitalocean:Monitor": "monitor",
}
WEB_PORTS = {"80", "443"}
# The custom-timeout keys each type's Terraform resource declares; the bridge drops, with a
# warning, any other key (terraform-provider-digitalocean: resource_droplet.go,
# resource_database_cluster.go; resource_database_replica.go declares none).
DECLARED_TIMEOUTS = {DROPLET: {"create", "update", "delete"}, CLUSTER: {"create"}}
# What each stack file must come to (Pulumi.<stack>.yaml): written out, not derived, so a
# plan or wiring change that alters the topology shows up here.
TOPOLOGY = {
    "dev": {"nodes": 1, "load_balancers": 0, "replicas": 0, "alerts": 0, "monitor": 0},
    # 4 on the droplets, 3 on the load balancer, 3 on the database clusters.
    "staging": {"nodes": 3, "load_balancers": 1, "replicas": 1, "alerts": 10, "monitor": 0},
    # prod: 25,000 req/s at 1 ms CPU need 3 c-16 nodes, plus the spare (README, Throughput);
    # its monitoring node is a droplet, a firewall and a tag of its own.
    "prod": {"nodes": 4, "load_balancers": 1, "replicas": 2, "alerts": 10, "monitor": 1},
}


# ---------------------------------------------------------------- helpers on registrations


def one(run: Run, type_token: str) -> Registered:
    """The one web-side resource of `type_token` (the monitoring node has its own)."""
    found = run.web(type_token)
    assert len(found) == 1, f"{run.stack}: expected one {type_token}, got {len(found)}"
    return found[0]


def web_tag(run: Run) -> str:
    return f"{run.settings.resource_prefix}-web"


def postgres(run: Run) -> Registered:
    (cluster,) = [c for c in run.of_type(CLUSTER) if c.inputs["engine"] == "pg"]
    return cluster


def valkey(run: Run) -> Registered:
    (cluster,) = [c for c in run.of_type(CLUSTER) if c.inputs["engine"] == "valkey"]
    return cluster


def check_firewall(firewall: Registered, load_balancer_id: str | None, vpc_cidr: str) -> None:
    """80/443 only from the load balancer (from anywhere only without one), SSH only as
    allowed by the caller's separate check, exporters only from the VPC, all outbound."""
    for rule in firewall.inputs["inboundRules"]:
        port = rule["portRange"]
        where = f"{firewall.urn}: inbound {port}"
        if port in WEB_PORTS:
            if load_balancer_id is None:
                assert set(rule.get("sourceAddresses", [])) == {"0.0.0.0/0", "::/0"}, where
            else:
                assert rule.get("sourceLoadBalancerUids") == [load_balancer_id], where
                assert not rule.get("sourceAddresses"), f"{where} is open to addresses"
                assert not rule.get("sourceTags") and not rule.get("sourceDropletIds"), where
        elif port in ("9100", "9113", "9464"):  # the exporters and the app's metrics
            assert rule["sourceAddresses"] == [vpc_cidr], where
        else:
            assert port == "22", f"{where}: unexpected port"
    outbound = {(r["protocol"], r.get("portRange", "")) for r in firewall.inputs["outboundRules"]}
    assert outbound == {("tcp", "1-65535"), ("udp", "1-65535"), ("icmp", "")}, firewall.urn


def ssh_sources(firewall: Registered) -> list[str]:
    return [
        source
        for rule in firewall.inputs["inboundRules"]
        if rule["portRange"] == "22"
        for source in rule.get("sourceAddresses", [])
    ]


def check_trusted_sources(db_firewall: Registered, tag: str, monitor: bool) -> None:
    """A database firewall admits the web tag, the monitoring node's tag where there is one
    (it reads the metrics endpoints), and nothing else."""
    tags = [tag, tag.removesuffix("-web") + "-monitor"] if monitor else [tag]
    expected = [{"type": "tag", "value": t} for t in tags]
    assert db_firewall.inputs["rules"] == expected, db_firewall.urn


def check_load_balancer(lb: Registered, plan: capacity.CapacityPlan, tag: str) -> None:
    inputs = lb.inputs
    assert inputs["sizeUnit"] == plan.load_balancer.size_unit, lb.urn
    assert inputs["dropletTag"] == tag, lb.urn
    health = inputs["healthcheck"]
    assert (health["protocol"], health["port"], health["path"]) == ("http", 80, "/healthz"), lb.urn
    for key in ("checkIntervalSeconds", "responseTimeoutSeconds", "healthyThreshold"):
        assert health[key] > 0, f"{lb.urn}: healthcheck {key}"
    assert health["unhealthyThreshold"] > 0, lb.urn
    rules = {(r["entryProtocol"], r["entryPort"]): r for r in inputs["forwardingRules"]}
    https = rules[("https", 443)]
    assert (https["targetProtocol"], https["targetPort"]) == ("http", 80), lb.urn
    assert https.get("certificateName") and not https.get("certificateId"), lb.urn
    assert ("http", 80) in rules, f"{lb.urn}: no HTTP rule to redirect"
    assert inputs["redirectHttpToHttps"] is True, lb.urn
    assert inputs["enableBackendKeepalive"] is True, lb.urn
    # Nginx trusts X-Forwarded-For from the VPC and does not speak PROXY protocol.
    assert inputs["enableProxyProtocol"] is False, lb.urn
    assert inputs["httpIdleTimeoutSeconds"] < render.NODE.client_keepalive_timeout_s, lb.urn


def check_timeouts(resource: Registered) -> None:
    """Custom timeouts only under keys the provider keeps; a dropped one would be a promise
    the provider never reads."""
    given = {key for key, value in resource.options["customTimeouts"].items() if value}
    dropped = given - DECLARED_TIMEOUTS.get(resource.type, set())
    assert not dropped, f"{resource.urn}: timeouts the provider drops: {sorted(dropped)}"


def node_secrets(run: Run) -> render.NodeSecrets:
    """The URIs the nodes were given, from the resolved exports."""
    reads = (
        tuple(run.outputs["database_read_uris"][0]) if run.settings.database.read_replicas else ()
    )
    # The CA the mocks answer getDatabaseCa with, once: both clusters give the same.
    return render.NodeSecrets(
        run.outputs["database_primary_uri"][0],
        reads,
        run.outputs["cache_uri"][0],
        provider_ca=mocks.EXAMPLE_CA,
    )


def check_user_data(droplet: Registered, expected: render.RenderedNode) -> None:
    user_data = droplet.inputs["userData"]
    assert "userData" in droplet.secret_inputs, f"{droplet.urn}: user-data not secret"
    assert user_data == expected.user_data, f"{droplet.urn}: user-data is not the rendered one"
    written = {f["path"]: f for f in yaml.safe_load(user_data)["write_files"]}
    for path in ("/etc/nginx/nginx.conf", "/etc/pyscale/gunicorn.conf.py", render.NODE.provider_ca):
        assert decoded(written[path]) == expected.file(path).content, f"{droplet.urn}: {path}"


# ------------------------------------------------------------------- program-level tests


@pytest.mark.parametrize("stack", STACKS)
def test_resource_types_and_counts(stack_run: Callable[[str], Run], stack: str) -> None:
    run = stack_run(stack)
    want = TOPOLOGY[stack]
    managed_tls = run.settings.tls == "managed"
    https = run.settings.tls != "off"
    expected = {
        WEBSTACK: 1,
        **{part: 1 for part in PARTS},
        # No load balancer part in the single-node topology.
        "pyscale:digitalocean:LoadBalancer": want["load_balancers"],
        "pyscale:digitalocean:Monitor": want["monitor"],
        VPC: 1,
        DO + "tag:Tag": 4 + want["monitor"],
        PROJECT: 1,
        DROPLET: want["nodes"] + want["monitor"],
        FIREWALL: 1 + want["monitor"],
        LB: want["load_balancers"],
        CERTIFICATE: 1 if managed_tls and want["load_balancers"] else 0,
        CLUSTER: 2,
        REPLICA: want["replicas"],
        DO + "databaseDb:DatabaseDb": 1,
        DO + "databaseUser:DatabaseUser": 1,
        POOL: 1,
        DB_FIREWALL: 2 + want["replicas"],
        VALKEY_CONFIG: 1,
        MONITOR_ALERT: want["alerts"],
        UPTIME_CHECK: 1,
        UPTIME_ALERT: (3 if https else 2) if want["alerts"] else 0,
        # One health gate per node behind a load balancer (components/gate.py).
        GATE_TYPE: want["nodes"] if want["load_balancers"] else 0,
    }
    counts = Counter(r.type for r in run.resources)
    assert counts == Counter({k: v for k, v in expected.items() if v}), stack
    assert run.plan.nodes == want["nodes"]
    assert run.plan.load_balancer.enabled == bool(want["load_balancers"])


@pytest.mark.parametrize("stack", STACKS)
def test_nodes_follow_the_plan(stack_run: Callable[[str], Run], stack: str) -> None:
    run = stack_run(stack)
    vpc = one(run, VPC)
    assert vpc.inputs["ipRange"] == run.settings.vpc_cidr
    expected = render.node(run.plan, run.settings, node_secrets(run))
    droplets = run.web(DROPLET)
    assert len(droplets) == run.plan.nodes
    for droplet in droplets:
        inputs = droplet.inputs
        assert inputs["size"] == run.settings.node_size.name, droplet.urn
        assert inputs["image"] == "debian-13-x64", droplet.urn
        assert inputs["vpcUuid"] == vpc.id, f"{droplet.urn} is not in the VPC"
        private = ipaddress.ip_address(droplet.outputs["ipv4AddressPrivate"])
        assert private in ipaddress.ip_network(run.settings.vpc_cidr), droplet.urn
        assert inputs["tags"] == [run.settings.resource_prefix, web_tag(run)], droplet.urn
        assert inputs["monitoring"] is True, droplet.urn
        assert inputs["backups"] == (stack == "prod"), droplet.urn
        # An explicit policy with backups (without one DigitalOcean backs up daily), none
        # without them (the provider refuses a policy on a droplet without backups).
        policy = {"plan": pricing.BACKUP_PLAN, "weekday": "SAT", "hour": 4}
        assert inputs.get("backupPolicy") == (policy if inputs["backups"] else None), droplet.urn
        check_user_data(droplet, expected)


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_fits_digitalocean(stack_run: Callable[[str], Run], stack: str) -> None:
    for droplet in stack_run(stack).web(DROPLET):
        size = len(droplet.inputs["userData"].encode())
        assert size <= clouds.get("digitalocean").user_data_limit == 65_536, droplet.urn


def test_nodes_are_replaced_create_before_destroy(stack_run: Callable[[str], Run]) -> None:
    run = stack_run("prod")
    for resource in run.web(DROPLET) + run.of_type(CERTIFICATE):
        assert not resource.options["deleteBeforeReplace"], resource.urn


def test_user_data_is_deterministic(stack_run: Callable[[str], Run]) -> None:
    """A second run renders byte-identical user-data: preview shows no droplet diff."""
    first = {d.name: d.inputs["userData"] for d in stack_run("prod").web(DROPLET)}
    again = {d.name: d.inputs["userData"] for d in offline.run("prod").web(DROPLET)}
    assert first == again


@pytest.mark.parametrize("stack", STACKS)
def test_firewall_admits_web_only_from_the_load_balancer(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    firewall = one(run, FIREWALL)
    assert firewall.inputs["tags"] == [web_tag(run)]
    lb_id = one(run, LB).id if run.plan.load_balancer.enabled else None
    check_firewall(firewall, lb_id, run.settings.vpc_cidr)
    web_rules = [r for r in firewall.inputs["inboundRules"] if r["portRange"] in WEB_PORTS]
    assert web_rules, f"{firewall.urn}: no web rule"
    assert ssh_sources(firewall) == [], f"{firewall.urn}: SSH open by default"


def test_ssh_opens_only_to_allowed_cidrs() -> None:
    run = offline.run("prod", overrides={"pyscale:sshAllowCidrs": '["198.51.100.0/24"]'})
    firewall = one(run, FIREWALL)
    check_firewall(firewall, one(run, LB).id, run.settings.vpc_cidr)
    assert ssh_sources(firewall) == ["198.51.100.0/24"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_load_balancer_follows_the_plan(stack_run: Callable[[str], Run], stack: str) -> None:
    run = stack_run(stack)
    lb = one(run, LB)
    check_load_balancer(lb, run.plan, web_tag(run))
    assert lb.inputs["vpcUuid"] == one(run, VPC).id
    certificate = one(run, CERTIFICATE)
    assert certificate.inputs["type"] == "lets_encrypt"
    assert certificate.inputs["domains"] == [run.settings.domain]
    https = next(r for r in lb.inputs["forwardingRules"] if r["entryProtocol"] == "https")
    assert https["certificateName"] == certificate.inputs["name"]


def test_node_tls_behind_a_load_balancer_is_refused() -> None:
    """Several nodes cannot each pass Let's Encrypt's HTTP-01 challenge through the balancer."""
    with pytest.raises(settings.SettingsError, match=r"pyscale:tls = 'node'.*nodeCount: 1"):
        offline.run("staging", overrides={"pyscale:tls": "node"})


def test_plain_http_load_balancer_has_no_redirect() -> None:
    run = offline.run("staging", overrides={"pyscale:tls": "off"})
    lb = one(run, LB)
    assert [(r["entryProtocol"], r["entryPort"]) for r in lb.inputs["forwardingRules"]] == [
        ("http", 80)
    ]
    assert lb.inputs["redirectHttpToHttps"] is False
    assert run.of_type(CERTIFICATE) == []
    assert run.outputs["url"][0] == f"http://{run.settings.domain}"


def test_certificate_name_changes_with_its_domains() -> None:
    """Rotation needs a new certificate beside the attached one: a new name per domain set."""
    same = loadbalancer.certificate_name("pyscale-prod", ["app.example.com"])
    assert same == loadbalancer.certificate_name("pyscale-prod", ["app.example.com"])
    assert same != loadbalancer.certificate_name("pyscale-prod", ["www.example.com"])


def test_uploaded_certificate_is_used_by_name() -> None:
    overrides = {"pyscale:tls": "certificate", "pyscale:certificateName": "pyscale-prod-2025"}
    run = offline.run("prod", overrides=overrides)
    assert run.of_type(CERTIFICATE) == []
    lb = one(run, LB)
    check_load_balancer(lb, run.plan, web_tag(run))
    https = next(r for r in lb.inputs["forwardingRules"] if r["entryProtocol"] == "https")
    assert https["certificateName"] == "pyscale-prod-2025"


@pytest.mark.parametrize("stack", STACKS)
def test_postgres_cluster_replicas_pool_and_firewalls(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    db = run.settings.database
    cluster = postgres(run)
    assert cluster.inputs["version"] == db.version
    assert cluster.inputs["size"] == db.size.name
    assert cluster.inputs["nodeCount"] == 1 + db.standby_nodes
    assert cluster.inputs["privateNetworkUuid"] == one(run, VPC).id
    assert cluster.inputs["maintenanceWindows"] == [
        {"day": db.maintenance_day, "hour": db.maintenance_hour}
    ]
    assert cluster.protect is (stack == "prod"), f"{cluster.urn}: protect"
    assert cluster.options["customTimeouts"]["create"], f"{cluster.urn}: no create timeout"
    for resource in run.of_type(CLUSTER) + run.of_type(REPLICA):
        check_timeouts(resource)

    replicas = run.of_type(REPLICA)
    assert len(replicas) == db.read_replicas
    for replica in replicas:
        assert replica.inputs["clusterId"] == cluster.id, replica.urn
        assert replica.inputs["region"] == run.settings.region, replica.urn

    pool = one(run, POOL)
    assert pool.inputs["clusterId"] == cluster.id
    assert pool.inputs["mode"] == run.plan.database.pool_mode
    assert pool.inputs["size"] == run.plan.database.pool_size

    # One firewall per PostgreSQL target: the primary and each replica (by its uuid).
    firewalls = {f.inputs["clusterId"]: f for f in run.of_type(DB_FIREWALL)}
    for target in [cluster.id] + [r.outputs["uuid"] for r in replicas]:
        check_trusted_sources(firewalls[target], web_tag(run), run.settings.monitoring.node)


def test_replicas_in_another_region_are_reached_on_their_public_host() -> None:
    """A VPC is regional: a replica elsewhere is outside it, reached over TLS on its public
    host, and still admits only the web tag."""
    run = offline.run("prod", overrides={"pyscale:database": '{"replicaRegion": "ams3"}'})
    replicas = run.of_type(REPLICA)
    assert replicas and all(r.inputs["region"] == "ams3" for r in replicas)
    assert all("privateNetworkUuid" not in r.inputs for r in replicas)
    reads, _ = run.outputs["database_read_uris"]
    assert sorted(u.split("@")[1].split(":")[0] for u in reads) == sorted(
        r.outputs["host"] for r in replicas
    )
    firewalls = {f.inputs["clusterId"]: f for f in run.of_type(DB_FIREWALL)}
    for replica in replicas:
        check_trusted_sources(
            firewalls[replica.outputs["uuid"]], web_tag(run), run.settings.monitoring.node
        )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("postgresql://u:p@h:25061/pool", "postgresql://u:p@h:25061/pool?sslmode=require"),
        ("postgresql://u:p@h:25061/pool?sslmode=prefer", "postgresql://u:p@h:25061/pool?sslmode=require"),
        ("postgresql://u:p@h:25061/db?application_name=web&sslmode=disable",
         "postgresql://u:p@h:25061/db?application_name=web&sslmode=require"),
    ],
)  # fmt: skip
def test_database_urls_always_require_tls(uri: str, expected: str) -> None:
    assert urls.require_tls(uri) == expected


def test_database_url_escapes_the_password() -> None:
    url = urls.postgres_url("pyscale", "p@ss:w/rd", "h", 25060, "pyscale")
    assert url == "postgresql://pyscale:p%40ss%3Aw%2Frd@h:25060/pyscale?sslmode=require"


@pytest.mark.parametrize("stack", STACKS)
def test_valkey_evicts_and_admits_only_the_nodes(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    cluster = valkey(run)
    assert cluster.inputs["privateNetworkUuid"] == one(run, VPC).id
    config = one(run, VALKEY_CONFIG)
    assert config.inputs["clusterId"] == cluster.id
    assert config.inputs["valkeyMaxmemoryPolicy"] == run.settings.cache.eviction_policy
    assert config.inputs["valkeyMaxmemoryPolicy"] != "noeviction"
    (firewall,) = [f for f in run.of_type(DB_FIREWALL) if f.inputs["clusterId"] == cluster.id]
    check_trusted_sources(firewall, web_tag(run), run.settings.monitoring.node)


@pytest.mark.parametrize("stack", STACKS)
def test_connection_strings_are_secret_and_require_tls(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    primary, primary_secret = run.outputs["database_primary_uri"]
    reads, reads_secret = run.outputs["database_read_uris"]
    cache, cache_secret = run.outputs["cache_uri"]
    assert primary_secret and reads_secret and cache_secret
    pool = one(run, POOL)
    assert primary.startswith(f"postgresql://pyscale:{pool.outputs['password']}@")
    assert f":25061/{pool.inputs['name']}?" in primary, "DATABASE_URL is not the pool"
    for uri in [primary, *reads]:
        assert "sslmode=require" in uri, uri
    expected_reads = run.settings.database.read_replicas or 1  # none: reads use the primary
    assert len(reads) == expected_reads
    assert cache.startswith("rediss://")


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_sits_in_a_part_of_the_webstack(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    """Parts are the WebStack's children and resources the parts' (but the Project, which
    groups the whole stack)."""
    run = stack_run(stack)
    (web,) = run.of_type(WEBSTACK)
    assert web.inputs == {
        "cloud": "digitalocean",
        "environment": run.settings.environment,
        "nodeCount": run.plan.nodes,
        "nodeSize": run.settings.node_size.name,
    }
    parts = {r.urn: r for r in run.resources if r.type in PARTS}
    for part in parts.values():
        assert part.parent == web.urn, f"{part.urn} is not parented to {web.urn}"
        assert part.name == f"{web.name}-{PARTS[part.type]}", part.urn
    for resource in run.resources:
        if resource is not web:
            on_the_webstack = resource.type in PARTS or resource.type == PROJECT
            expected = {web.urn} if on_the_webstack else set(parts)
            assert resource.parent in expected, f"{resource.urn} is not in a part of {web.urn}"
            assert resource.name.startswith(run.settings.resource_prefix + "-"), resource.urn


@pytest.mark.parametrize("stack", STACKS)
def test_project_groups_every_billable_resource(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    project = one(run, PROJECT)
    urns = [d.outputs["dropletUrn"] for d in run.of_type(DROPLET)]
    urns += [lb.outputs["loadBalancerUrn"] for lb in run.of_type(LB)]
    urns += [c.outputs["clusterUrn"] for c in run.of_type(CLUSTER)]
    assert sorted(project.inputs["resources"]) == sorted(urns)
    assert project.inputs["environment"] == {"dev": "Development", "staging": "Staging",
                                             "prod": "Production"}[stack]  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_monitoring_watches_the_nodes_and_the_url(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    check = one(run, UPTIME_CHECK)
    assert check.inputs["target"] == run.outputs["url"][0]
    alerts = run.of_type(MONITOR_ALERT)
    by_kind = {a.inputs["type"]: a for a in alerts}
    if run.settings.alerts.emails:
        droplet = {"cpu", "memory_utilization_percent", "disk_utilization_percent", "load_5"}
        assert {t.rsplit("/", 1)[1] for t in by_kind if "/droplet/" in t} == droplet
        lb, clusters = one(run, LB), run.of_type(CLUSTER)
        for kind in ("connection_utilization_percent",
                     "tls_connections_per_second_utilization_percent"):  # fmt: skip
            alert = by_kind[f"v1/insights/lbaas/{kind}"]
            assert alert.inputs["entities"] == [lb.id] and alert.inputs["value"] == 80
        thresholds = run.settings.alerts
        for kind, threshold in (("cpu_alerts", thresholds.cpu_percent),
                                ("memory_utilization_alerts", thresholds.memory_percent),
                                ("disk_utilization_alerts", thresholds.disk_percent)):  # fmt: skip
            alert = by_kind[f"v1/dbaas/alerts/{kind}"]
            assert sorted(alert.inputs["entities"]) == sorted(c.id for c in clusters)
            assert alert.inputs["value"] == threshold
    for alert in alerts:
        where = alert.inputs.get("tags") or alert.inputs["entities"]
        assert where == [web_tag(run)] or "/droplet/" not in alert.inputs["type"], alert.urn
        assert alert.inputs["alerts"]["emails"] == list(run.settings.alerts.emails), alert.urn
    for uptime_alert in run.of_type(UPTIME_ALERT):
        assert uptime_alert.inputs["checkId"] == check.id, uptime_alert.urn


def test_slack_alerts_need_the_webhook_secret() -> None:
    url = "https://hooks.slack.com/services/T0/B0/x"
    run = offline.run("prod", overrides={"pyscale:alertSlackUrl": url},
                      secret_overrides=["pyscale:alertSlackUrl"])  # fmt: skip
    for alert in run.of_type(MONITOR_ALERT):
        (slack,) = alert.inputs["alerts"]["slacks"]
        assert slack == {"channel": "#pyscale-alerts", "url": url}


@pytest.mark.parametrize("stack", STACKS)
def test_backups_are_priced_at_the_plan_the_droplets_request(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    """The estimate's backup line is the droplets' own policy at its price (weekly 20%,
    daily 30% of the droplet), and there is none when the droplets have no backups."""
    run = stack_run(stack)
    lines = {line["item"]: line for line in run.outputs["monthly_cost_estimate"][0]["lines"]}
    plans = {d.inputs.get("backupPolicy", {}).get("plan") for d in run.web(DROPLET)}
    if not run.settings.backups:
        assert "node backups" not in lines and plans == {None}
        return
    (plan,) = plans
    backups = lines["node backups"]
    assert backups["quantity"] == len(run.web(DROPLET))
    droplet = pricing.DROPLETS[run.settings.node_size.name]
    assert backups["unit_monthly"] == pytest.approx(droplet * pricing.BACKUP_FRACTIONS[plan])
    assert plan in backups["size"]


def test_single_node_exports_the_node_address(stack_run: Callable[[str], Run]) -> None:
    run = stack_run("dev")
    (droplet,) = run.web(DROPLET)
    assert run.outputs["load_balancer_ip"][0] == droplet.outputs["ipv4Address"]
    assert run.outputs["node_ips"][0] == [droplet.outputs["ipv4Address"]]
    assert run.outputs["url"][0] == f"https://{run.settings.domain}"


# ------------------------------------------------------------ the checks do catch mistakes


def doctored(resource: Registered, change: Callable[[dict[str, Any]], None]) -> Registered:
    copied = copy.deepcopy(resource)
    change(copied.inputs)
    return copied


def test_a_wrong_value_fails_the_checks(stack_run: Callable[[str], Run]) -> None:
    run = stack_run("prod")
    lb = one(run, LB)
    firewall = one(run, FIREWALL)
    tag = web_tag(run)

    def open_web(inputs: dict[str, Any]) -> None:
        inputs["inboundRules"][0]["sourceAddresses"] = ["0.0.0.0/0"]

    def open_exporter(inputs: dict[str, Any]) -> None:
        inputs["inboundRules"][-1]["sourceAddresses"] = ["0.0.0.0/0"]

    with pytest.raises(AssertionError, match="inbound 80"):
        check_firewall(doctored(firewall, open_web), lb.id, run.settings.vpc_cidr)
    with pytest.raises(AssertionError, match="inbound 9464"):
        check_firewall(doctored(firewall, open_exporter), lb.id, run.settings.vpc_cidr)

    def shrink(inputs: dict[str, Any]) -> None:
        inputs["sizeUnit"] = run.plan.load_balancer.size_unit - 1

    def proxy_protocol(inputs: dict[str, Any]) -> None:
        inputs["enableProxyProtocol"] = True

    for change in (shrink, proxy_protocol):
        with pytest.raises(AssertionError, match="LoadBalancer"):
            check_load_balancer(doctored(lb, change), run.plan, tag)

    def admit_anyone(inputs: dict[str, Any]) -> None:
        inputs["rules"].append({"type": "ip_addr", "value": "0.0.0.0/0"})

    db_firewall = run.of_type(DB_FIREWALL)[0]
    with pytest.raises(AssertionError, match="DatabaseFirewall"):
        check_trusted_sources(
            doctored(db_firewall, admit_anyone), tag, run.settings.monitoring.node
        )

    def stale_user_data(inputs: dict[str, Any]) -> None:
        inputs["userData"] = inputs["userData"].replace("worker_connections", "worker_conn", 1)

    droplet = run.web(DROPLET)[0]
    expected = render.node(run.plan, run.settings, node_secrets(run))
    with pytest.raises(AssertionError, match="Droplet"):
        check_user_data(doctored(droplet, stale_user_data), expected)

    cluster, replica = postgres(run), run.of_type(REPLICA)[0]
    for resource, key in ((cluster, "update"), (cluster, "delete"), (replica, "create")):
        timed = copy.deepcopy(resource)
        timed.options["customTimeouts"][key] = "2h"
        with pytest.raises(AssertionError, match=f"timeouts the provider drops: \\['{key}'\\]"):
            check_timeouts(timed)


# ------------------------------------------------------------------ component-level tests


@pytest.fixture
def recorder(mock_engine) -> RecordingMonitor:
    """The mock engine for one component test, recording what the component registers."""
    return mock_engine("prod")


def build(stack: str) -> tuple[WebStack, settings.Settings, capacity.CapacityPlan]:
    stack_settings = settings.load(stack, REPO)
    plan = capacity.plan(stack_settings)
    web = WebStack(stack_settings.resource_prefix, WebStackArgs(stack_settings, plan))
    return web, stack_settings, plan


@pulumi.runtime.test
def test_component_outputs_are_secret_where_they_hold_credentials(recorder: RecordingMonitor):
    web, _, _ = build("prod")
    secret_outputs = (web.database_primary_uri, web.database_read_uris, web.cache_uri)
    public_outputs = (web.url, web.load_balancer_ip, web.node_ips)

    def check(flags: list[bool]) -> None:
        secret_flags, public_flags = flags[:3], flags[3:]
        assert all(secret_flags), f"credential outputs not secret: {secret_flags}"
        assert not any(public_flags), f"public outputs needlessly secret: {public_flags}"

    return pulumi.Output.all(*(o.is_secret() for o in secret_outputs + public_outputs)).apply(check)


@pulumi.runtime.test
def test_component_nodes_boot_with_the_rendered_config(recorder: RecordingMonitor):
    web, stack_settings, plan = build("prod")

    def check(values: list) -> None:
        node_ips, primary, reads, cache, url, lb_ip = values
        assert len(node_ips) == plan.nodes
        assert url == "https://app.pyscale.example.com"
        assert lb_ip.startswith("198.51.100.")
        expected = render.node(
            plan,
            stack_settings,
            render.NodeSecrets(primary, tuple(reads), cache, provider_ca=mocks.EXAMPLE_CA),
        )
        droplets = [r for r in recorder.registered if r.type == DROPLET and "-node-" in r.name]
        assert len(droplets) == plan.nodes
        for droplet in droplets:
            assert "userData" in droplet.secret_inputs, f"{droplet.urn}: user-data not secret"
            assert droplet.inputs["userData"] == expected.user_data, droplet.urn

    return pulumi.Output.all(
        web.node_ips,
        web.database_primary_uri,
        web.database_read_uris,
        web.cache_uri,
        web.url,
        web.load_balancer_ip,
    ).apply(check)


@pulumi.runtime.test
def test_component_single_node_has_no_load_balancer(recorder: RecordingMonitor):
    web, _, _ = build("dev")

    def check(values: list) -> None:
        node_ips, lb_ip = values
        assert [node_ips[0]] == node_ips and lb_ip == node_ips[0]
        types = {r.type for r in recorder.registered}
        assert LB not in types and CERTIFICATE not in types

    return pulumi.Output.all(web.node_ips, web.load_balancer_ip).apply(check)


def test_mocks_know_every_type_the_webstack_uses(stack_run: Callable[[str], Run]) -> None:
    used = {r.type for stack in STACKS for r in stack_run(stack).resources if r.custom}
    # The health gate is Pulumi's dynamic resource, answered by the neutral offline mocks.
    assert used - {GATE_TYPE} <= set(mocks.TYPES)
