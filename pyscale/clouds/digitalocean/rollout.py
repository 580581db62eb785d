"""The rollout gate on DigitalOcean: a droplet's health as its load balancer sees it, and
a graceful shutdown.

Health: the load balancer's GET does not say which droplets pass (findings D14); the
monitoring API does: `GET /v2/monitoring/metrics/load_balancer/droplets_health_checks`
(godo monitoring.go GetLoadBalancerDropletsHealthChecks; openapi
monitoring_get_lb_droplets_health_checks), a Prometheus-style matrix with one series per
backend droplet. Inferred, not verified against a live account: which label names the
droplet (its id or its name: both are matched) and the value's scale (a third-party
exporter's fixtures show 100 for a passing droplet and 0 for a failing one). The gate
therefore calls a droplet healthy when its latest value is above 0 and as high as the
healthiest droplet's, which holds on a 0/1 scale and on a percentage alike.

Stop: the `shutdown` droplet action is a graceful, ACPI shutdown (API reference, "Shut Down
a Droplet"), so systemd stops the units and the node drains (cloud-init/files,
pyscale-drain.service); the droplet is then `off`, and Pulumi deletes it at the end of the
update.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyscale.clouds import http
from pyscale.rollout.gate import HealthProbe, ProbeError

API = "https://api.digitalocean.com"
HEALTH_PATH = "/v2/monitoring/metrics/load_balancer/droplets_health_checks"
# The metric window asked for: long enough to hold a few samples whatever its step.
WINDOW_S = 300
STOP_POLL_S = 2


def latest_by_droplet(answer: Mapping[str, Any]) -> dict[str, float]:
    """Each series' latest value, under every label value it carries (id and name)."""
    latest: dict[str, float] = {}
    for series in (answer.get("data") or {}).get("result") or []:
        values = series.get("values") or []
        if not values:
            continue
        value = float(max(values, key=lambda v: float(v[0]))[1])
        for label in (series.get("metric") or {}).values():
            latest[str(label)] = value
    return latest


def judge(answer: Mapping[str, Any], droplet: str, name: str) -> tuple[bool | None, str]:
    """Healthy when the droplet's latest value is above 0 and the best of the LB's."""
    latest = latest_by_droplet(answer)
    value = latest.get(droplet, latest.get(name)) if name else latest.get(droplet)
    if value is None:
        return None, f"droplet {droplet} not yet in the load balancer's health checks"
    best = max(latest.values())
    healthy = value > 0 and value >= best
    return healthy, f"droplet {droplet} health checks {value:g} (best {best:g})"


@dataclass(frozen=True)
class DigitalOceanNodes:
    token: str
    base_url: str = API
    clock: Any = time.time

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def probe(self, target: Mapping[str, Any], node_id: str) -> HealthProbe:
        def ask() -> tuple[bool | None, str]:
            end = int(self.clock())
            query = f"?lb_id={target['load_balancer_id']}&start={end - WINDOW_S}&end={end}"
            answer = http.request("GET", self.base_url + HEALTH_PATH + query, self._headers())
            return judge(answer or {}, node_id, target.get("node_name", ""))

        return ask

    def stop(self, node_id: str, within_s: int) -> str:
        url = f"{self.base_url}/v2/droplets/{node_id}"
        body = {"type": "shutdown"}
        if http.request("POST", url + "/actions", self._headers(), body, missing_ok=True) is None:
            return f"droplet {node_id} already gone"
        deadline = self.clock() + within_s
        while self.clock() < deadline:
            answer = http.request("GET", url, self._headers(), missing_ok=True)
            status = ((answer or {}).get("droplet") or {}).get("status", "gone")
            if status in ("off", "gone", "archive"):
                return f"droplet {node_id} drained and {status}"
            time.sleep(STOP_POLL_S)
        return f"droplet {node_id} still shutting down after {within_s} s; Pulumi deletes it"


def node_api(target: Mapping[str, Any], environ: Mapping[str, str]) -> DigitalOceanNodes:
    """From the variables the Pulumi provider reads (DIGITALOCEAN_TOKEN, or
    DIGITALOCEAN_ACCESS_TOKEN); PYSCALE_DIGITALOCEAN_API points the gate elsewhere (the
    rollout rehearsal's stand-in)."""
    token = environ.get("DIGITALOCEAN_TOKEN") or environ.get("DIGITALOCEAN_ACCESS_TOKEN")
    if not token:
        raise ProbeError(
            "the rollout gate needs DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN) in the "
            "environment of `pulumi up`, with read access to monitoring and droplets"
        )
    return DigitalOceanNodes(token, http.local_override(environ, "PYSCALE_DIGITALOCEAN_API", API))
