"""The OVHcloud WebStack under Pulumi's mock engine: what `pulumi up --stack prod-ovh` sends.

Most tests read one offline run of the real program (pyscale/offline: registrations
with their inputs, ids and options, exports already resolved). Variants of the stack are
the same stack file with config overrides, as `pulumi config set` would make them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from functools import cache

import pulumi
import pytest

from components.ovh import WebStack, WebStackArgs, database, loadbalancer, network
from pyscale import capacity, clouds, offline, render, settings, urls
from pyscale.clouds.ovh import mocks, pricing
from pyscale.rollout.plan import GATE_TYPE
from tests.stacks.variants import run_as

STACK = "prod-ovh"
T_VRACK = "ovh:index/cloudNetworkPrivateVrack:CloudNetworkPrivateVrack"
T_SUBNET = "ovh:index/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet"
T_GATEWAY = "ovh:index/cloudGateway:CloudGateway"
T_SG = "ovh:index/cloudSecurityGroup:CloudSecurityGroup"
T_INSTANCE = "ovh:index/cloudInstance:CloudInstance"
T_FIP = "ovh:index/cloudFloatingIp:CloudFloatingIp"
T_LB = "ovh:index/cloudLoadbalancer:CloudLoadbalancer"
T_LISTENER = "ovh:index/cloudLoadbalancerListener:CloudLoadbalancerListener"
T_POOL = "ovh:index/cloudLoadbalancerPool:CloudLoadbalancerPool"
T_MEMBER = "ovh:index/cloudLoadbalancerPoolMember:CloudLoadbalancerPoolMember"
T_L7 = "ovh:index/cloudLoadbalancerL7policy:CloudLoadbalancerL7policy"
T_DB = "ovh:CloudProject/database:Database"
T_DBI = "ovh:CloudProjectDatabase/databaseInstance:DatabaseInstance"
T_PGUSER = "ovh:CloudProjectDatabase/postgresSqlUser:PostgresSqlUser"
T_PGPOOL = "ovh:CloudProjectDatabase/postgresSqlConnectionPool:PostgresSqlConnectionPool"
T_VKUSER = "ovh:index/cloudProjectDatabaseValkeyUser:CloudProjectDatabaseValkeyUser"
T_BACKUP = "ovh:CloudProject/workflowBackup:WorkflowBackup"
T_USER = "ovh:CloudProject/user:User"
T_PROMETHEUS = "ovh:CloudProjectDatabase/prometheus:Prometheus"
LB_TYPES = (T_FIP, T_LB, T_LISTENER, T_POOL, T_MEMBER, T_L7)
SSH_CIDR = "198.51.100.0/24"


# prod's 50,000 on one node: requests that wait 10 s (5,000 req/s) fit one node's CPU.
ONE_NODE = {"nodeCount": "1", "workload": '{"latencyMs": 10000}'}


@cache
def run(**overrides: str) -> offline.Run:
    """One offline run per variant of the prod-ovh stack (`pyscale:` keys as overrides)."""
    return offline.run(STACK, overrides={f"pyscale:{k}": v for k, v in overrides.items()})


@cache
def run_staging(**overrides: str) -> offline.Run:
    """The prod-ovh stack file as a staging stack: the variants prod refuses (one node,
    plaintext, no backups)."""
    # Alerts on OVHcloud go through the monitoring node, off by default in staging.
    staging = {"environment": "staging", "monitoring": '{"node": true}'}
    config = {f"pyscale:{k}": v for k, v in {**staging, **overrides}.items()}
    return run_as(STACK, "staging-ovh", config)


def one(r: offline.Run, type_token: str, engine: str | None = None) -> offline.Registered:
    found = [x for x in r.web(type_token) if engine is None or x.inputs["engine"] == engine]
    assert len(found) == 1, f"expected one {type_token} {engine or ''}, got {len(found)}"
    return found[0]


def ingress(r: offline.Run) -> set[tuple[int, str]]:
    rules = one(r, T_SG).inputs["rules"]
    assert all(rule["direction"] == "INGRESS" and rule["protocol"] == "TCP" for rule in rules)
    assert all(rule["portRangeMin"] == rule["portRangeMax"] for rule in rules)
    return {(rule["portRangeMin"], rule["remoteIpPrefix"]) for rule in rules}


def private_ips(r: offline.Run) -> list[str]:
    subnet = one(r, T_SUBNET).id
    return [
        address["ip"]
        for node in r.web(T_INSTANCE)
        for net in node.outputs["currentState"]["networks"]
        if net.get("subnetId") == subnet
        for address in net["addresses"]
    ]


def assert_members_are_nodes(r: offline.Run) -> None:
    """Every pool has every node, on the private subnet, at the pool's member port."""
    subnet = one(r, T_SUBNET).id
    for pool in r.of_type(T_POOL):
        members = [m for m in r.of_type(T_MEMBER) if m.inputs["poolId"] == pool.id]
        assert sorted(m.inputs["address"] for m in members) == sorted(private_ips(r)), pool.urn
        assert {m.inputs["subnetId"] for m in members} == {subnet}, pool.urn


# --- shape -----------------------------------------------------------------------------


def test_resource_types_and_counts() -> None:
    r = run()
    counts = Counter(x.type for x in r.resources if x.custom)
    nodes = r.plan.nodes
    assert counts == {
        # The web nodes' and the monitoring node's security group and instances.
        T_VRACK: 1, T_SUBNET: 1, T_GATEWAY: 1, T_SG: 2, T_INSTANCE: nodes + 1,
        T_FIP: 1, T_LB: 1, T_LISTENER: 2, T_POOL: 1, T_MEMBER: nodes, T_L7: 1,
        T_DB: 2, T_DBI: 1, T_PGUSER: 1, T_PGPOOL: 1, T_VKUSER: 1,
        # prod takes backups unless the stack says otherwise: one workflow per web node.
        T_BACKUP: nodes,
        # The monitoring node's (on in prod) read-only OpenStack user for Prometheus, and
        # OVHcloud's Prometheus integration on PostgreSQL and on Valkey.
        T_USER: 1, T_PROMETHEUS: 2,
        GATE_TYPE: nodes,  # one health gate per node (components/gate.py)
    }  # fmt: skip
    assert r.settings.backups


def test_every_child_descends_from_the_webstack_with_a_unique_name() -> None:
    r = run()
    stack = one(r, "pyscale:ovh:WebStack")
    assert stack.inputs == {
        "cloud": "ovh",
        "environment": "prod",
        "nodeCount": r.plan.nodes,
        "nodeSize": "c3-32",
    }
    by_urn = {x.urn: x for x in r.resources}
    for x in r.resources:
        if x is stack:
            continue
        top = x
        while top.parent in by_urn:
            top = by_urn[top.parent]
        assert top is stack, f"{x.urn} is not under the WebStack"
        assert x.name.startswith(stack.name), x.urn
    assert len({x.name for x in r.resources}) == len(r.resources)


def test_every_ovh_resource_names_the_project() -> None:
    r = run()
    for x in r.resources:
        if x.type == GATE_TYPE:
            assert x.inputs["target"]["service_name"] == r.settings.ovh_service_name, x.urn
        elif x.custom:
            assert x.inputs["serviceName"] == r.settings.ovh_service_name, x.urn


# --- network and nodes -----------------------------------------------------------------


def test_private_network_subnet_and_gateway_in_the_region() -> None:
    r = run()
    vrack, subnet, gateway = one(r, T_VRACK), one(r, T_SUBNET), one(r, T_GATEWAY)
    assert vrack.inputs["region"] == subnet.inputs["region"] == gateway.inputs["region"] == "GRA11"
    assert subnet.inputs["networkId"] == vrack.id
    assert subnet.inputs["cidr"] == r.settings.vpc_cidr == "10.110.0.0/20"
    assert subnet.inputs["gatewayIp"] == "10.110.0.1"
    assert gateway.inputs["subnetIds"] == [subnet.id]
    assert gateway.inputs["externalGateway"]["enabled"] is True


def test_instances_flavor_image_and_network_equal_the_plan() -> None:
    r = run()
    nodes = r.web(T_INSTANCE)
    assert len(nodes) == r.plan.nodes == 4  # 3 for 25,000 req/s of CPU, plus the spare
    catalog = mocks.call(
        "ovh:index/getCloudInstanceFlavors:getCloudInstanceFlavors", {"region": "GRA11"}
    )
    flavor_id = next(f["id"] for f in catalog["flavors"] if f["name"] == "c3-32")
    images = mocks.call(
        "ovh:index/getCloudInstanceImages:getCloudInstanceImages", {"region": "GRA11"}
    )
    image_id = next(i["id"] for i in images["images"] if i["name"] == "Debian 13")
    vrack, subnet, group = one(r, T_VRACK), one(r, T_SUBNET), one(r, T_SG)
    for node in nodes:
        assert node.inputs["flavorId"] == flavor_id, node.urn
        assert node.inputs["imageId"] == image_id, node.urn
        assert node.inputs["region"] == "GRA11", node.urn
        assert node.inputs["networks"] == [
            {"networkId": vrack.id, "subnetId": subnet.id},
            {"autoAssignPublicIp": True},
        ], node.urn
        assert node.inputs["securityGroupIds"] == [group.id], node.urn
        # A new image replaces the node (never an in-place rebuild), and the replacement
        # takes the new image: nothing may ignore imageId (ignoreChanges keeps old values).
        assert node.options["replaceOnChanges"] == ["userData", "imageId"], node.urn
        assert node.options["deleteBeforeReplace"] is False, node.urn
        assert node.options["ignoreChanges"] == [], node.urn
    assert len({n.inputs["name"] for n in nodes}) == len(nodes)


def test_user_data_is_the_rendered_document_and_secret() -> None:
    r = run()
    for node in r.web(T_INSTANCE):
        assert "userData" in node.secret_inputs, node.urn
        user_data = node.inputs["userData"]
        assert user_data.startswith("#cloud-config"), node.urn
        # The URLs the stack exports, verifying the server against the CA on the node.
        for uri in (r.outputs["database_primary_uri"][0], r.outputs["cache_uri"][0]):
            assert urls.verify_server(uri, render.NODE.provider_ca) in user_data, node.urn
        assert render.NODE.provider_ca in user_data and mocks.EXAMPLE_CA.splitlines()[1] in (
            user_data
        ), node.urn


def test_security_group_behind_the_load_balancer() -> None:
    cidr = run().settings.vpc_cidr
    metrics = {(9100, cidr), (9113, cidr), (9464, cidr)}  # the exporters, the app's metrics
    assert ingress(run()) == {(80, cidr), *metrics}
    assert ingress(run(sshAllowCidrs=json.dumps([SSH_CIDR]))) == {
        (80, cidr), *metrics, (22, SSH_CIDR),
    }  # fmt: skip


def test_each_instance_has_its_backup_workflow() -> None:
    """One WorkflowBackup per node, on the instance's id, in its region, on the schedule
    the estimate prices."""
    r = run()
    instances = {n.id: n for n in r.web(T_INSTANCE)}
    workflows = r.of_type(T_BACKUP)
    assert sorted(w.inputs["instanceId"] for w in workflows) == sorted(instances)
    for workflow in workflows:
        assert workflow.inputs["regionName"] == r.settings.region, workflow.urn
        assert workflow.inputs["cron"] == pricing.BACKUP_CRON == "0 2 * * *", workflow.urn
        assert workflow.inputs["rotation"] == pricing.BACKUP_ROTATION == 7, workflow.urn
        assert workflow.parent == instances[workflow.inputs["instanceId"]].parent, workflow.urn
    assert len({w.inputs["name"] for w in workflows}) == len(workflows)


def test_without_backups_no_workflow() -> None:
    """With backups off, the same stack registers no workflow."""
    r = run(backups="false")
    assert not r.settings.backups
    assert r.web(T_INSTANCE) and r.of_type(T_BACKUP) == []


# Each billed type and the estimate line that prices it.
PRICED = {"nodes": T_INSTANCE, "node backups": T_BACKUP, "load balancer": T_LB,
          "floating ip": T_FIP, "gateway": T_GATEWAY}  # fmt: skip
MONITOR_LINE = "monitoring node"


def check_priced(r: offline.Run) -> None:
    """Every billed resource the stack registers is priced, once each, and nothing else."""
    lines = {line["item"]: line for line in r.outputs["monthly_cost_estimate"][0]["lines"]}
    monitors = r.monitor(T_INSTANCE)
    assert (lines[MONITOR_LINE]["quantity"] if MONITOR_LINE in lines else 0) == len(monitors)
    for item, type_token in PRICED.items():
        priced = lines[item]["quantity"] if item in lines else 0
        registered = len(r.web(type_token))
        assert priced == registered, f"{item}: {priced} priced, {registered} registered"


@pytest.mark.parametrize(
    ("runner", "variant"),
    [(run, {}), (run_staging, {}), (run_staging, {**ONE_NODE, "tls": "off"})],
    ids=["prod-ovh", "no backups", "single node"],
)
def test_the_estimate_prices_what_is_registered(runner, variant: dict[str, str]) -> None:
    check_priced(runner(**variant))


def test_an_unregistered_line_fails_the_price_check() -> None:
    """The check can fail: a floating IP priced in a stack that has none."""
    r = run_staging(**ONE_NODE, tls="off")
    estimate, secret = r.outputs["monthly_cost_estimate"]
    lines = [*estimate["lines"], {"item": "floating ip", "quantity": 1}]
    outputs = dict(r.outputs, monthly_cost_estimate=(dict(estimate, lines=lines), secret))
    with pytest.raises(AssertionError, match="floating ip: 1 priced, 0 registered"):
        check_priced(replace(r, outputs=outputs))


def test_ssh_key_is_the_configured_key() -> None:
    # OVHcloud injects one key pair at boot; settings refuse a list of several.
    r = run(sshKeys=json.dumps(["ops-2025"]))
    assert {n.inputs["sshKeyName"] for n in r.web(T_INSTANCE)} == {"ops-2025"}


# --- load balancer ---------------------------------------------------------------------


def test_load_balancer_flavor_and_vip() -> None:
    r = run()
    lb, fip, vrack, subnet = one(r, T_LB), one(r, T_FIP), one(r, T_VRACK), one(r, T_SUBNET)
    assert lb.inputs["flavorName"] == r.plan.load_balancer.size.upper()
    assert lb.inputs["network"] == {
        "id": vrack.id,
        "subnetId": subnet.id,
        "ip": fip.outputs["currentState"]["ip"],
    }
    assert one(r, T_GATEWAY).urn in lb.options["dependencies"]
    assert r.outputs["load_balancer_ip"] == (mocks.LOAD_BALANCER_IP, False)


def test_https_listener_terminates_with_the_key_manager_certificate() -> None:
    r = run()
    listeners = {x.inputs["protocolPort"]: x for x in r.of_type(T_LISTENER)}
    https, http = listeners[443], listeners[80]
    pool = one(r, T_POOL)
    assert https.inputs["protocol"] == "TERMINATED_HTTPS"
    assert https.inputs["defaultPoolId"] == pool.id
    assert https.inputs["defaultTlsContainerRef"].endswith(
        "/v1/containers/" + mocks._uuid("container", "pyscale-prod", "GRA11")
    )
    assert https.inputs["insertHeaders"] == {"xForwardedFor": True, "xForwardedProto": True}
    assert http.inputs["protocol"] == "HTTP"
    assert "defaultPoolId" not in http.inputs
    assert https.inputs["timeoutMemberData"] == r.plan.gunicorn.timeout_s * 1000


def test_http_redirects_to_https() -> None:
    r = run()
    policy = one(r, T_L7)
    http = next(x for x in r.of_type(T_LISTENER) if x.inputs["protocolPort"] == 80)
    assert policy.inputs["listenerId"] == http.id
    assert policy.inputs["action"] == "REDIRECT_PREFIX"
    assert policy.inputs["redirectPrefix"] == "https://app.pyscale.example.com"
    assert policy.inputs["redirectHttpCode"] == 301
    assert policy.inputs["rules"] == [{"type": "PATH", "compareType": "STARTS_WITH", "value": "/"}]


def test_pool_health_monitor_and_members_are_the_nodes() -> None:
    r = run()
    pool = one(r, T_POOL)
    assert pool.inputs["protocol"] == "HTTP"
    monitor = pool.inputs["healthMonitor"]
    assert monitor["type"] == "HTTP"
    assert (monitor["httpMethod"], monitor["urlPath"]) == ("GET", "/healthz")
    assert {m.inputs["protocolPort"] for m in r.of_type(T_MEMBER)} == {80}
    assert_members_are_nodes(r)


def test_a_member_off_the_node_list_fails_the_check() -> None:
    """The member check catches a wrong address: the tests can fail."""
    r = run()
    members = r.of_type(T_MEMBER)
    wrong = replace(members[0], inputs=members[0].inputs | {"address": "10.110.0.99"})
    tampered = replace(r, resources=[wrong if x is members[0] else x for x in r.resources])
    with pytest.raises(AssertionError):
        assert_members_are_nodes(tampered)


def test_single_node_has_no_load_balancer_and_faces_the_internet() -> None:
    r = run_staging(**ONE_NODE, tls="node")
    assert not r.plan.load_balancer.enabled
    assert [x for x in r.resources if x.type in LB_TYPES] == []
    assert len(r.web(T_INSTANCE)) == 1
    assert {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")} <= ingress(r)
    assert r.outputs["load_balancer_ip"] == ("203.0.113.11", False)
    assert r.outputs["node_ips"] == (["203.0.113.11"], False)
    assert r.outputs["url"] == ("https://app.pyscale.example.com", False)


# --- PostgreSQL ------------------------------------------------------------------------


def test_postgresql_plan_nodes_give_the_replicas() -> None:
    r = run()
    pg = one(r, T_DB, "postgresql")
    vrack, subnet = one(r, T_VRACK), one(r, T_SUBNET)
    assert (pg.inputs["plan"], pg.inputs["flavor"], pg.inputs["version"]) == (
        "enterprise",
        "db1-15",
        "17",
    )
    assert pg.inputs["nodes"] == [
        {"region": "GRA", "networkId": vrack.id, "subnetId": subnet.id}
    ] * (r.plan.database.read_replicas + 1)
    assert r.plan.database.read_replicas == 2
    uris, secret = r.outputs["database_read_uris"]
    assert secret
    assert len(uris) == 1 and "@replica-postgresql-" in uris[0]


def test_business_plan_has_one_standby() -> None:
    r = run(database=json.dumps({"size": "db1-15", "ovhPlan": "business"}))
    assert len(one(r, T_DB, "postgresql").inputs["nodes"]) == 2 == r.plan.database.read_replicas + 1


def test_essential_plan_reads_from_the_primary_pool() -> None:
    r = run(database=json.dumps({"size": "db1-15", "ovhPlan": "essential"}))
    assert len(one(r, T_DB, "postgresql").inputs["nodes"]) == 1
    # No standby: the export says where reads go, the primary (as on DigitalOcean).
    assert r.outputs["database_read_uris"] == ([r.outputs["database_primary_uri"][0]], True)


def test_postgresql_admits_only_the_subnet() -> None:
    r = run()
    restrictions = one(r, T_DB, "postgresql").inputs["ipRestrictions"]
    assert [x["ip"] for x in restrictions] == [r.settings.vpc_cidr]


def test_prod_database_is_protected_twice() -> None:
    pg = one(run(), T_DB, "postgresql")
    assert pg.inputs["deletionProtection"] is True
    assert pg.protect is True
    unprotected = one(run(protect="false"), T_DB, "postgresql")
    assert unprotected.inputs["deletionProtection"] is False
    assert unprotected.protect is False


def test_pool_app_user_and_database_follow_the_plan() -> None:
    r = run()
    pg, pool = one(r, T_DB, "postgresql"), one(r, T_PGPOOL)
    db, user = one(r, T_DBI), one(r, T_PGUSER)
    assert (db.inputs["clusterId"], user.inputs["clusterId"], pool.inputs["clusterId"]) == (
        pg.id,
        pg.id,
        pg.id,
    )
    assert pool.inputs["databaseId"] == db.id
    assert pool.inputs["userId"] == user.id
    assert pool.inputs["mode"] == r.plan.database.pool_mode == "transaction"
    assert pool.inputs["size"] == r.plan.database.pool_size
    uri, secret = r.outputs["database_primary_uri"]
    assert secret
    assert uri == (
        f"postgresql://pyscale:{user.outputs['password']}@{pg.outputs['endpoints'][0]['domain']}"
        f":{mocks.POOL_PORT}/pyscale-pool?sslmode=require"
    )


# --- Valkey ----------------------------------------------------------------------------


def test_valkey_is_private_and_restricted_to_the_subnet() -> None:
    r = run()
    valkey, vrack, subnet = one(r, T_DB, "valkey"), one(r, T_VRACK), one(r, T_SUBNET)
    assert valkey.inputs["nodes"] == [
        {"region": "GRA", "networkId": vrack.id, "subnetId": subnet.id}
    ]
    assert [x["ip"] for x in valkey.inputs["ipRestrictions"]] == [r.settings.vpc_cidr]
    assert valkey.inputs["flavor"] == "db1-7"
    assert valkey.inputs["version"] == "8.0"
    assert valkey.inputs["advancedConfiguration"] == {"redis_persistence": "off"}
    user = one(r, T_VKUSER)
    assert user.inputs["clusterId"] == valkey.id
    uri, secret = r.outputs["cache_uri"]
    assert secret
    assert uri.startswith(f"rediss://pyscale:{user.outputs['password']}@valkey-")


# --- secrets and the shared contract ---------------------------------------------------


def test_credentials_appear_only_in_secret_inputs() -> None:
    r = run()
    passwords = [x.outputs["password"] for x in r.resources if x.type in (T_PGUSER, T_VKUSER)]
    for x in r.resources:
        for key, value in x.inputs.items():
            if key not in x.secret_inputs:
                for password in passwords:
                    assert password not in json.dumps(value), f"{x.urn}.{key} leaks a password"


def test_exports_are_the_shared_contract() -> None:
    ovh_outputs = run().outputs
    assert {k for k, (_, secret) in ovh_outputs.items() if secret} == {
        "database_primary_uri",
        "database_read_uris",
        "cache_uri",
    }
    assert set(ovh_outputs) == set(offline.run("prod").outputs)


@pulumi.runtime.test
def test_webstack_attributes_are_outputs_and_the_uris_secret(mock_engine) -> None:
    """Built directly (not through the program): the component itself keeps them secret."""
    stack_settings = settings.parse(
        "prod-ovh",
        {
            "cloud": "ovh",
            "ovhServiceName": "0123456789abcdef0123456789abcdef",
            "tls": "certificate",
            "certificateName": "pyscale-prod",
            "domain": "app.pyscale.example.com",
            # The shipped stack's workload: the largest flavor's estimated rates hold it.
            "workload": {"latencyMs": 2000, "requestsPerConnection": 20},
        },
    )
    plan = capacity.plan(stack_settings)
    mock_engine("prod-ovh")
    web = WebStack("pyscale-test", WebStackArgs(settings=stack_settings, plan=plan))

    def check(args: list) -> None:
        url, primary_secret, reads_secret, cache_secret, node_ips = args
        assert url == "https://app.pyscale.example.com"
        assert (primary_secret, reads_secret, cache_secret) == (True, True, True)
        assert len(node_ips) == plan.nodes

    return pulumi.Output.all(
        web.url,
        pulumi.Output.from_input(web.database_primary_uri.is_secret()),
        pulumi.Output.from_input(web.database_read_uris.is_secret()),
        pulumi.Output.from_input(web.cache_uri.is_secret()),
        web.node_ips,
    ).apply(check)


# --- pure helpers ----------------------------------------------------------------------


def test_database_region_is_the_compute_regions_city() -> None:
    assert database.database_region("GRA11") == "GRA"
    with pytest.raises(settings.SettingsError, match="pyscale:region = 'SYD1'"):
        settings.parse(
            "prod", {"cloud": "ovh", "ovhServiceName": "0" * 32, "tls": "off", "region": "SYD1"}
        )


def test_every_catalog_region_has_a_database_region() -> None:
    assert set(database.DATABASE_REGIONS) == set(clouds.get("ovh").catalog.regions)


def test_layouts_cover_every_ovh_tls_mode() -> None:
    assert set(loadbalancer.LAYOUTS) == set(settings.TLS_MODES) - {"managed", "node"}
    assert network.gateway_ip("10.110.0.0/20") == "10.110.0.1"
