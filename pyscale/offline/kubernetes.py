"""Realistic answers for the Kubernetes resources the stack creates in its cluster (platform:
kubernetes), the same on both clouds: the API server echoes a manifest back with its
metadata filled in (uid, resourceVersion, creationTimestamp), Helm answers a release with its
status, and the Service the gateway controller provisions is read back with its load
balancer's address (RFC 5737 documentation range). Keyed by name, so runs repeat. Pure."""

from __future__ import annotations

import uuid
from typing import Any

PREFIX = "kubernetes:"
_NAMESPACE = uuid.UUID("0b9f5a8e-2c1d-4e7f-9a3b-5c6d7e8f9a0b")
# The gateway's load-balancer address as the cloud's controller publishes it.
GATEWAY_ADDRESS = "203.0.113.80"
CREATED = "2026-01-06T09:10:00Z"


def _uid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def read_resource(typ: str, resource_id: str) -> tuple[str, dict[str, Any]]:
    """What a read of an object the cluster made returns: only the gateway's Service is
    read (its load balancer's address); any other read fails loudly."""
    if typ != "kubernetes:core/v1:Service":
        raise NotImplementedError(f"no mock for a read of {typ} {resource_id}")
    namespace, _, object_name = resource_id.partition("/")
    outputs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": object_name,
            "namespace": namespace,
            "uid": _uid(resource_id),
            "creationTimestamp": CREATED,
        },
        "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
        "status": {"loadBalancer": {"ingress": [{"ip": GATEWAY_ADDRESS}]}},
    }
    return resource_id, outputs


def new_resource(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The id and outputs the cluster would return; None for a type that is not Kubernetes'."""
    if not typ.startswith(PREFIX):
        return None
    if typ == "kubernetes:helm.sh/v3:Release":
        namespace = inputs.get("namespace", "default")
        release = inputs.get("name", name)
        status = {
            "name": release,
            "namespace": namespace,
            "chart": inputs.get("chart", ""),
            "version": inputs.get("version", ""),
            "revision": 1,
            "status": "deployed",
        }
        return f"{namespace}/{release}", {**inputs, "status": status}
    metadata = dict(inputs.get("metadata") or {})
    object_name = metadata.get("name", name)
    namespace = metadata.get("namespace")
    metadata |= {"uid": _uid(name), "resourceVersion": "1", "creationTimestamp": CREATED}
    object_id = f"{namespace}/{object_name}" if namespace else object_name
    return object_id, {**inputs, "metadata": metadata}
