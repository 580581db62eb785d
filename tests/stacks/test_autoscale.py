"""Fleets that scale themselves, under mocks: prod-autoscale's Droplet autoscale pool boots
the plan's user-data (a secret) with the fixed nodes' size, image, region, VPC, keys and tags,
and everything reaches it by tag (load balancer, cloud firewall, database trusted sources,
alerts); on Kubernetes both clouds' node pools autoscale between the plan's bounds with the
pods' autoscaler following the maximum; OVHcloud VMs are refused before anything registers.
"""

from __future__ import annotations

import json

import pytest

from pyscale import offline, render, report, settings
from pyscale.clouds.base import EXAMPLE_CA
from pyscale.offline import conformance
from pyscale.rollout.plan import GATE_TYPE
from tests.stacks.variants import run_as

POOL = "digitalocean:index/dropletAutoscale:DropletAutoscale"
DROPLET = "digitalocean:index/droplet:Droplet"
TAG = "digitalocean:index/tag:Tag"
VPC = "digitalocean:index/vpc:Vpc"
LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
FIREWALL = "digitalocean:index/firewall:Firewall"
DB_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
ALERT = "digitalocean:index/monitorAlert:MonitorAlert"
DO_CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
OVH_POOL = "ovh:CloudProject/kubeNodePool:KubeNodePool"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
AUTOSCALE_ON = {"pyscale:autoscale": json.dumps({"enabled": True, "peakConcurrency": 60_000})}


@pytest.fixture(scope="module")
def run() -> offline.Run:
    return offline.run("prod-autoscale")


def one(run: offline.Run, type_token: str) -> offline.Registered:
    found = run.web(type_token)
    assert len(found) == 1, f"{type_token}: {[r.name for r in found]}"
    return found[0]


def tag(run: offline.Run, role: str) -> str:
    """The name of the stack's tag for `role` ("stack", "web", ...)."""
    suffix = "" if role == "stack" else f"-{role}"
    names = [r.inputs["name"] for r in run.of_type(TAG)]
    wanted = f"{run.settings.resource_prefix}{suffix}"
    assert wanted in names, names
    return wanted


def test_one_pool_and_no_fixed_nodes(run: offline.Run) -> None:
    assert run.plan.autoscale is not None
    assert run.web(DROPLET) == []  # the monitoring node is the only droplet
    assert len(run.monitor(DROPLET)) == 1
    config = one(run, POOL).inputs["config"]
    pool = run.plan.autoscale
    assert (config["minInstances"], config["maxInstances"]) == (pool.min_nodes, pool.max_nodes)
    assert config["targetCpuUtilization"] == pool.cpu_target == 0.7
    assert config["cooldownMinutes"] == pool.cooldown_minutes == 15
    assert "targetMemoryUtilization" not in config  # not a scaling metric unless set
    # The cloud replaces the members itself: no per-node gate could hold one back.
    assert run.of_type(GATE_TYPE) == []
    assert run.outputs["node_ips"] == ([], False)


def test_members_boot_the_plans_user_data_as_a_secret(run: offline.Run) -> None:
    pool = one(run, POOL)
    assert "dropletTemplate" in pool.secret_inputs
    outputs = run.outputs
    secrets = render.NodeSecrets(
        outputs["database_primary_uri"][0],
        tuple(outputs["database_read_uris"][0]),
        outputs["cache_uri"][0],
        provider_ca=EXAMPLE_CA.strip() + "\n",
    )
    expected = render.node(run.plan, run.settings, secrets).user_data
    assert pool.inputs["dropletTemplate"]["userData"] == expected


def test_members_are_what_a_fixed_node_is(run: offline.Run) -> None:
    template = one(run, POOL).inputs["dropletTemplate"]
    chosen = run.settings
    assert template["size"] == chosen.node_size.name == "c-8"
    assert template["image"] == "debian-13-x64"
    assert template["region"] == chosen.region
    assert template["vpcUuid"] == one(run, VPC).id
    assert template["sshKeys"] == list(chosen.ssh_keys)
    assert template["tags"] == [tag(run, "stack"), tag(run, "web")]
    assert template["withDropletAgent"] is True  # the utilisation the pool scales on


def test_everything_reaches_the_pool_by_its_tag(run: offline.Run) -> None:
    web = tag(run, "web")
    assert one(run, LOAD_BALANCER).inputs["dropletTag"] == web
    assert one(run, FIREWALL).inputs["tags"] == [web]
    firewalls = run.of_type(DB_FIREWALL)
    assert len(firewalls) == 4  # primary, two replicas, Valkey
    for firewall in firewalls:
        trusted = [(r["type"], r["value"]) for r in firewall.inputs["rules"]]
        assert ("tag", web) in trusted, firewall.name
        assert all(kind == "tag" for kind, _ in trusted), firewall.name
    node_alerts = [a for a in run.of_type(ALERT) if a.inputs.get("tags")]
    assert node_alerts and all(a.inputs["tags"] == [web] for a in node_alerts)


def test_the_webstack_declares_both_bounds(run: offline.Run) -> None:
    stack = one(run, "pyscale:digitalocean:WebStack")
    pool = run.plan.autoscale
    assert pool is not None
    assert stack.inputs["nodeCount"] == pool.max_nodes
    assert stack.inputs["autoscale"] == {"minNodes": pool.min_nodes, "maxNodes": pool.max_nodes}


def test_doks_node_pool_autoscales_between_the_bounds() -> None:
    run = run_as("prod-k8s", "prod-k8s", AUTOSCALE_ON)
    pool = run.plan.autoscale
    assert pool is not None and run.plan.pods is not None
    cluster = one(run, DO_CLUSTER)
    nodes = cluster.inputs["nodePool"]
    assert nodes["autoScale"] is True
    assert (nodes["minNodes"], nodes["maxNodes"]) == (pool.min_nodes, pool.max_nodes)
    assert "nodeCount" not in nodes  # DOKS would reset the pool to it on every update
    (scaler,) = cluster.inputs["clusterAutoscalerConfigurations"]
    assert scaler == {"scaleDownUnneededTime": "15m", "scaleDownUtilizationThreshold": 0.5}
    hpa = one(run, HPA).inputs["spec"]
    assert hpa["maxReplicas"] == pool.max_nodes * run.plan.pods.per_node
    assert hpa["minReplicas"] == run.plan.pods.minimum
    assert conformance.check(run.resources, "digitalocean") == []


def test_ovh_node_pool_autoscales_between_the_bounds() -> None:
    run = run_as("prod-k8s-ovh", "prod-k8s-ovh", AUTOSCALE_ON)
    pool = run.plan.autoscale
    assert pool is not None and run.plan.pods is not None
    nodes = one(run, OVH_POOL)
    assert nodes.inputs["autoscale"] is True
    assert (nodes.inputs["minNodes"], nodes.inputs["maxNodes"]) == (
        pool.min_nodes,
        pool.max_nodes,
    )
    assert nodes.inputs["desiredNodes"] == pool.min_nodes
    assert nodes.inputs["autoscalingScaleDownUnneededTimeSeconds"] == 15 * 60
    assert nodes.inputs["autoscalingScaleDownUtilizationThreshold"] == 0.5
    # The autoscaler moves the desired count; pulumi up must not move it back.
    assert nodes.options["ignoreChanges"] == ["desiredNodes"]
    hpa = one(run, HPA).inputs["spec"]
    assert hpa["maxReplicas"] == pool.max_nodes * run.plan.pods.per_node
    assert conformance.check(run.resources, "ovh") == []


def test_a_fixed_pool_stays_fixed() -> None:
    """The same stacks without autoscale: the tests above can fail."""
    fixed = offline.run("prod-k8s-ovh")
    nodes = one(fixed, OVH_POOL)
    assert nodes.inputs["autoscale"] is False and nodes.options["ignoreChanges"] == []
    assert "autoscalingScaleDownUnneededTimeSeconds" not in nodes.inputs


def test_ovh_vms_refuse_autoscale_before_registering_anything(mock_engine) -> None:
    engine = mock_engine("prod-ovh", {"pyscale:autoscale": json.dumps({"enabled": True})})
    with pytest.raises(settings.SettingsError) as caught:
        offline.execute()
    message = str(caught.value)
    assert "pyscale:autoscale.enabled = True" in message
    assert "Managed Kubernetes node-pool autoscaling" in message
    assert "platform: kubernetes" in message
    assert engine.registered == []


def test_plan_shows_both_ends_and_their_cost(run: offline.Run, capsys) -> None:
    doc = report.plan_document(run, [])
    pool = run.plan.autoscale
    assert pool is not None
    at_most, at_least = doc["cost"], doc["cost_at_minimum"]
    nodes = {line["item"]: line["quantity"] for line in at_least["lines"]}["nodes"]
    assert nodes == pool.min_nodes
    assert at_least["total"] < at_most["total"]
    report.print_plan(doc, run.plan)
    text = capsys.readouterr().out
    assert f"Droplet autoscale pool: {pool.min_nodes}-{pool.max_nodes} nodes" in text
    assert f"total at the pool's minimum ({pool.min_nodes} nodes)" in text
    assert "no gate per member" in text
    # A fixed fleet has one cost.
    assert "cost_at_minimum" not in report.plan_document(offline.run("prod"), [])
