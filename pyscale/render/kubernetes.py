"""Kubernetes manifests from the plan (platform: kubernetes): the app's Deployment, Service,
HorizontalPodAutoscaler, PodDisruptionBudget and NetworkPolicy, its Gunicorn config, and
the Gateway API gateway and routes in front, as plain dicts.

Pure Python, like the node files: the components (components/kubernetes/) register each
manifest as the pulumi-kubernetes resource of its kind, and the tests validate every one
against the Kubernetes OpenAPI schemas of `kubernetes.version` (and the Gateway API CRDs).
The one manifest that holds credentials, the env Secret (`env_secret`), is rendered apart,
inside the stack's Output, so that it stays a Pulumi secret.

The pod keeps what Kubernetes lets it keep of the node's tuning (pyscale/capacity/pods.py):
the safe sysctls in its security context, the kernel's somaxconn otherwise; Gunicorn as the
container's PID 1 with the plan's workers; a preStop pause while the gateway stops sending,
then Gunicorn's graceful stop within the rollout's finish time.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from pyscale import clouds
from pyscale.capacity import CapacityPlan
from pyscale.capacity.pods import PodPlan
from pyscale.render import container, gateway
from pyscale.render.defaults import NODE
from pyscale.render.gateway import (  # noqa: F401 - the workloads and tests read them here
    APP,
    GATEWAY,
    GATEWAY_CLASS,
    GATEWAY_POD_LABEL,
    NAMESPACE,
    TLS_SECRET,
)
from pyscale.render.secrets import NodeSecrets
from pyscale.settings import Settings
from pyscale.urls import verify_server

ENV_SECRET = "pyscale-env"
CONFIG_MAP = "pyscale-gunicorn"
CA_CONFIG_MAP = "pyscale-provider-ca"
# Where the pod mounts them, beside the image's default config (container.CONF_PATH); the
# worker and metrics modules stay where the image put them (container.MODULES_DIR).
CONFIG_DIR = "/etc/pyscale/pod"
CA_DIR = "/etc/pyscale/ca"
CA_FILE = f"{CA_DIR}/provider-ca.pem"
# Readiness every 5 s, two misses: a pod that stops answering leaves the gateway in ~10 s.
HEALTH_PERIOD_S = 5


@dataclass(frozen=True)
class Manifests:
    """Every manifest but the env Secret, in the order they are applied."""

    items: tuple[dict[str, Any], ...]

    def get(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The one manifest of `kind` (and `name`), KeyError naming the kinds otherwise."""
        for item in self.items:
            if item["kind"] == kind and (name is None or item["metadata"]["name"] == name):
                return item
        raise KeyError(f"no {kind} {name or ''}; kinds: {[i['kind'] for i in self.items]}")


def _meta(name: str, settings: Settings, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "labels": _labels(settings),
        **extra,
    }


def _labels(settings: Settings) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": APP,
        "app.kubernetes.io/instance": settings.stack,
        "app.kubernetes.io/managed-by": "pyscale",
    }


def _selector(settings: Settings) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "app.kubernetes.io/instance": settings.stack}


def pods_of(plan: CapacityPlan) -> PodPlan:
    """The plan's pods (ValueError for a VM plan: it has no manifests)."""
    if plan.pods is None:
        raise ValueError("the plan is for platform: vms; Kubernetes manifests need kubernetes")
    return plan.pods


def gunicorn_conf(plan: CapacityPlan, settings: Settings) -> str:
    """The pod's gunicorn.conf.py: the container config with the pod's share of workers.
    Only the gateway's pods reach the app (NetworkPolicy), so their forwarding headers are
    trusted from any address."""
    pods = pods_of(plan)
    pod_plan = _pod_capacity(plan, pods)
    return container.gunicorn_conf(pod_plan, settings, forwarded_allow_ips="*")


def _pod_capacity(plan: CapacityPlan, pods: PodPlan) -> CapacityPlan:
    """The plan as one pod sees it: its own Gunicorn."""
    return dataclasses.replace(plan, gunicorn=pods.gunicorn)


def ca_config_map(settings: Settings) -> dict[str, Any]:
    """Where the data stores' CA certificates go (the component fills `data`)."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(CA_CONFIG_MAP, settings)}


def env_secret_metadata(settings: Settings) -> dict[str, Any]:
    return _meta(ENV_SECRET, settings)


def env_secret(plan: CapacityPlan, settings: Settings, secrets: NodeSecrets) -> dict[str, Any]:
    """The app's environment as a Secret: the connection strings (verified against the
    data stores' CA, mounted from CA_CONFIG_MAP) and the plan's per-process pools."""
    if secrets.database_read_urls and not plan.database.per_process_read_pool:
        raise ValueError(
            f"{len(secrets.database_read_urls)} read replica URL(s) given for stack "
            f"'{settings.stack}', whose plan has no read replica (pool size 0)"
        )

    def url(value: str) -> str:
        return verify_server(value, CA_FILE) if secrets.provider_ca else value

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": env_secret_metadata(settings),
        "type": "Opaque",
        "stringData": {
            "DATABASE_URL": url(secrets.database_url),
            "DATABASE_READ_URLS": ",".join(map(url, secrets.database_read_urls)),
            "REDIS_URL": url(secrets.redis_url),
            "DB_POOL_SIZE": str(plan.database.per_process_pool),
            "DB_READ_POOL_SIZE": str(plan.database.per_process_read_pool),
            "CACHE_POOL_SIZE": str(plan.cache.per_process_pool),
        },
    }


def manifests(
    plan: CapacityPlan, settings: Settings, service_annotations: Mapping[str, str]
) -> Manifests:
    """Everything the app needs in the cluster but what holds the data stores' values (the
    env Secret and their CA, `env_secret` and `ca_config_map`). `service_annotations`: what
    the cloud's controller reads on the gateway's Service (the load balancer's size)."""
    pods = pods_of(plan)
    conf = gunicorn_conf(plan, settings)
    # A changed config must roll the pods: the template changes with its digest. (The CA
    # is read per new connection from its volume, which the kubelet keeps current.)
    digest = hashlib.sha256(conf.encode()).hexdigest()
    items = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": NAMESPACE,
                "labels": {
                    **_labels(settings),
                    # The pods need nothing beyond "restricted"; its safe-sysctl list is
                    # the one the pod sets (capacity/pods.py SAFE_SYSCTLS).
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(CONFIG_MAP, settings),
            "data": {"gunicorn.conf.py": conf},
        },
        _deployment(plan, settings, pods, digest),
        _service(settings),
        _autoscaler(settings, pods),
        _disruption_budget(settings, pods),
        _network_policy(settings),
        *gateway.manifests(settings, service_annotations, meta=_meta, labels=_labels),
    ]
    return Manifests(tuple(items))


def _deployment(
    plan: CapacityPlan, settings: Settings, pods: PodPlan, digest: str
) -> dict[str, Any]:
    probe = {"httpGet": {"path": plan.load_balancer.health_check_path, "port": "http"}}
    resources = {"cpu": str(pods.vcpus), "memory": f"{pods.memory_mib}Mi"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(APP, settings),
        "spec": {
            # The autoscaler owns the count from here (the component ignores later drift).
            "replicas": pods.minimum,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": _selector(settings)},
            # The pool has no room for extra pods: old ones go first, at most one node's
            # worth at a time, so the `needed` pods always serve.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": pods.max_unavailable},
            },
            "template": {
                "metadata": {
                    "labels": _labels(settings),
                    "annotations": {"pyscale.dev/config-sha256": digest},
                },
                "spec": {
                    "terminationGracePeriodSeconds": pods.termination_grace_s,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "sysctls": [{"name": k, "value": v} for k, v in pods.sysctls.items()],
                    },
                    # Spread over the nodes, so that losing one loses one node's pods.
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": _selector(settings)},
                        }
                    ],
                    "containers": [
                        {
                            "name": "app",
                            "image": settings.kubernetes.image,
                            "command": ["gunicorn", "--config", f"{CONFIG_DIR}/gunicorn.conf.py"],
                            "ports": [
                                {"name": "http", "containerPort": container.PORT},
                                {"name": "metrics", "containerPort": NODE.app_metrics_port},
                            ],
                            "env": [{"name": "PYSCALE_METRICS_ADDRESS", "value": "0.0.0.0"}],
                            "envFrom": [{"secretRef": {"name": ENV_SECRET}}],
                            # Requests = limits: Guaranteed, last to be evicted, and the
                            # plan's CPU is what each pod really has.
                            "resources": {"requests": resources, "limits": resources},
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
                            "readinessProbe": {
                                **probe,
                                "periodSeconds": HEALTH_PERIOD_S,
                                "failureThreshold": 2,
                            },
                            # Generous: a busy gevent worker answers late, and a restart
                            # drops every request the pod holds.
                            "livenessProbe": {
                                **probe,
                                "periodSeconds": 10,
                                "timeoutSeconds": 5,
                                "failureThreshold": 6,
                            },
                            # The gateway stops sending first; SIGTERM then makes Gunicorn
                            # finish in-flight requests (graceful_timeout) and exit.
                            "lifecycle": {
                                "preStop": {"exec": {"command": ["sleep", str(pods.pre_stop_s)]}}
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                                {"name": "ca", "mountPath": CA_DIR, "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": CONFIG_MAP}},
                        {"name": "ca", "configMap": {"name": CA_CONFIG_MAP}},
                        # Gunicorn's metrics files, written by every worker.
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


def _service(settings: Settings) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(APP, settings),
        "spec": {
            "type": "ClusterIP",
            "selector": _selector(settings),
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": NODE.app_metrics_port, "targetPort": "metrics"},
            ],
        },
    }


def _autoscaler(settings: Settings, pods: PodPlan) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(APP, settings),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
            "minReplicas": pods.minimum,
            "maxReplicas": pods.maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": pods.hpa_cpu_percent,
                        },
                    },
                }
            ],
            # Down slowly, a node's pods a minute at most, never below minReplicas.
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Pods", "value": pods.per_node, "periodSeconds": 60}],
                }
            },
        },
    }


def _disruption_budget(settings: Settings, pods: PodPlan) -> dict[str, Any]:
    # A node drain (the cloud's upgrades, a pool resize) may never leave fewer pods than
    # hold the target.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(APP, settings),
        "spec": {"minAvailable": pods.needed, "selector": {"matchLabels": _selector(settings)}},
    }


def _network_policy(settings: Settings) -> dict[str, Any]:
    # Only the gateway's Nginx reaches the app port, which is why Gunicorn trusts the
    # forwarding headers of any peer; metrics are open to the cluster's Prometheus.
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(APP, settings),
        "spec": {
            "podSelector": {"matchLabels": _selector(settings)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {GATEWAY_POD_LABEL: GATEWAY}}}],
                    "ports": [{"protocol": "TCP", "port": container.PORT}],
                },
                {
                    "from": [{"namespaceSelector": {}}],
                    "ports": [{"protocol": "TCP", "port": NODE.app_metrics_port}],
                },
            ],
        },
    }


def manifest_texts(plan: CapacityPlan, settings: Settings) -> dict[str, str]:
    """Each manifest as YAML by `k8s/<Kind>/<name>.yaml`, and the pod's gunicorn.conf.py:
    what `pyscale render` writes and a plan diff compares (no secret among them)."""
    annotations = clouds.get(settings.cloud).gateway_annotations(settings, plan)
    rendered = manifests(plan, settings, annotations)
    texts = {
        f"k8s/{item['kind']}/{item['metadata']['name']}.yaml": yaml.safe_dump(
            item, sort_keys=False, width=100
        )
        for item in rendered.items
    }
    conf = rendered.get("ConfigMap", CONFIG_MAP)["data"]["gunicorn.conf.py"]
    return texts | {f"{CONFIG_DIR}/gunicorn.conf.py": conf}
