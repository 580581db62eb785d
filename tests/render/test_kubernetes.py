"""The rendered Kubernetes manifests (platform: kubernetes) against the Kubernetes OpenAPI
schemas of the cluster version each stack targets (kubernetes-validate, strict: an unknown
field is an error) and the custom kinds against their CRDs' schemas (schema/kubernetes/);
the pod's Gunicorn config through real Gunicorn; and what a pod keeps of the tuning."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from pyscale import clouds, offline, settings
from pyscale.capacity import pods as pod_capacity
from pyscale.render import kubernetes
from pyscale.render.secrets import placeholder_secrets
from pyscale.settings.interface import serving_demo
from tests.render.gunicorn_run import assert_plan_numbers, printed_settings

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "schema" / "kubernetes"
# The custom kinds, by apiVersion/kind: the CRD schema each is checked against.
CUSTOM = {
    ("gateway.networking.k8s.io/v1", "Gateway"): "gateway.networking.k8s.io_v1_gateway.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway.networking.k8s.io_v1_httproute.json",
    ("cert-manager.io/v1", "ClusterIssuer"): "cert-manager.io_v1_clusterissuer.json",
}
# Pod Security Standards, baseline (kubernetes.io/docs/concepts/security/pod-security-standards/,
# "Sysctls"): the only sysctls a pod in a restricted namespace may set.
BASELINE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
STACKS = ("prod-k8s", "prod-k8s-ovh")


def stack_settings(stack: str) -> settings.Settings:
    return settings.load(stack, REPO)


def rendered(stack: str) -> tuple[settings.Settings, object, list[dict]]:
    run_settings = stack_settings(stack)
    from pyscale import capacity

    plan = capacity.plan(run_settings)
    annotations = clouds.get(run_settings.cloud).gateway_annotations(run_settings, plan)
    items = list(kubernetes.manifests(plan, run_settings, annotations).items)
    items.append(kubernetes.env_secret(plan, run_settings, placeholder_secrets(plan)))
    return run_settings, plan, items


def validate(item: dict, version: str) -> None:
    """Raise on a manifest its schema refuses."""
    crd = CUSTOM.get((item["apiVersion"], item["kind"]))
    if crd is None:
        kubernetes_validate.validate(item, f"{version}.0", strict=True)
    else:
        jsonschema.validate(item, json.loads((CRDS / crd).read_text()))


@pytest.mark.parametrize("stack", STACKS)
def test_every_manifest_passes_its_schema_for_every_offered_version(stack: str) -> None:
    run_settings, _, items = rendered(stack)
    kinds = {i["kind"] for i in items}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds
    assert {"Gateway", "HTTPRoute", "ClusterIssuer", "NetworkPolicy", "Secret"} <= kinds
    for version in clouds.get(run_settings.cloud).catalog.kubernetes_versions:
        for item in items:
            validate(item, version)


@pytest.mark.parametrize(
    "kind, path, value",
    [
        ("Deployment", ("spec", "replicas"), "two"),
        ("Deployment", ("spec", "template", "spec", "terminationGracePeriod"), 30),
        ("HorizontalPodAutoscaler", ("spec", "minReplicas"), "three"),
        ("Gateway", ("spec", "listeners", 0, "protocol"), 80),
        ("HTTPRoute", ("spec", "hostnames"), "app.example.com"),
        ("ClusterIssuer", ("spec", "acme", "privateKeySecretRef"), {"key": "no-name"}),
    ],
)
def test_a_broken_manifest_is_refused(kind: str, path: tuple, value: object) -> None:
    """The validation can fail: a wrong type, an unknown field, a missing required one."""
    run_settings, _, items = rendered("prod-k8s")
    item = copy.deepcopy(next(i for i in items if i["kind"] == kind))
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises((kubernetes_validate.ValidationError, jsonschema.ValidationError)):
        validate(item, run_settings.kubernetes.version)


@pytest.mark.parametrize("stack", STACKS)
def test_pod_sets_only_safe_sysctls_and_says_what_it_keeps_at_defaults(stack: str) -> None:
    _, plan, items = rendered(stack)
    pod = next(i for i in items if i["kind"] == "Deployment")["spec"]["template"]["spec"]
    names = {s["name"] for s in pod["securityContext"]["sysctls"]}
    assert names and names <= BASELINE_SYSCTLS
    values = {s["name"]: s["value"] for s in pod["securityContext"]["sysctls"]}
    low, high = plan.kernel.ip_local_port_range
    assert values["net.ipv4.ip_local_port_range"] == f"{low} {high}"
    assert values["net.ipv4.tcp_keepalive_time"] == str(plan.kernel.tcp_keepalive_time)
    assert {"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"} <= set(plan.pods.kernel_defaults)
    # The backlog the pod gets is the kernel default's, and the plan checks its load fits.
    assert plan.pods.backlog == min(
        plan.pods.gunicorn.backlog, pod_capacity.KERNEL_DEFAULT_SOMAXCONN
    )
    assert plan.pods.load <= plan.pods.backlog


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
@pytest.mark.parametrize("stack", STACKS)
def test_pod_gunicorn_config_passes_gunicorn_and_carries_the_pods_numbers(
    stack: str, interface: str, tmp_path: Path
) -> None:
    """The pod's config for either app interface: the image carries both worker classes."""
    from pyscale import capacity

    run_settings = serving_demo(stack_settings(stack), interface)
    plan = capacity.plan(run_settings)
    conf = kubernetes.gunicorn_conf(plan, run_settings)
    assert f'worker_class = "{plan.gunicorn.worker_class}"' in conf
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(conf)

    def gunicorn(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gunicorn", *args, "--config", str(path)],
            capture_output=True, text=True, check=False, cwd=tmp_path,
            env={"PYTHONPATH": str(REPO / "app"), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

    checked = gunicorn("--check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = gunicorn("--print-config")
    assert printed.returncode == 0, printed.stderr
    g = plan.pods.gunicorn
    assert_plan_numbers(printed_settings(printed.stdout), g)
    assert f"workers = {g.workers}\n" in conf
    assert f"worker_connections = {g.worker_connections}\n" in conf
    assert f"graceful_timeout = {g.graceful_timeout_s}\n" in conf
    assert g.workers == run_settings.kubernetes.pod_vcpus
    # Gunicorn finishes before the kubelet kills: grace = preStop + graceful stop.
    assert plan.pods.termination_grace_s == plan.pods.pre_stop_s + g.graceful_timeout_s


def test_offline_plan_of_a_kubernetes_stack_renders_its_manifests_for_review() -> None:
    """What `pyscale plan`/`diff` compares for a Kubernetes stack: the manifests, no secret."""
    from pyscale import report

    run = offline.run("prod-k8s")
    texts = report.node_files(run)["node_file_text"]
    assert "k8s/Deployment/pyscale.yaml" in texts
    assert f"{kubernetes.CONFIG_DIR}/gunicorn.conf.py" in texts
    assert not any("Secret" in path for path in texts)
    assert "REDACTED" not in "".join(texts.values())
