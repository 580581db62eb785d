"""platform: kubernetes on both clouds (under mocks): the managed cluster and its node pool
in the stack's private network, sized by the plan; the data stores admitting the cluster
and nothing else; the app's Deployment, Service, autoscaler, disruption budget, network
policy, gateway and routes in the cluster, with the env Secret and the kubeconfig kept
secret; and bad Kubernetes settings refused before anything is registered."""

from __future__ import annotations

import pytest

from pyscale import capacity, offline, settings
from pyscale.render import kubernetes

DO_CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
DO_DB_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
DO_VPC = "digitalocean:index/vpc:Vpc"
OVH_KUBE = "ovh:CloudProject/kube:Kube"
OVH_POOL = "ovh:CloudProject/kubeNodePool:KubeNodePool"
OVH_NETWORK = "ovh:index/cloudNetworkPrivateVrack:CloudNetworkPrivateVrack"
OVH_SUBNET = "ovh:index/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet"
OVH_DATABASE = "ovh:CloudProject/database:Database"
NODES = ("digitalocean:index/droplet:Droplet", "ovh:index/cloudInstance:CloudInstance")
IN_CLUSTER = {
    "Deployment": "kubernetes:apps/v1:Deployment",
    "Service": "kubernetes:core/v1:Service",
    "HorizontalPodAutoscaler": "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "PodDisruptionBudget": "kubernetes:policy/v1:PodDisruptionBudget",
    "NetworkPolicy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "Gateway": "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    "HTTPRoute": "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "ClusterIssuer": "kubernetes:cert-manager.io/v1:ClusterIssuer",
}
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module", params=["prod-k8s", "prod-k8s-ovh"])
def run(request: pytest.FixtureRequest) -> offline.Run:
    return offline.run(request.param)


def one(run: offline.Run, type_token: str) -> offline.Registered:
    found = run.of_type(type_token)
    assert len(found) == 1, f"{type_token}: {[r.name for r in found]}"
    return found[0]


def test_no_vm_nodes_and_a_pool_of_the_plans_nodes(run: offline.Run) -> None:
    plan = run.plan
    assert plan.pods is not None and plan.nodes >= 2
    assert not [r for t in NODES for r in run.of_type(t)]
    if run.settings.cloud == "digitalocean":
        pool = one(run, DO_CLUSTER).inputs["nodePool"]
        assert (pool["size"], pool["nodeCount"]) == ("c-16", plan.nodes)
    else:
        pool = one(run, OVH_POOL).inputs
        assert (pool["flavorName"], pool["desiredNodes"], pool["autoscale"]) == (
            "c3-32",
            plan.nodes,
            False,
        )
        assert pool["minNodes"] == pool["maxNodes"] == plan.nodes


def test_cluster_in_the_stacks_private_network(run: offline.Run) -> None:
    if run.settings.cloud == "digitalocean":
        cluster = one(run, DO_CLUSTER)
        assert cluster.inputs["vpcUuid"] == one(run, DO_VPC).id
        assert cluster.inputs["region"] == run.settings.region
        # The newest patch of the chosen minor, as DigitalOcean names it.
        assert cluster.inputs["version"].startswith(f"{run.settings.kubernetes.version}.")
        assert cluster.inputs["version"].endswith(tuple(f"-do.{i}" for i in range(10)))
        assert cluster.inputs["ha"] is True and cluster.protect
    else:
        kube = one(run, OVH_KUBE)
        assert kube.inputs["privateNetworkId"] == one(run, OVH_NETWORK).id
        assert kube.inputs["nodesSubnetId"] == one(run, OVH_SUBNET).id
        assert kube.inputs["version"] == run.settings.kubernetes.version
        routing = kube.inputs["privateNetworkConfiguration"]
        assert routing["privateNetworkRoutingAsDefault"] is True


def test_data_stores_admit_the_cluster_and_nothing_else(run: offline.Run) -> None:
    if run.settings.cloud == "digitalocean":
        cluster_id = one(run, DO_CLUSTER).id
        firewalls = run.of_type(DO_DB_FIREWALL)
        # primary, each replica, Valkey
        assert len(firewalls) == 2 + run.settings.database.read_replicas
        for firewall in firewalls:
            assert firewall.inputs["rules"] == [{"type": "k8s", "value": cluster_id}]
    else:
        cidr = run.settings.vpc_cidr
        for service in run.of_type(OVH_DATABASE):
            assert [r["ip"] for r in service.inputs["ipRestrictions"]] == [cidr]
        # The subnet the services admit holds the cluster's nodes only.
        assert one(run, OVH_KUBE).inputs["nodesSubnetId"] == one(run, OVH_SUBNET).id


def test_workloads_from_the_plan(run: offline.Run) -> None:
    pods = run.plan.pods
    assert pods is not None
    registered = {
        kind: next(r for r in run.of_type(token) if r.name.endswith(f"-{kind.lower()}-pyscale")
                   or kind == "ClusterIssuer")
        for kind, token in IN_CLUSTER.items()
    }  # fmt: skip
    assert len(run.of_type(IN_CLUSTER["HTTPRoute"])) == 2  # the app's, and http -> https
    deployment = registered["Deployment"].inputs["spec"]
    assert deployment["replicas"] == pods.minimum
    assert registered["Deployment"].options["ignoreChanges"] == ["spec.replicas"]
    # The pods' environment and CA exist before the pods that read them at start.
    waits_for = set(registered["Deployment"].options["dependencies"])
    assert one(run, SECRET).urn in waits_for
    ca = [r for r in run.of_type("kubernetes:core/v1:ConfigMap") if r.name.endswith("-ca")]
    assert len(ca) == 1 and ca[0].urn in waits_for
    pod = deployment["template"]["spec"]
    app = pod["containers"][0]
    assert app["image"] == run.settings.kubernetes.image
    assert app["resources"]["limits"]["cpu"] == str(run.settings.kubernetes.pod_vcpus)
    assert pod["terminationGracePeriodSeconds"] == pods.termination_grace_s
    assert {s["name"] for s in pod["securityContext"]["sysctls"]} == set(pods.sysctls)
    hpa = registered["HorizontalPodAutoscaler"].inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (pods.minimum, pods.maximum)
    assert pods.minimum <= pods.maximum
    assert registered["PodDisruptionBudget"].inputs["spec"]["minAvailable"] == pods.needed
    gateway = registered["Gateway"].inputs["spec"]
    assert gateway["gatewayClassName"] == kubernetes.GATEWAY_CLASS
    https = next(li for li in gateway["listeners"] if li["name"] == "https")
    assert https["hostname"] == run.settings.domain
    assert https["tls"]["certificateRefs"] == [{"name": kubernetes.TLS_SECRET}]
    annotations = gateway["infrastructure"]["annotations"]
    lb = run.plan.load_balancer
    if run.settings.cloud == "digitalocean":
        assert annotations["service.beta.kubernetes.io/do-loadbalancer-size-unit"] == str(
            lb.size_unit
        )
    else:
        assert annotations["loadbalancer.ovhcloud.com/flavor"] == lb.size
    charts = sorted(r.inputs["chart"] for r in run.of_type(RELEASE))
    assert charts == ["cert-manager", "oci://ghcr.io/nginx/charts/nginx-gateway-fabric"]
    # Every in-cluster resource goes through the cluster's own provider.
    providers = run.of_type(PROVIDER)
    assert len(providers) == 1
    assert all(r.options["dependencies"] is not None for r in registered.values()), (
        "registered through the cluster's provider"
    )


def test_credentials_stay_secret(run: offline.Run) -> None:
    provider = one(run, PROVIDER)
    assert "kubeconfig" in provider.secret_inputs
    env = one(run, SECRET)
    assert "stringData" in env.secret_inputs
    values = env.inputs["stringData"]
    assert values["DATABASE_URL"].startswith("postgresql://")
    assert f"sslrootcert={kubernetes.CA_FILE}" in values["DATABASE_URL"]
    assert values["DB_POOL_SIZE"] == str(run.plan.database.per_process_pool)
    secret, is_secret = run.outputs["database_primary_uri"]
    assert is_secret and secret


def test_entry_is_the_gateways_load_balancer(run: offline.Run) -> None:
    address, _ = run.outputs["load_balancer_ip"]
    assert address == offline.kubernetes.GATEWAY_ADDRESS
    assert run.outputs["url"][0] == f"https://{run.settings.domain}"
    assert run.outputs["node_ips"][0] == []


def _refused(stack: str, overrides: dict[str, str]) -> str:
    with pytest.raises((settings.SettingsError, capacity.CapacityError)) as refused:
        offline.run(stack, overrides=overrides)
    return str(refused.value)


def test_kubernetes_without_image_is_refused() -> None:
    message = _refused("prod-k8s", {"pyscale:kubernetes": '{"version": "1.33"}'})
    assert "kubernetes.image" in message and "Dockerfile" in message


def test_moving_image_tag_is_refused() -> None:
    message = _refused("prod-k8s", {"pyscale:kubernetes": '{"image": "example.com/app:latest"}'})
    assert "kubernetes.image" in message and "latest" in message


def test_node_tls_and_monitoring_node_are_refused_on_kubernetes() -> None:
    message = _refused("prod-k8s", {"pyscale:tls": "node", "pyscale:monitoring": '{"node": true}'})
    assert "'node' is not available with platform: kubernetes" in message
    assert "monitoring.node" in message and "monitoring.node: false" in message


def test_pod_too_big_for_the_node_is_refused() -> None:
    message = _refused(
        "prod-k8s", {"pyscale:kubernetes": '{"image": "example.com/app:1.0", "podVcpus": 16}'}
    )
    assert "app pods per node" in message and "kubernetes.podVcpus" in message


def test_managed_tls_on_ovh_vms_is_refused_naming_kubernetes() -> None:
    message = _refused("prod-ovh", {"pyscale:tls": "managed"})
    assert "needs platform: kubernetes" in message
