"""The stack's Grafana dashboard as code: the fleet against its plan, one page.

Every panel that has a limit draws it as a second, flat series from the plan (`vector(N)`):
requests/s against the target and each node's CPU ceiling, in-flight requests against what a
node and the fleet hold, descriptors against fs.file-max, nodes up against N-1, the app's
latency against the workload's. The app's own series (requests, latency, errors by route)
and the data stores' scrapes close the page. Provisioned
with the Prometheus data source it names (`datasources`), so the dashboard works as loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyscale.capacity import CapacityPlan
from pyscale.monitoring.rules import APP_JOB, IN_FLIGHT, NGINX_JOB, NODE_JOB, STORE_JOBS_RE
from pyscale.settings import Settings

DATASOURCE_UID = "pyscale-prometheus"
DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
PANEL_WIDTH, PANEL_HEIGHT, COLUMNS = 12, 8, 2
SCHEMA_VERSION = 39  # Grafana 10.4+


@dataclass(frozen=True)
class Panel:
    """A time series panel: its queries (PromQL, legend) and its unit."""

    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"
    description: str = ""


def _limit(value: float, legend: str) -> tuple[str, str]:
    """A plan limit as a flat series beside the measured ones."""
    return f"vector({value:g})", legend


def panels(plan: CapacityPlan, settings: Settings) -> list[Panel]:
    t, k = plan.throughput, plan.kernel
    rate = f'rate(nginx_http_requests_total{{job="{NGINX_JOB}"}}[1m])'
    return [
        Panel("Fleet requests/s", (
            (f"sum({rate})", "served"),
            _limit(t.target_rps, f"target ({settings.target_concurrency:,} in flight)"),
            _limit(t.fleet_rps_one_node_down, "fleet ceiling, one node down"),
        ), "reqps", "What the fleet serves against what the plan sized it for."),
        Panel("Requests/s per node", (
            (f"sum by (instance) ({rate})", "{{instance}}"),
            _limit(t.node_rps_ceiling, "CPU ceiling per node"),
        ), "reqps"),
        Panel("Fleet requests in flight", (
            (f"sum({IN_FLIGHT})", "in flight"),
            _limit(plan.target_concurrency, "target"),
            _limit(plan.capacity_one_node_down, "held with one node down"),
        ), "short"),
        Panel("Requests in flight per node", (
            (f"sum by (instance) ({IN_FLIGHT})", "{{instance}}"),
            _limit(plan.per_node_concurrency, "per-node slots"),
        ), "short"),
        Panel("Nodes serving", (
            (f'count(up{{job="{NGINX_JOB}"}} == 1)', "up"),
            _limit(plan.nodes, "planned"),
            _limit(max(plan.min_nodes - 1, 1), "needed for the target"),
        ), "short"),
        Panel("Nginx connections per node", (
            (f'nginx_connections_active{{job="{NGINX_JOB}"}}', "{{instance}} active"),
            (f'nginx_connections_waiting{{job="{NGINX_JOB}"}}', "{{instance}} idle keep-alive"),
        ), "short"),
        Panel("Accept queue overflows", (
            (f'rate(node_netstat_TcpExt_ListenOverflows{{job="{NODE_JOB}"}}[5m])',
             "{{instance}}"),
        ), "ops", "Connections dropped because an accept queue was full: should stay 0."),
        Panel("CPU busy per node", (
            (f'1 - avg by (instance) (rate(node_cpu_seconds_total{{job="{NODE_JOB}",'
             f'mode="idle"}}[1m]))', "{{instance}}"),
            _limit(settings.alerts.cpu_percent / 100, "alert"),
        ), "percentunit"),
        Panel("Memory used per node", (
            (f'1 - node_memory_MemAvailable_bytes{{job="{NODE_JOB}"}} / '
             f'node_memory_MemTotal_bytes{{job="{NODE_JOB}"}}', "{{instance}}"),
            _limit(settings.alerts.memory_percent / 100, "alert"),
        ), "percentunit"),
        Panel("Open files per node", (
            (f'node_filefd_allocated{{job="{NODE_JOB}"}}', "{{instance}}"),
            _limit(k.file_max, "fs.file-max"),
        ), "short"),
        Panel("App requests/s by route", (
            (f"sum by (route) ({_app('pyscale_http_requests_total')})", "{{route}}"),
        ), "reqps", "What the app answered, as it counts them (Gunicorn's workers summed)."),
        Panel("App latency", (
            (f"histogram_quantile(0.99, sum by (le) "
             f"({_app('pyscale_http_request_duration_seconds_bucket')}))", "p99"),
            (f"sum({_app('pyscale_http_request_duration_seconds_sum')}) / "
             f"sum({_app('pyscale_http_request_duration_seconds_count')})", "mean"),
            _limit(t.latency_ms / 1000, "plan (workload.latencyMs)"),
        ), "s", "The plan's slots hold the target only while the mean stays at the plan's."),
        Panel("App errors", (
            (f"sum({_app('pyscale_http_request_errors_total')}) / "
             f"sum({_app('pyscale_http_requests_total')})", "share failed"),
            _limit(settings.alerts.error_percent / 100, "alert"),
        ), "percentunit", "5xx answers and exceptions in the app."),
        Panel("Pooled connections in use", (
            (f'sum by (pool) (pyscale_app_pool_in_use{{job="{APP_JOB}"}})', "{{pool}}"),
            _limit(plan.database.app_connections, "write pools, every worker of every node"),
        ), "short", "The demo app's database and cache pools (pyscale_app_pool_in_use); "
                    "requests wait, then get 503, once a node's pools are full."),
        Panel("Data stores answering", (
            (f'up{{job=~"{STORE_JOBS_RE}"}}', "{{job}} {{instance}}"),
        ), "short", "The managed PostgreSQL and Valkey metrics endpoints: 1 when scraped."),
    ]  # fmt: skip


def _app(counter: str) -> str:
    """The per-second rate of one of the app's counters, over a minute."""
    return f'rate({counter}{{job="{APP_JOB}"}}[1m])'


def dashboard(plan: CapacityPlan, settings: Settings) -> dict:
    """The Grafana dashboard JSON for one stack."""
    rendered = []
    for index, panel in enumerate(panels(plan, settings)):
        rendered.append({
            "id": index + 1,
            "type": "timeseries",
            "title": panel.title,
            "description": panel.description,
            "datasource": DATASOURCE,
            "gridPos": {"x": (index % COLUMNS) * PANEL_WIDTH,
                        "y": (index // COLUMNS) * PANEL_HEIGHT,
                        "w": PANEL_WIDTH, "h": PANEL_HEIGHT},
            "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
            "targets": [
                {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                 "legendFormat": legend}
                for i, (expr, legend) in enumerate(panel.queries)
            ],
        })  # fmt: skip
    return {
        "uid": f"pyscale-{settings.stack}"[:40],
        "title": f"pyscale {settings.stack}: fleet against its plan",
        "tags": ["pyscale", settings.stack],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "editable": False,
        "panels": rendered,
    }


def datasources() -> dict:
    """Grafana's provisioning file for the Prometheus on the same monitoring node."""
    return {
        "apiVersion": 1,
        "datasources": [{
            "name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID,
            "access": "proxy", "url": "http://127.0.0.1:9090", "isDefault": True,
            "editable": False,
        }],
    }  # fmt: skip
