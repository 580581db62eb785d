"""The `platform` setting and the `kubernetes` group: whether the app runs on VMs (nodes
booted from cloud-init) or as pods on the cloud's managed Kubernetes, and what the pods
need. Declared here, beside the rest (declarations.py includes them in `SETTINGS`), with
the rules that tie them to the other settings (rules.py runs them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import SettingRule
from pyscale.settings.kinds import Choice, Integer, Text
from pyscale.settings.spec import ByCloud, Group, Setting

PLATFORMS = ("vms", "kubernetes")
# A pinned image: a registry path with a tag or a digest. `latest` and no tag move under a
# running Deployment, so two pods of one ReplicaSet could run different code.
_IMAGE = re.compile(
    r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})"
)
# TLS on Kubernetes ends at the cluster's gateway: cert-manager's Let's Encrypt certificate
# (managed) or none (off). An uploaded certificate's key cannot be read back from either
# cloud into the cluster, and there is no node for certbot.
KUBERNETES_TLS = ("managed", "off")

PLATFORM_GROUPS = (
    Group(
        "kubernetes",
        "The cloud's managed Kubernetes (platform: kubernetes): version, image, pod size.",
    ),
)

PLATFORM = (
    Setting(
        "platform",
        Choice(PLATFORMS),
        "Where the app runs: vms (nodes booted with cloud-init: Nginx, Gunicorn and the "
        "kernel tuning on each) or kubernetes (pods on the cloud's managed Kubernetes behind "
        "a Gateway API gateway, sized from the same capacity plan).",
        "vms",
    ),
    Setting(
        "kubernetes.version",
        Choice(lambda c: c.catalog.kubernetes_versions),
        "The cluster's Kubernetes minor version; the manifests are validated against its "
        "API schemas, and the cloud applies its patch releases.",
        ByCloud(lambda c, env: c.defaults.kubernetes_version),
    ),
    Setting(
        "kubernetes.image",
        Text(
            "an image reference with a tag other than latest, or a digest, such as "
            "registry.example.com/team/app:1.4.2",
            _IMAGE,
        ),
        "The app's container image (built from the repository's Dockerfile and pushed to a "
        "registry the cluster can pull from).",
        unset="none; platform: kubernetes needs one",
    ),
    Setting(
        "kubernetes.podVcpus",
        Integer(1, 64),
        "The vCPUs of one app pod (its request and limit); its Gunicorn runs one gevent "
        "worker per vCPU, and the node pool's nodes are cut into pods of this size.",
        2,
        unit="vCPUs",
    ),
)


def _image_needed(v: Mapping[str, Any]) -> str | None:
    if v["platform"] == "kubernetes" and v["kubernetes.image"] is None:
        return (
            "platform: kubernetes runs the app from an image: build the repository's "
            "Dockerfile, push it, and set kubernetes.image to its tag or digest"
        )
    return None


def _tls_on_kubernetes(v: Mapping[str, Any]) -> str | None:
    if v["platform"] == "kubernetes" and v["tls"] not in KUBERNETES_TLS:
        return (
            f"{v['tls']!r} is not available with platform: kubernetes, whose gateway "
            f"terminates TLS; allowed: {', '.join(KUBERNETES_TLS)} (managed: cert-manager "
            "with Let's Encrypt)"
        )
    return None


def _monitor_on_kubernetes(v: Mapping[str, Any]) -> str | None:
    if v["platform"] == "kubernetes" and v["monitoring.node"]:
        return (
            "the monitoring node discovers and scrapes VM nodes; with platform: kubernetes "
            "set monitoring.node: false (run Prometheus in the cluster instead)"
        )
    return None


def _backups_on_kubernetes(v: Mapping[str, Any]) -> str | None:
    if v["platform"] == "kubernetes" and v["backups"]:
        return (
            "node backups do not apply to a node pool, whose nodes are replaced, never "
            "restored (the state is in the managed PostgreSQL, which keeps its own backups): "
            "with platform: kubernetes set backups: false"
        )
    return None


PLATFORM_RULES = (
    SettingRule(
        "kubernetes.image", ("platform",), "required by platform: kubernetes", _image_needed
    ),
    SettingRule("tls", ("platform",), "kubernetes: managed or off only", _tls_on_kubernetes),
    SettingRule(
        "monitoring.node",
        ("platform",),
        "false with platform: kubernetes",
        _monitor_on_kubernetes,
    ),
    SettingRule(
        "backups", ("platform",), "false with platform: kubernetes", _backups_on_kubernetes
    ),
)
