"""A real Prometheus (Debian's 2.42) scraping a real local node through the exporters a
cloud node runs (Debian's prometheus-node-exporter and prometheus-nginx-exporter, on the
node's address as pyscale-exporters binds them), with the stack's rendered alert rules: the
node and Nginx metric families arrive, and the in-flight alert's expression becomes true
when the node is pushed past its plan threshold, and is false before.

The stack is one 1-vCPU node, so its plan holds 2,000 requests in flight and the alert's
threshold (80 %) is 1,600: the test holds 1,700 slow requests open.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import yaml

from pyscale import monitoring, settings
from pyscale.localnode import NodeInfo
from pyscale.localnode.commands import wait_until
from pyscale.render import METRICS_PORTS, NODE
from tests.node.conftest import STACK, local_node, stack_file
from tests.ports import free_port

DOMAIN = "scrape.pyscale.example.com"
STACK_FILE = stack_file(
    environment="dev", nodeSize="s-1vcpu-2gb", nodeCount=1, domain=DOMAIN, tls="off"
)
SCRAPE_S = 1
READY_S = 60


def query(port: int, promql: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)["data"]["result"]


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeInfo, int, dict]]:
    """The node, Prometheus's port, and the in-flight alert's rule as rendered for the plan
    the node runs."""
    stack_dir = tmp_path_factory.mktemp("scrape")
    with local_node(stack_dir, name="scrape", services=False, stack_file=STACK_FILE) as (
        _, info), ExitStack() as stack:  # fmt: skip
        stack_settings = settings.load(STACK, stack_dir)
        ns, ip = info.namespace, info.namespace.node_ip
        exporters = [
            ns.exec("prometheus-node-exporter",
                    f"--web.listen-address={ip}:{NODE.node_exporter_port}"),
            ns.exec("prometheus-nginx-exporter",
                    f"-nginx.scrape-uri=http://127.0.0.1:{NODE.stub_status_port}/stub_status",
                    f"-web.listen-address={ip}:{NODE.nginx_exporter_port}"),
        ]  # fmt: skip
        for argv in exporters:
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(process.wait, 10)
            stack.callback(process.terminate)
        work = tmp_path_factory.mktemp("prometheus")
        rules = monitoring.rule_file(info.plan, stack_settings)
        (work / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
        config = {
            "global": {"scrape_interval": f"{SCRAPE_S}s", "evaluation_interval": f"{SCRAPE_S}s"},
            "rule_files": ["rules.yml"],
            # Every metrics port a node serves, the app's (Gunicorn's arbiter) among them.
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [f"{ip}:{port}"]}]}
                for job, port in METRICS_PORTS.items()
            ],
        }  # fmt: skip
        (work / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        server = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        stack.callback(server.wait, 30)
        stack.callback(server.terminate)
        wait_until(lambda: _up(port) == set(METRICS_PORTS), "every metrics port scraped", READY_S)
        (rule,) = [r for r in rules["groups"][0]["rules"]
                   if r["alert"] == "PyscaleInFlightNearCapacity"]  # fmt: skip
        yield info, port, rule


def _up(port: int) -> set[str]:
    try:
        return {r["metric"]["job"] for r in query(port, "up == 1")}
    except OSError:
        return set()


def test_node_nginx_and_app_metric_families_arrive(
    scraped: tuple[NodeInfo, int, dict],
) -> None:
    info, port, _ = scraped
    for family in ("node_cpu_seconds_total", "node_filefd_allocated",
                   "node_netstat_TcpExt_ListenOverflows", "nginx_connections_active",
                   "nginx_connections_reading", "nginx_http_requests_total",
                   "pyscale_http_requests_in_flight"):  # fmt: skip
        assert query(port, family), family
    # Requests through Nginx reach the app's series, by route, after the next scrape.
    url = f"{info.url.rstrip('/')}/io?ms=0"
    for _ in range(5):
        request = urllib.request.Request(url, headers={"Host": info.host})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    served = 'pyscale_http_requests_total{route="/io",status="200"}'
    wait_until(lambda: query(port, served) != [], "the app's /io requests", 10)
    assert query(port, 'pyscale_http_request_duration_seconds_count{route="/io"}')


def test_the_in_flight_alert_becomes_true_past_the_plan_threshold(
    scraped: tuple[NodeInfo, int, dict],
) -> None:
    info, port, rule = scraped
    threshold = 0.8 * info.plan.per_node_concurrency
    assert rule["expr"].endswith(f"> {threshold:g}")
    assert query(port, rule["expr"]) == []  # idle: false
    held = int(threshold) + 100
    request = f"GET /io?ms=20000 HTTP/1.1\r\nHost: {DOMAIN}\r\n\r\n".encode()
    with ExitStack() as stack:
        for _ in range(held):
            sock = stack.enter_context(socket.create_connection((info.namespace.node_ip, 80), 10))
            sock.sendall(request)
        wait_until(lambda: query(port, rule["expr"]) != [], "the in-flight expression", 15)
        (result,) = query(port, rule["expr"])
        assert float(result["value"][1]) > threshold
