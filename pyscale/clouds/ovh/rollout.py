"""The rollout gate on OVHcloud: a node's health as its Octavia pools see it, and a
graceful stop.

Health: every pool member of the node (one per pool) must be `operatingStatus` ONLINE
(findings O11: the provider's get_cloud_loadbalancer_pool_member reads
`GET /cloud/project/{serviceName}/region/{region}/loadbalancing/pool/{poolId}/member/{id}`,
current_state.operating_status). OFFLINE, ERROR and NO_MONITOR are not healthy; a member
not found yet is "not yet".

Stop: `POST /cloud/project/{serviceName}/instance/{id}/stop` (OpenStack's stop: an ACPI
shutdown first), then the instance is SHUTOFF; Pulumi deletes it at the end of the update.

Requests are signed as OVHcloud's API wants (X-Ovh-Signature: "$1$" + SHA-1 of application
secret, consumer key, method, URL, body and timestamp, "+"-joined), with the application
key credentials the Pulumi provider reads (OVH_ENDPOINT, OVH_APPLICATION_KEY,
OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyscale.clouds import http
from pyscale.rollout.gate import HealthProbe, ProbeError

# The provider's endpoint names (terraform-provider-ovh ovh/provider.go).
ENDPOINTS = {
    "ovh-eu": "https://eu.api.ovh.com/1.0",
    "ovh-ca": "https://ca.api.ovh.com/1.0",
    "ovh-us": "https://api.us.ovhcloud.com/1.0",
}
STOP_POLL_S = 2


def signature(secret: str, consumer: str, method: str, url: str, body: str, ts: int) -> str:
    raw = "+".join((secret, consumer, method, url, body, str(ts)))
    return "$1$" + hashlib.sha1(raw.encode()).hexdigest()


@dataclass(frozen=True)
class OvhNodes:
    base_url: str
    application_key: str
    application_secret: str
    consumer_key: str
    service_name: str
    region: str

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        url = self.base_url + path
        payload = json.dumps(body) if body is not None else ""
        ts = int(time.time())
        headers = {
            "X-Ovh-Application": self.application_key,
            "X-Ovh-Consumer": self.consumer_key,
            "X-Ovh-Timestamp": str(ts),
            "X-Ovh-Signature": signature(
                self.application_secret, self.consumer_key, method, url, payload, ts
            ),
            "Accept": "application/json",
        }
        return http.request(method, url, headers, body, missing_ok=missing_ok)

    def probe(self, target: Mapping[str, Any], node_id: str) -> HealthProbe:
        project = f"/cloud/project/{self.service_name}"
        members = [
            f"{project}/region/{self.region}/loadbalancing/pool/{m['pool_id']}/member/{m['id']}"
            for m in target["members"]
        ]

        def ask() -> tuple[bool | None, str]:
            states = []
            for path in members:
                member = self._call("GET", path, missing_ok=True)
                states.append((member or {}).get("operatingStatus", "not found"))
            if "not found" in states:
                return None, f"instance {node_id}: pool member not found yet"
            healthy = all(state == "ONLINE" for state in states)
            return healthy, f"instance {node_id} pool members {', '.join(states)}"

        return ask

    def stop(self, node_id: str, within_s: int) -> str:
        path = f"/cloud/project/{self.service_name}/instance/{node_id}"
        if self._call("GET", path, missing_ok=True) is None:
            return f"instance {node_id} already gone"
        self._call("POST", path + "/stop", {}, missing_ok=True)
        deadline = time.time() + within_s
        while time.time() < deadline:
            status = (self._call("GET", path, missing_ok=True) or {}).get("status", "gone")
            if status in ("SHUTOFF", "gone", "DELETED"):
                return f"instance {node_id} drained and {status}"
            time.sleep(STOP_POLL_S)
        return f"instance {node_id} still stopping after {within_s} s; Pulumi deletes it"


def node_api(target: Mapping[str, Any], environ: Mapping[str, str]) -> OvhNodes:
    missing = [
        v
        for v in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY")
        if not environ.get(v)
    ]
    if missing:
        raise ProbeError(
            f"the rollout gate needs {', '.join(missing)} in the environment of `pulumi up` "
            "(application key credentials with GET and POST on /cloud/project/*)"
        )
    endpoint = environ.get("OVH_ENDPOINT", "ovh-eu")
    if endpoint not in ENDPOINTS:
        raise ProbeError(f"OVH_ENDPOINT = {endpoint!r}: one of {', '.join(ENDPOINTS)}")
    return OvhNodes(
        http.local_override(environ, "PYSCALE_OVH_API", ENDPOINTS[endpoint]),
        environ["OVH_APPLICATION_KEY"],
        environ["OVH_APPLICATION_SECRET"],
        environ["OVH_CONSUMER_KEY"],
        target["service_name"],
        target["region"],
    )
