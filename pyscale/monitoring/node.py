"""The monitoring node's user-data: Prometheus and Alertmanager from Debian, Grafana from its
vendor's repository, each configured from the plan (rules, scrape, dashboard) and the stack's alert
settings. Same pipeline as the web nodes (cloudinit.py): one `#cloud-config` document that
writes every file and runs one checked script, deterministic so that an unchanged plan never
replaces the node and its samples.

Pure Python: the stacks call `monitor_node` inside an Output.apply with the real credentials
(`MonitorSecrets`); offline renders use `placeholder_monitor_secrets`. Templates live in
cloud-init/monitor/.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from pyscale import clouds
from pyscale.capacity import CapacityPlan
from pyscale.clouds.base import EXAMPLE_CA
from pyscale.monitoring.dashboard import dashboard, datasources
from pyscale.monitoring.rules import rule_file
from pyscale.monitoring.scrape import (
    ALERTMANAGER_PORT,
    BLACKBOX_PORT,
    PROBE_MODULE,
    PROMETHEUS_PORT,
    RULES_FILE,
    STORE_JOBS,
    StoreTargets,
    prometheus_config,
)
from pyscale.render.cloudinit import NodeFile, RenderedNode, document_text, runcmd
from pyscale.render.defaults import NODE
from pyscale.settings import Settings

GRAFANA_PORT = 3000
# The ports the admin networks reach (monitoring.adminCidrs): Grafana and Prometheus.
ADMIN_PORTS = (GRAFANA_PORT, PROMETHEUS_PORT)
PROMETHEUS_DIR = "/etc/prometheus"
SLACK_URL_FILE = f"{PROMETHEUS_DIR}/alertmanager-slack-url"
SMTP_PASSWORD_FILE = f"{PROMETHEUS_DIR}/alertmanager-smtp-password"
CA_BUNDLE = f"{PROMETHEUS_DIR}/stores-ca.pem"
DASHBOARDS_DIR = "/etc/grafana/dashboards"
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
RUNCMD_TEMPLATE = "monitor/runcmd.sh.j2"
# How long alerts wait, group and repeat (Alertmanager's defaults, a page repeated sooner).
GROUP_WAIT, GROUP_INTERVAL, REPEAT, PAGE_REPEAT = "30s", "5m", "4h", "1h"


SLACK_PLACEHOLDER = "https://hooks.slack.com/services/REDACTED"


@dataclass(frozen=True)
class Grafana:
    """Where Grafana comes from (grafana.com/docs/grafana/latest/setup-grafana/installation/
    debian/) and where its admin password lives on the node."""

    key_url: str = "https://apt.grafana.com/gpg.key"
    repository: str = "https://apt.grafana.com"
    keyring: str = "/etc/apt/keyrings/grafana.gpg"
    password_file: str = "/etc/grafana/admin-password"
    key_file: str = "/etc/grafana/pyscale.key"
    cert_file: str = "/etc/grafana/pyscale.crt"
    common_name: str = "pyscale-monitoring"


GRAFANA = Grafana()


@dataclass(frozen=True)
class MonitorSecrets:
    """What the monitoring node's files hold that is secret, passed in an Output: the
    cloud login its discovery reads with, the stores' metrics logins, the alert routes'
    credentials, and the stores' CA (not secret)."""

    discovery: Mapping[str, str]
    stores: tuple[StoreTargets, ...] = ()
    slack_url: str | None = None
    smtp_password: str | None = None
    provider_ca: str = ""
    public_url: str = ""  # what clients open (the domain, or the entry address): probed


def placeholder_monitor_secrets(settings: Settings) -> MonitorSecrets:
    """Documentation-style credentials: an offline render with the real shape."""
    login = {"username": "REDACTED", "password": "REDACTED"}
    return MonitorSecrets(
        discovery=clouds.get(settings.cloud).scrape_placeholder,
        stores=tuple(
            StoreTargets(job, (f"https://{job}.example.internal:9273/metrics",), **login)
            for job in STORE_JOBS
        ),
        slack_url=SLACK_PLACEHOLDER if settings.alerts.slack_channel else None,
        smtp_password="REDACTED" if settings.alerts.smtp_username else None,
        provider_ca=EXAMPLE_CA,
        public_url=f"https://{settings.domain}" if settings.domain else "http://203.0.113.10",
    )


def alertmanager_config(settings: Settings, secrets: MonitorSecrets) -> dict:
    """alertmanager.yml: every alert to the stack's e-mails and Slack channel, pages repeated
    sooner, a node's warnings held back while the node itself is down."""
    a = settings.alerts
    receiver: dict[str, Any] = {"name": "oncall"}
    config: dict[str, Any] = {}
    if a.emails and a.smtp_smarthost:
        config["global"] = {
            "smtp_smarthost": a.smtp_smarthost,
            "smtp_from": a.smtp_from,
            "smtp_require_tls": True,
        }
        if a.smtp_username:
            config["global"] |= {
                "smtp_auth_username": a.smtp_username,
                "smtp_auth_password_file": SMTP_PASSWORD_FILE,
            }
        receiver["email_configs"] = [{"to": to, "send_resolved": True} for to in a.emails]
    if a.slack_channel and secrets.slack_url:
        receiver["slack_configs"] = [{
            "api_url_file": SLACK_URL_FILE,
            "channel": a.slack_channel,
            "send_resolved": True,
            "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} "
                     "({{ .CommonLabels.stack }})",
            "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n"
                    "{{ .Annotations.runbook }}\n{{ end }}",
        }]  # fmt: skip
    return config | {
        "route": {
            "receiver": "oncall",
            "group_by": ["alertname", "instance"],
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": REPEAT,
            "routes": [{"matchers": ['severity="page"'], "repeat_interval": PAGE_REPEAT}],
        },
        "inhibit_rules": [{
            "source_matchers": ['alertname="PyscaleNodeDown"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["instance"],
        }],
        "receivers": [receiver],
    }  # fmt: skip


def blackbox_config(settings: Settings) -> dict:
    """The blackbox exporter's one module: GET /healthz as a client would, 200 only, over
    TLS with a certificate the system trusts unless the stack serves plain HTTP."""
    http: dict[str, Any] = {"valid_status_codes": [200], "preferred_ip_protocol": "ip4"}
    if settings.tls != "off":
        http["fail_if_not_ssl"] = True
    return {"modules": {PROBE_MODULE: {"prober": "http", "timeout": "10s", "http": http}}}


def _yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def _files(plan: CapacityPlan, settings: Settings, secrets: MonitorSecrets) -> list[NodeFile]:
    m = settings.monitoring
    prometheus = prometheus_config(
        settings, secrets.discovery, secrets.stores, ca_file=CA_BUNDLE,
        public_url=secrets.public_url,
    )  # fmt: skip
    # Written once the packages are in (deferred), so the prometheus user exists.
    secret = {"permissions": "0640", "owner": "root:prometheus"}
    rules, alerting = rule_file(plan, settings), alertmanager_config(settings, secrets)
    files = [
        NodeFile(f"{PROMETHEUS_DIR}/prometheus.yml", _yaml(prometheus), **secret),
        NodeFile(f"{PROMETHEUS_DIR}/{RULES_FILE}", _yaml(rules)),
        NodeFile(f"{PROMETHEUS_DIR}/alertmanager.yml", _yaml(alerting)),
        # Debian's units read their flags from /etc/default. Alertmanager listens on
        # loopback only and without its cluster port (which would listen on every address).
        NodeFile("/etc/default/prometheus",
                 f'ARGS="--storage.tsdb.retention.time={m.retention_days}d '
                 f'--web.listen-address=:{PROMETHEUS_PORT}"\n'),
        NodeFile("/etc/default/prometheus-alertmanager",
                 f'ARGS="--web.listen-address=127.0.0.1:{ALERTMANAGER_PORT} '
                 '--cluster.listen-address="\n'),
        NodeFile(f"{PROMETHEUS_DIR}/blackbox.yml", _yaml(blackbox_config(settings))),
        NodeFile("/etc/default/prometheus-blackbox-exporter",
                 f'ARGS="--config.file={PROMETHEUS_DIR}/blackbox.yml '
                 f'--web.listen-address=127.0.0.1:{BLACKBOX_PORT}"\n'),
        NodeFile(NODE.provider_ca, secrets.provider_ca or EXAMPLE_CA),
        NodeFile(f"{GRAFANA_PROVISIONING}/datasources/pyscale.yaml",
                 _yaml(datasources())),
        NodeFile(f"{GRAFANA_PROVISIONING}/dashboards/pyscale.yaml", _yaml({
            "apiVersion": 1,
            "providers": [{"name": "pyscale", "type": "file", "disableDeletion": True,
                           "allowUiUpdates": False, "options": {"path": DASHBOARDS_DIR}}],
        })),
        NodeFile(f"{DASHBOARDS_DIR}/pyscale-{settings.stack}.json",
                 json.dumps(dashboard(plan, settings), indent=1) + "\n",
                 compressed=True),
        NodeFile("/etc/systemd/system/grafana-server.service.d/pyscale.conf", _grafana_unit()),
    ]  # fmt: skip
    if secrets.slack_url and settings.alerts.slack_channel:
        files.append(NodeFile(SLACK_URL_FILE, secrets.slack_url + "\n", **secret))
    if secrets.smtp_password and settings.alerts.smtp_username:
        files.append(NodeFile(SMTP_PASSWORD_FILE, secrets.smtp_password + "\n", **secret))
    return files


def _grafana_unit() -> str:
    """Grafana's settings as environment (GF_<SECTION>_<KEY>): no grafana.ini to merge with
    the package's own. Viewers need no login (the firewall admits the admin networks only);
    the admin password is read from its file; HTTPS with the node's own certificate;
    nothing is sent home."""
    settings = {
        "GF_SERVER_PROTOCOL": "https",
        "GF_SERVER_HTTP_PORT": GRAFANA_PORT,
        "GF_SERVER_CERT_FILE": GRAFANA.cert_file,
        "GF_SERVER_CERT_KEY": GRAFANA.key_file,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": GRAFANA.password_file,
        "GF_AUTH_ANONYMOUS_ENABLED": "true",
        "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
    }
    lines = "".join(f'Environment="{key}={value}"\n' for key, value in settings.items())
    return "[Service]\n" + lines


def monitor_node(plan: CapacityPlan, settings: Settings, secrets: MonitorSecrets) -> RenderedNode:
    """The monitoring node's `#cloud-config` user-data and the files it writes; ValueError
    when the document is larger than the cloud accepts."""
    files = _files(plan, settings, secrets)
    steps = runcmd(RUNCMD_TEMPLATE, {
        "done": "/var/lib/pyscale/monitoring-ready",
        "failed": "/var/lib/pyscale/monitoring-failed",
        "provider_ca": NODE.provider_ca,
        "ca_bundle": CA_BUNDLE,
        "grafana": GRAFANA,
    })  # fmt: skip

    def document(written: list[NodeFile]) -> dict:
        return {
            "ssh_pwauth": False,
            "package_update": True,
            "package_upgrade": True,
            "packages": [
                "prometheus",
                "prometheus-alertmanager",
                "prometheus-node-exporter",
                "prometheus-blackbox-exporter",
                "curl",
                "gpg",
                "ca-certificates",
                "openssl",
            ],
            "write_files": [f.entry() for f in written],
            "runcmd": steps,
        }

    user_data, written = document_text(
        document, files, settings, "monitoring user-data",
        hint="The dashboard is the largest file: fewer panels (pyscale/monitoring).",
    )  # fmt: skip
    return RenderedNode(user_data=user_data, files=tuple(written))
