"""Monitoring rendered from the plan, checked by Prometheus's own promtool (Debian's
`prometheus` package): `promtool check config` on every shipped stack's prometheus.yml with
its rule file beside it, `promtool check rules` on every rule file, and
`promtool test rules` with series just past each plan threshold (the alert fires) and just
short of it (it does not). The series are built here from the plan's numbers, never copied
from the rule file, so a rule that drifts from its plan limit fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pyscale import capacity, clouds, monitoring, settings
from pyscale.monitoring.rules import APP_JOB, NGINX_JOB, NODE_JOB
from pyscale.monitoring.scrape import SELF_JOB

REPO = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
PROMTOOL = "promtool"
MINUTES = 20  # samples per series, one a minute
OVER, UNDER = 1.05, 0.95  # just past and just short of a threshold

Series = list[dict[str, str]]


def labels(metric: str, **extra: str) -> str:
    pairs = ",".join(f'{k}="{v}"' for k, v in sorted(extra.items()))
    return f"{metric}{{{pairs}}}"


def gauge(metric: str, value: float, **extra: str) -> dict[str, str]:
    return {"series": labels(metric, **extra), "values": f"{value:g}x{MINUTES}"}


def counter(metric: str, per_second: float, **extra: str) -> dict[str, str]:
    return {"series": labels(metric, **extra), "values": f"0+{per_second * 60:g}x{MINUTES}"}


NODE = {"job": NODE_JOB, "instance": "node-1"}
NGINX = {"job": NGINX_JOB, "instance": "node-1"}
APP = {"job": APP_JOB, "instance": "node-1"}
STORE = {"job": "postgresql", "instance": "db.example.internal:9273"}
PROBE = {"job": "blackbox", "instance": "https://app.example.com/healthz"}


@dataclass(frozen=True)
class Case:
    """How to drive one alert: series for a value, and the labels the alert then has."""

    series: Callable[[float], Series]  # the series that put the watched value at x
    alert_labels: dict[str, str]
    fact: bool = False  # threshold 0, "any": fire with an event, stay quiet without one


CASES: dict[str, Case] = {
    "PyscaleNodeDown": Case(lambda x: [gauge("up", 0 if x > 0 else 1, **NODE)], NODE, True),
    "PyscaleFleetBelowTarget": Case(
        lambda x: [gauge("up", 1, job=NGINX_JOB, instance=f"node-{i}") for i in range(int(x))],
        {},
    ),
    "PyscaleInFlightNearCapacity": Case(
        lambda x: [gauge(f"nginx_connections_{s}", x / 2, **NGINX) for s in ("reading", "writing")],
        NGINX,
    ),
    "PyscaleFleetInFlightNearTarget": Case(
        lambda x: [
            gauge(f"nginx_connections_{s}", x / 4, job=NGINX_JOB, instance=f"node-{i}")
            for s in ("reading", "writing")
            for i in (1, 2)
        ],
        {},
    ),
    "PyscaleRequestRateNearCpuCeiling": Case(
        lambda x: [counter("nginx_http_requests_total", x, **NGINX)], NGINX
    ),
    "PyscaleListenQueueOverflow": Case(
        lambda x: [counter("node_netstat_TcpExt_ListenOverflows", x, **NODE)], NODE, True
    ),
    "PyscaleNginxDroppingConnections": Case(
        lambda x: [
            counter("nginx_connections_accepted", 100, **NGINX),
            counter("nginx_connections_handled", 100 - x, **NGINX),
        ],
        NGINX,
        True,
    ),
    "PyscaleClientConnectionsNearNginxLimit": Case(
        lambda x: [gauge("nginx_connections_active", x, **NGINX)], NGINX
    ),
    "PyscaleDescriptorsNearLimit": Case(
        lambda x: [gauge("node_filefd_allocated", x, **NODE)], NODE
    ),
    "PyscaleTimeWaitNearPortRange": Case(
        lambda x: [gauge("node_sockstat_TCP_tw", x, **NODE)], NODE
    ),
    "PyscaleCpuHigh": Case(
        lambda x: [counter("node_cpu_seconds_total", 1 - x, cpu="0", mode="idle", **NODE)],
        {"instance": "node-1"},
    ),
    "PyscaleMemoryHigh": Case(
        lambda x: [
            gauge("node_memory_MemTotal_bytes", 1000, **NODE),
            gauge("node_memory_MemAvailable_bytes", 1000 * (1 - x), **NODE),
        ],
        NODE,
    ),
    "PyscaleAppErrorRatio": Case(
        lambda x: [
            counter("pyscale_http_requests_total", 100, route="/", **APP),
            counter("pyscale_http_request_errors_total", 100 * x, route="/", **APP),
        ],
        {"instance": "node-1"},
    ),
    "PyscaleLatencyAbovePlan": Case(
        lambda x: [
            counter("pyscale_http_request_duration_seconds_sum", 100 * x, route="/", **APP),
            counter("pyscale_http_request_duration_seconds_count", 100, route="/", **APP),
        ],
        {"instance": "node-1"},
    ),
    **{
        f"Pyscale{pool.title()}PoolNearFull": Case(
            lambda x, pool=pool: [gauge("pyscale_app_pool_in_use", x, pool=pool, **APP)],
            {"instance": "node-1"},
        )
        for pool in ("write", "read", "cache")
    },
    "PyscaleEndpointDown": Case(
        lambda x: [gauge("probe_success", 0 if x > 0 else 1, **PROBE)], PROBE, True
    ),
    # Days left, as the exporter reports the expiry: a timestamp (promtool's time() starts
    # at 0), so the series is the days past which it expires.
    "PyscaleCertificateExpiring": Case(
        lambda x: [gauge("probe_ssl_earliest_cert_expiry", (28 - x) * 86400, **PROBE)],
        PROBE,
    ),
    "PyscaleStoreMetricsDown": Case(
        lambda x: [gauge("up", 0 if x > 0 else 1, **STORE)], STORE, True
    ),
    "PyscaleDiskHigh": Case(
        lambda x: [
            gauge("node_filesystem_size_bytes", 1000, mountpoint="/", **NODE),
            gauge("node_filesystem_avail_bytes", 1000 * (1 - x), mountpoint="/", **NODE),
        ],
        {**NODE, "mountpoint": "/"},
    ),
}


def stack_rules(stack: str) -> tuple[list[monitoring.Alert], dict, settings.Settings]:
    parsed = settings.load(stack, REPO)
    plan = capacity.plan(parsed)
    return monitoring.alerts(plan, parsed), monitoring.rule_file(plan, parsed), parsed


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_accepts_every_stacks_rule_file(stack: str, tmp_path: Path) -> None:
    alerts, rule_file, _ = stack_rules(stack)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rule_file, sort_keys=False))
    done = promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(alerts)} rules found" in done.stdout
    assert len(alerts) >= 10 and {a.name for a in alerts} <= set(CASES)
    # Only a stack without read replicas has no read pool to watch.
    without = set(CASES) - {a.name for a in alerts}
    assert without == (set() if alerts and _has_read_pool(stack) else {"PyscaleReadPoolNearFull"})


def _has_read_pool(stack: str) -> bool:
    return capacity.plan(settings.load(stack, REPO)).database.per_process_read_pool > 0


def _expected(alert: monitoring.Alert, case: Case, stack: str) -> dict:
    exp_labels = {"severity": alert.severity, "stack": stack, **case.alert_labels}
    summary = alert.summary
    for name in ("instance", "job"):
        summary = summary.replace(f"{{{{ $labels.{name} }}}}", case.alert_labels.get(name, ""))
    return {
        "exp_labels": exp_labels,
        "exp_annotations": {
            "summary": summary,
            "threshold": f"{alert.shown_threshold} ({alert.source})",
            "runbook": alert.runbook,
        },
    }


def _eval_time(alert: monitoring.Alert) -> str:
    held = int(alert.for_.rstrip("m") or 0)
    return f"{max(held, 0) + 10}m"  # the rates' 5 m windows filled, `for` held


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_fires_past_its_plan_threshold_and_not_short_of_it(
    stack: str, tmp_path: Path
) -> None:
    alerts, rule_file, _ = stack_rules(stack)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rule_file, sort_keys=False))
    tests = []
    for alert in alerts:
        case = CASES[alert.name]
        if case.fact:
            past, short = 1.0, 0.0
        elif alert.name == "PyscaleFleetBelowTarget":  # fires below: one node short of it
            past, short = alert.threshold - 1, alert.threshold
        else:
            past, short = alert.threshold * OVER, alert.threshold * UNDER
        for value, fires in ((past, True), (short, False)):
            tests.append({
                "interval": "1m",
                "input_series": case.series(value),
                "alert_rule_test": [{
                    "eval_time": _eval_time(alert),
                    "alertname": alert.name,
                    "exp_alerts": [_expected(alert, case, stack)] if fires else [],
                }],
            })  # fmt: skip
    (tmp_path / "tests.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "tests": tests}, sort_keys=False)
    )
    done = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(tests) == 2 * len(alerts)


def test_a_rule_that_drifts_from_its_plan_threshold_fails_its_test(tmp_path: Path) -> None:
    """The tests can fail: the in-flight rule moved up 10 % misses the series past the plan's
    threshold."""
    alerts, rule_file, stack_settings = stack_rules("prod")
    rule = next(r for r in rule_file["groups"][0]["rules"] if r["alert"].endswith("NearCapacity"))
    alert = next(a for a in alerts if a.name == rule["alert"])
    rule["expr"] = rule["expr"].replace(f"> {alert.threshold:g}", f"> {alert.threshold * 1.1:g}")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rule_file, sort_keys=False))
    case = CASES[alert.name]
    test = {
        "interval": "1m",
        "input_series": case.series(alert.threshold * OVER),
        "alert_rule_test": [{"eval_time": _eval_time(alert), "alertname": alert.name,
                             "exp_alerts": [_expected(alert, case, stack_settings.stack)]}],
    }  # fmt: skip
    (tmp_path / "tests.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "tests": [test]}, sort_keys=False)
    )
    done = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_accepts_every_stacks_scrape_config(stack: str, tmp_path: Path) -> None:
    _, rule_file, parsed = stack_rules(stack)
    config = monitoring.prometheus_config(parsed, clouds.get(parsed.cloud).scrape_placeholder)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / monitoring.RULES_FILE).parent.mkdir()
    (tmp_path / monitoring.RULES_FILE).write_text(yaml.safe_dump(rule_file, sort_keys=False))
    done = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout
    # One job per exporter, each kept to this stack's nodes and their private address.
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {NODE_JOB, NGINX_JOB, "app", SELF_JOB}
    for job in (jobs[NODE_JOB], jobs[NGINX_JOB], jobs["app"]):
        keep, address, _, *running = job["relabel_configs"]
        assert keep["action"] == "keep" and parsed.resource_prefix in keep["regex"]
        assert "private" in address["source_labels"][0]
        assert address["target_label"] == "__address__"
        if parsed.cloud != "digitalocean":
            continue
        # A Droplet autoscale pool's members come and go: listed more often, and one that
        # is shutting down (leaving the pool) is no longer scraped.
        (discovery,) = job["digitalocean_sd_configs"]
        pool = parsed.autoscale.enabled
        assert discovery["refresh_interval"] == ("30s" if pool else "60s")
        status = {"source_labels": ["__meta_digitalocean_status"], "regex": "active",
                  "action": "keep"}  # fmt: skip
        assert running == ([status] if pool else [])


def test_promtool_refuses_a_config_whose_rules_are_missing(tmp_path: Path) -> None:
    _, _, parsed = stack_rules("prod")
    config = monitoring.prometheus_config(parsed, clouds.get(parsed.cloud).scrape_placeholder)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert promtool("check", "config", "prometheus.yml", cwd=tmp_path).returncode != 0


# --- the Grafana dashboard ---------------------------------------------------------------


def panel_queries(board: dict) -> dict[str, str]:
    return {
        f"pyscale:panel_{panel['id']}_{target['refId']}": target["expr"]
        for panel in board["panels"]
        for target in panel["targets"]
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_dashboard_query_parses_and_every_datasource_exists(
    stack: str, tmp_path: Path
) -> None:
    parsed = settings.load(stack, REPO)
    plan = capacity.plan(parsed)
    board = monitoring.dashboard(plan, parsed)
    queries = panel_queries(board)
    # promtool parses each query as the expression of a recording rule.
    rules = [{"record": name, "expr": expr} for name, expr in queries.items()]
    records = {"groups": [{"name": "panels", "rules": rules}]}
    (tmp_path / "panels.yml").write_text(yaml.safe_dump(records, sort_keys=False))
    done = promtool("check", "rules", "panels.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(queries)} rules found" in done.stdout
    sources = {s["uid"] for s in monitoring.datasources()["datasources"]}
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] in sources, panel["title"]
        assert {t["datasource"]["uid"] for t in panel["targets"]} <= sources, panel["title"]
    # One grid cell per panel, and the plan's limits drawn beside what is measured.
    cells = {(p["gridPos"]["x"], p["gridPos"]["y"]) for p in board["panels"]}
    assert len(cells) == len(board["panels"]) == len({p["id"] for p in board["panels"]})
    per_node = next(p for p in board["panels"] if p["title"] == "Requests in flight per node")
    assert f"vector({plan.per_node_concurrency})" in [t["expr"] for t in per_node["targets"]]


def test_promtool_refuses_a_query_that_does_not_parse(tmp_path: Path) -> None:
    broken = [{"record": "x", "expr": "sum(rate(x[1m])"}]
    records = {"groups": [{"name": "panels", "rules": broken}]}
    (tmp_path / "panels.yml").write_text(yaml.safe_dump(records))
    assert promtool("check", "rules", "panels.yml", cwd=tmp_path).returncode != 0
