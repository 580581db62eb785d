"""Prometheus alert rules derived from the capacity plan: each threshold is the plan's own
number for the link it watches, so an alert fires where the plan says the fleet stops holding.

The rules read the exporters every node runs (prometheus-node-exporter, job `node`, and
prometheus-nginx-exporter reading stub_status, job `nginx`; one `instance` per node). Each
alert carries its threshold and where it came from, and a runbook line: what the on-call
engineer checks first and what to change. Pure: the rule file is data rendered from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyscale.capacity import CapacityPlan
from pyscale.settings import Settings

# Alert before the limit, not at it: the fraction of a plan limit that raises a warning.
NEAR = 0.8
NODE_JOB = "node"
NGINX_JOB = "nginx"
APP_JOB = "app"
PROBE_JOB = "blackbox"  # the monitoring node's probe of the stack's URL (scrape.probe_job)
# Let's Encrypt renews at 30 days left: 14 left means renewal failed for two weeks.
CERT_WARNING_DAYS = 14
STORE_JOBS_RE = "postgresql|valkey"
# Requests Nginx is reading or answering: in flight (idle keep-alive ones wait apart).
IN_FLIGHT = " + ".join(
    f'nginx_connections_{state}{{job="{NGINX_JOB}"}}' for state in ("reading", "writing")
)


@dataclass(frozen=True)
class Alert:
    """One alert: its PromQL, how long it must hold, its threshold and what to do."""

    name: str
    expr: str
    threshold: float  # the number the expression compares with (0 where it is a fact)
    source: str  # where the threshold comes from (the plan's field, a setting)
    summary: str
    runbook: str
    severity: str = "warning"  # "page": someone acts now; "warning": within the day
    for_: str = "5m"

    @property
    def shown_threshold(self) -> str:
        """The threshold for people: 25,600, 0.85."""
        return f"{self.threshold:,.2f}".rstrip("0").rstrip(".")

    def rule(self, stack: str) -> dict:
        """The rule as Prometheus reads it."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "stack": stack},
            "annotations": {
                "summary": self.summary,
                "threshold": f"{self.shown_threshold} ({self.source})",
                "runbook": self.runbook,
            },
        }


def _near(limit: float) -> float:
    """NEAR of a limit, written as PromQL shows it best (1600, not 1600.0)."""
    value = round(NEAR * limit, 2)
    return int(value) if value == int(value) else value


def _app_rate(counter: str) -> str:
    """A node's rate of one of the app's counters (summed over routes), over 5 minutes."""
    return f'sum by (instance) (rate({counter}{{job="{APP_JOB}"}}[5m]))'


def _above(limit: float) -> float:
    """A limit past which the plan no longer holds, by the same margin as NEAR (1 / NEAR)."""
    return round(limit / NEAR, 3)


def _pool_alerts(plan: CapacityPlan) -> list[Alert]:
    """A node's pooled connections in use near what its workers' pools hold (the demo app
    counts them, pyscale_app_pool_in_use): past it, requests wait, then get 503."""
    workers, db = plan.gunicorn.workers, plan.database
    pools = (
        ("Write", "write", db.per_process_pool, "DB_POOL_SIZE", "the primary's PgBouncer pool"),
        ("Read", "read", db.per_process_read_pool, "DB_READ_POOL_SIZE", "a read replica"),
        ("Cache", "cache", plan.cache.per_process_pool, "CACHE_POOL_SIZE", "Valkey"),
    )
    return [
        Alert(f"Pyscale{title}PoolNearFull",
              f'sum by (instance) (pyscale_app_pool_in_use{{job="{APP_JOB}",pool="{pool}"}}) '
              f"> {_near(workers * size)}",
              _near(workers * size),
              f"{NEAR:.0%} of workers {workers} x {env} {size} (each worker's connections "
              f"to {to})",
              "{{ $labels.instance }}: its workers hold nearly every pooled connection to "
              f"{to}",
              "Requests wait for a connection, then answer 503 after the pool timeout; the "
              "pools are the store's connection limit shared by every worker of every node: "
              "a larger store (database.size, cache.size) raises them, more nodes lower them.")
        for title, pool, size, env, to in pools
        if size
    ]  # fmt: skip


def alerts(plan: CapacityPlan, settings: Settings) -> list[Alert]:
    """Every alert for one stack, thresholds from `plan` and the stack's alert settings."""
    n, k, g = plan.nginx, plan.kernel, plan.gunicorn
    in_flight = f"({IN_FLIGHT})"
    low, high = k.ip_local_port_range
    needed = max(plan.min_nodes - 1, 1)  # a pool at its minimum holds the baseline
    a = settings.alerts
    return [
        Alert("PyscaleNodeDown", 'up{job=~"node|nginx"} == 0', 0, "exporter unreachable",
              "{{ $labels.instance }} has not answered its {{ $labels.job }} scrape for 2 m",
              "The load balancer stops sending it traffic on its own; if it does not come "
              "back, replace it (pulumi up --replace the node).",
              severity="page", for_="2m"),
        Alert("PyscaleFleetBelowTarget",
              # `or vector(0)`: with every node down count() returns nothing, not 0.
              f'(count(up{{job="{NGINX_JOB}"}} == 1) or vector(0)) < {needed}', needed,
              f"nodes - 1 = {needed} of the plan's {plan.min_nodes} nodes hold the target",
              "Fewer nodes serve than the target needs: the fleet no longer holds "
              f"{plan.baseline_concurrency:,} concurrent requests",
              "Bring nodes back or add them (nodeCount); during a rollout this means a batch "
              "is larger than the spare nodes.", severity="page"),
        Alert("PyscaleInFlightNearCapacity",
              f"{in_flight} > {_near(plan.per_node_concurrency)}",
              _near(plan.per_node_concurrency),
              f"{NEAR:.0%} of per_node_concurrency {plan.per_node_concurrency:,} "
              f"(workers {g.workers} x worker_connections {g.worker_connections:,})",
              "{{ $labels.instance }} is near the requests its Gunicorn workers hold",
              "Requests beyond it wait in the listen queue, then fail: add nodes or raise "
              "targetConcurrency so the plan sizes workers for it."),
        Alert("PyscaleFleetInFlightNearTarget",
              f"sum({in_flight}) > {_near(plan.capacity_one_node_down)}",
              _near(plan.capacity_one_node_down),
              f"{NEAR:.0%} of what the fleet holds with one node down "
              f"({plan.capacity_one_node_down:,})",
              "The fleet is near what it holds with one node lost (N+1)",
              "Losing a node now overloads the rest: raise targetConcurrency (the plan adds "
              "nodes) before the next peak."),
        Alert("PyscaleRequestRateNearCpuCeiling",
              f'rate(nginx_http_requests_total{{job="{NGINX_JOB}"}}[5m]) > '
              f"{_near(plan.throughput.node_rps_ceiling)}",
              _near(plan.throughput.node_rps_ceiling),
              f"{NEAR:.0%} of node_rps_ceiling {plan.throughput.node_rps_ceiling:,} req/s "
              f"(vCPUs x utilisation ceiling / workload.cpuMs)",
              "{{ $labels.instance }} serves near the requests/s its CPUs finish",
              "Latency grows next: measure cpuMs again (pyscale bench calibrate) and let the "
              "plan size the fleet from it, or add nodes."),
        Alert("PyscaleListenQueueOverflow",
              f'increase(node_netstat_TcpExt_ListenOverflows{{job="{NODE_JOB}"}}[5m]) > 0', 0,
              f"any overflow (somaxconn {k.somaxconn:,}, backlog {g.backlog:,})",
              "{{ $labels.instance }} dropped connections: an accept queue was full",
              "Clients saw connection timeouts. The node is past its slots or a worker is "
              "stuck; check Gunicorn's workers and in-flight requests, add nodes.",
              for_="0m"),
        Alert("PyscaleNginxDroppingConnections",
              f'increase(nginx_connections_accepted{{job="{NGINX_JOB}"}}[5m]) - '
              f'increase(nginx_connections_handled{{job="{NGINX_JOB}"}}[5m]) > 0', 0,
              f"any drop (worker_connections {n.worker_connections:,} per Nginx worker)",
              "{{ $labels.instance }}: Nginx accepted connections it could not handle",
              "An Nginx worker ran out of worker_connections or descriptors; the plan's "
              "numbers no longer match the load: raise targetConcurrency.",
              for_="0m"),
        Alert("PyscaleClientConnectionsNearNginxLimit",
              f'nginx_connections_active{{job="{NGINX_JOB}"}} > '
              f"{_near(n.worker_processes * n.worker_connections)}",
              _near(n.worker_processes * n.worker_connections),
              f"{NEAR:.0%} of Nginx worker_processes {n.worker_processes} x "
              f"worker_connections {n.worker_connections:,}",
              "{{ $labels.instance }}: Nginx holds near the connections it can",
              "Idle keep-alive clients count too; add nodes or raise targetConcurrency."),
        Alert("PyscaleDescriptorsNearLimit",
              f'node_filefd_allocated{{job="{NODE_JOB}"}} > {_near(k.file_max)}',
              _near(k.file_max), f"{NEAR:.0%} of fs.file-max {k.file_max:,}",
              "{{ $labels.instance }} is near the kernel's open-file limit",
              "New connections fail with EMFILE/ENFILE next; find the process holding "
              "them (ls /proc/*/fd | wc -l) before raising the plan."),
        Alert("PyscaleTimeWaitNearPortRange",
              f'node_sockstat_TCP_tw{{job="{NODE_JOB}"}} > {_near(high - low + 1)}',
              _near(high - low + 1),
              f"{NEAR:.0%} of ip_local_port_range {low}-{high}",
              "{{ $labels.instance }} has nearly as many TIME-WAIT sockets as local ports",
              "Outgoing connections (to the database, the cache) start failing; check "
              "that pools are reused (keep-alive) rather than reconnecting per request."),
        Alert("PyscaleCpuHigh",
              f'1 - avg by (instance) (rate(node_cpu_seconds_total{{job="{NODE_JOB}",'
              f'mode="idle"}}[5m])) > {a.cpu_percent / 100:g}',
              a.cpu_percent / 100, f"alerts.cpuPercent {a.cpu_percent}%",
              "{{ $labels.instance }} CPU above the stack's alert threshold",
              "Compare with the request rate; a busy node with little traffic points at "
              "one route: profile a worker (README, Profiling)."),
        Alert("PyscaleMemoryHigh",
              f'1 - node_memory_MemAvailable_bytes{{job="{NODE_JOB}"}} / '
              f'node_memory_MemTotal_bytes{{job="{NODE_JOB}"}} > {a.memory_percent / 100:g}',
              a.memory_percent / 100, f"alerts.memoryPercent {a.memory_percent}%",
              "{{ $labels.instance }} memory above the stack's alert threshold",
              "Workers recycle after max_requests; steady growth between recycles is a "
              "leak in the app."),
        Alert("PyscaleDiskHigh",
              f'1 - node_filesystem_avail_bytes{{job="{NODE_JOB}",mountpoint="/"}} / '
              f'node_filesystem_size_bytes{{job="{NODE_JOB}",mountpoint="/"}} > '
              f"{a.disk_percent / 100:g}",
              a.disk_percent / 100, f"alerts.diskPercent {a.disk_percent}%",
              "{{ $labels.instance }} root filesystem above the stack's alert threshold",
              "Logs first: journalctl --disk-usage, /var/log/nginx (access logs are "
              "sampled unless app.accessLog says otherwise)."),
        Alert("PyscaleAppErrorRatio",
              f"{_app_rate('pyscale_http_request_errors_total')} / "
              f"{_app_rate('pyscale_http_requests_total')} > {a.error_percent / 100:g}",
              a.error_percent / 100, f"alerts.errorPercent {a.error_percent:g}%",
              "{{ $labels.instance }}: the app fails more requests than the stack allows",
              "By route: pyscale_http_request_errors_total; 503s are pools timing out "
              "(database, cache) or the node draining; the app's log is in journalctl -u "
              "pyscale."),
        Alert("PyscaleLatencyAbovePlan",
              f"{_app_rate('pyscale_http_request_duration_seconds_sum')} / "
              f"{_app_rate('pyscale_http_request_duration_seconds_count')} > "
              f"{_above(plan.throughput.latency_ms / 1000)}",
              _above(plan.throughput.latency_ms / 1000),
              f"workload.latencyMs {plan.throughput.latency_ms:,} ms / {NEAR:g}: at the "
              "target rate, longer requests hold more than the plan's slots (Little's law)",
              "{{ $labels.instance }}: requests last longer than the plan sized the fleet for",
              "The same rate now needs more slots; find the slow route "
              "(pyscale_http_request_duration_seconds by route), then measure again and set "
              "workload.latencyMs."),
        *_pool_alerts(plan),
        Alert("PyscaleEndpointDown", f'probe_success{{job="{PROBE_JOB}"}} == 0', 0,
              "the stack's URL failing /healthz from the monitoring node",
              "{{ $labels.instance }} does not answer as a client sees it",
              "Clients see it too: check the load balancer's health and its nodes "
              "(PyscaleNodeDown), then DNS and the certificate.",
              severity="page"),
        *([Alert("PyscaleCertificateExpiring",
                 f'probe_ssl_earliest_cert_expiry{{job="{PROBE_JOB}"}} - time() < '
                 f"{CERT_WARNING_DAYS} * 86400", CERT_WARNING_DAYS,
                 f"{CERT_WARNING_DAYS} days: renewal (Let's Encrypt's at 30 days left) "
                 "failed twice over",
                 "{{ $labels.instance }}'s certificate expires within "
                 f"{CERT_WARNING_DAYS} days",
                 "Managed certificates: check the load balancer's certificate state in the "
                 "console; uploaded ones (certificateName): upload the new one; tls: node: "
                 "journalctl -u certbot on the node.", for_="10m")]
          if settings.tls != "off" else []),
        Alert("PyscaleStoreMetricsDown", f'up{{job=~"{STORE_JOBS_RE}"}} == 0', 0,
              "metrics endpoint unreachable",
              "{{ $labels.job }} at {{ $labels.instance }} has not answered its scrape for 10 m",
              "The store may be down, or its firewall no longer admits the monitoring node; "
              "check the cloud's console before the app's errors say so.",
              for_="10m"),
    ]  # fmt: skip


def rule_file(plan: CapacityPlan, settings: Settings) -> dict:
    """The Prometheus rule file for one stack."""
    return {
        "groups": [
            {
                "name": f"pyscale-{settings.stack}",
                "rules": [alert.rule(settings.stack) for alert in alerts(plan, settings)],
            }
        ]
    }
