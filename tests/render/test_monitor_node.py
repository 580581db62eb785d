"""The monitoring node's user-data, checked by the tools that will read it: cloud-init's
schema, shellcheck on its bootstrap, `promtool check config` on its prometheus.yml with the
rules beside it, `amtool check-config` on its alertmanager.yml, and a real Alertmanager
(Debian's) that routes a firing alert to the stack's Slack webhook, a local HTTP server
here. Grafana is not in Debian, so its files are checked for what Grafana reads: the
datasource the dashboard names, the dashboards folder the provider loads.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from pyscale import capacity, monitoring, settings
from pyscale.localnode.commands import wait_until
from pyscale.monitoring import node as monitor
from pyscale.monitoring.scrape import PROBE_JOB, SELF_JOB, STORE_JOBS
from pyscale.render import write_tree
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
STACKS = ("prod", "prod-ovh")
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def rendered(stack: str) -> tuple[settings.Settings, monitor.RenderedNode]:
    parsed = settings.load(stack, REPO)
    plan = capacity.plan(parsed)
    return parsed, monitoring.monitor_node(
        plan, parsed, monitoring.placeholder_monitor_secrets(parsed)
    )


def tree(stack: str, out: Path) -> Path:
    """The node's files under `out/files`, paths inside them pointed there."""
    _, node = rendered(stack)
    write_tree(node, out)
    root = out / "files"
    for name in ("prometheus.yml", "alertmanager.yml"):
        path = root / "etc/prometheus" / name
        path.write_text(path.read_text().replace("/etc/prometheus/", f"{root}/etc/prometheus/"))
    (root / monitor.CA_BUNDLE.lstrip("/")).write_text(
        (root / "etc/pyscale/provider-ca.pem").read_text()
    )
    return root


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_init_accepts_the_user_data(stack: str, tmp_path: Path) -> None:
    _, node = rendered(stack)
    (tmp_path / "user-data").write_text(node.user_data)
    done = run("cloud-init", "schema", "--config-file", str(tmp_path / "user-data"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid" in done.stdout + done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_shellcheck_passes_the_bootstrap(stack: str, tmp_path: Path) -> None:
    _, node = rendered(stack)
    script = tmp_path / "runcmd.sh"
    script.write_text("#!/bin/sh\n" + "\n".join(yaml.safe_load(node.user_data)["runcmd"]) + "\n")
    done = run("shellcheck", "--shell=sh", str(script))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_accepts_the_scrape_config_and_its_rules(stack: str, tmp_path: Path) -> None:
    root = tree(stack, tmp_path)
    done = run("promtool", "check", "config", str(root / "etc/prometheus/prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout
    config = yaml.safe_load((root / "etc/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"node", "nginx", "app", SELF_JOB, PROBE_JOB, *STORE_JOBS}
    for job in STORE_JOBS:
        assert jobs[job]["scheme"] == "https" and jobs[job]["basic_auth"]["password"]


@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_the_routing(stack: str, tmp_path: Path) -> None:
    root = tree(stack, tmp_path)
    done = run("amtool", "check-config", str(root / "etc/prometheus/alertmanager.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    parsed = settings.load(stack, REPO)
    receiver = yaml.safe_load((root / "etc/prometheus/alertmanager.yml").read_text())["receivers"][
        0
    ]
    assert [e["to"] for e in receiver["email_configs"]] == list(parsed.alerts.emails)
    assert ("slack_configs" in receiver) == bool(parsed.alerts.slack_channel)


@pytest.mark.parametrize("stack", STACKS)
def test_the_blackbox_exporter_accepts_its_probe(stack: str, tmp_path: Path) -> None:
    root = tree(stack, tmp_path)
    config = root / "etc/prometheus/blackbox.yml"
    done = run("prometheus-blackbox-exporter", "--config.check", f"--config.file={config}")
    assert done.returncode == 0, done.stdout + done.stderr
    # HTTPS only where the stack serves it; the probe is of what clients open.
    module = yaml.safe_load(config.read_text())["modules"]["pyscale_healthz"]
    assert module["http"]["fail_if_not_ssl"] is True
    parsed, node = rendered(stack)
    scrape = yaml.safe_load(node.file("/etc/prometheus/prometheus.yml").content)
    (probe,) = [job for job in scrape["scrape_configs"] if job["job_name"] == PROBE_JOB]
    assert probe["static_configs"][0]["targets"] == [f"https://{parsed.domain}/healthz"]
    assert "127.0.0.1:9115" in node.file("/etc/default/prometheus-blackbox-exporter").content


def test_the_blackbox_exporter_refuses_a_broken_module(tmp_path: Path) -> None:
    root = tree("prod", tmp_path)
    config = root / "etc/prometheus/blackbox.yml"
    config.write_text(config.read_text().replace("valid_status_codes", "valid_status_code"))
    done = run("prometheus-blackbox-exporter", "--config.check", f"--config.file={config}")
    assert done.returncode != 0


def test_amtool_refuses_a_route_to_nowhere(tmp_path: Path) -> None:
    """The check can fail: a route naming a receiver that does not exist."""
    root = tree("prod", tmp_path)
    path = root / "etc/prometheus/alertmanager.yml"
    config = yaml.safe_load(path.read_text())
    config["route"]["receiver"] = "nobody"
    path.write_text(yaml.safe_dump(config))
    assert run("amtool", "check-config", str(path)).returncode != 0


@pytest.mark.parametrize("stack", STACKS)
def test_only_grafana_and_prometheus_face_the_admin_networks(stack: str) -> None:
    """Alertmanager on loopback and without its gossip port; secrets readable by the
    prometheus user only; Grafana's viewers anonymous, nobody signs up."""
    parsed, node = rendered(stack)
    assert node.file("/etc/default/prometheus-alertmanager").content == (
        'ARGS="--web.listen-address=127.0.0.1:9093 --cluster.listen-address="\n'
    )
    prometheus = node.file("/etc/default/prometheus").content
    assert f"--storage.tsdb.retention.time={parsed.monitoring.retention_days}d" in prometheus
    for path in ("/etc/prometheus/prometheus.yml",):
        f = node.file(path)
        assert (f.permissions, f.owner) == ("0640", "root:prometheus")
    unit = node.file("/etc/systemd/system/grafana-server.service.d/pyscale.conf").content
    assert 'Environment="GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer"' in unit
    assert 'Environment="GF_USERS_ALLOW_SIGN_UP=false"' in unit
    assert monitoring.ADMIN_PORTS == (3000, 9090)


def test_grafana_finds_the_dashboard_and_its_datasource() -> None:
    parsed, node = rendered("prod")
    provider = yaml.safe_load(
        node.file(f"{monitor.GRAFANA_PROVISIONING}/dashboards/pyscale.yaml").content
    )
    folder = provider["providers"][0]["options"]["path"]
    board = json.loads(node.file(f"{folder}/pyscale-{parsed.stack}.json").content)
    sources = yaml.safe_load(
        node.file(f"{monitor.GRAFANA_PROVISIONING}/datasources/pyscale.yaml").content
    )
    uids = {source["uid"] for source in sources["datasources"]}
    assert {panel["datasource"]["uid"] for panel in board["panels"]} <= uids


def ready(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


class Webhook(http.server.BaseHTTPRequestHandler):
    """A Slack incoming webhook: keeps every JSON body posted to it."""

    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    Webhook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/x"
    finally:
        server.shutdown()


def test_a_real_alertmanager_posts_a_firing_alert_to_slack(webhook: str, tmp_path: Path) -> None:
    """The rendered alertmanager.yml, as is but for the webhook file's content: an alert
    posted to Alertmanager's API reaches the stack's Slack channel with its runbook."""
    root = tree("prod", tmp_path)
    (root / monitor.SLACK_URL_FILE.lstrip("/")).write_text(webhook + "\n")
    port = free_port()
    server = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={root}/etc/prometheus/alertmanager.yml",
         f"--storage.path={tmp_path}/data", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api/v2"
    try:
        wait_until(lambda: ready(f"{api}/status"), "Alertmanager's API", timeout=30)
        alert = [{
            "labels": {"alertname": "PyscaleInFlightNearCapacity", "severity": "warning",
                       "stack": "prod", "instance": "pyscale-prod-node-1"},
            "annotations": {"summary": "node-1 is near the requests its workers hold",
                            "runbook": "add nodes or raise targetConcurrency"},
        }]  # fmt: skip
        request = urllib.request.Request(
            f"{api}/alerts", json.dumps(alert).encode(), {"Content-Type": "application/json"}
        )
        assert urllib.request.urlopen(request, timeout=5).status == 200
        # group_wait (30 s) first: the routing as rendered, not shortened for the test.
        wait_until(lambda: bool(Webhook.received), "the Slack webhook's first post", timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    message = Webhook.received[0]
    assert message["channel"] == settings.load("prod", REPO).alerts.slack_channel
    text = json.dumps(message)
    assert "PyscaleInFlightNearCapacity" in text and "add nodes or raise targetConcurrency" in text
