"""The `monitoring` and `alerts` settings, and the secrets they need: where the monitoring
node runs and who reaches it, and where its alerts go. Declared here, beside the rest of
the declarations (declarations.py), which include them in `SETTINGS` in this order."""

from __future__ import annotations

import re

from pyscale.settings import addresses
from pyscale.settings.kinds import Boolean, Decimal, Integer, Secret, Sized, Strings, Text
from pyscale.settings.spec import ByCloud, ByEnvironment, Group, Setting

_SMARTHOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:[0-9]{1,5}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

OBSERVABILITY_GROUPS = (
    Group(
        "monitoring",
        "The monitoring node: Prometheus, Alertmanager and Grafana inside the private network.",
    ),
    Group("alerts", "Where monitoring alerts go, and their thresholds."),
)

OBSERVABILITY = (
    Setting(
        "monitoring.node",
        Boolean(),
        "Run a monitoring node in the VPC: Prometheus scraping every node's exporters and the "
        "data stores' metrics, Alertmanager with the plan's alert rules, Grafana's dashboard.",
        ByEnvironment(False, False, True),
    ),
    Setting(
        "monitoring.size",
        Sized(lambda c: c.catalog.machines, "monitoring node size"),
        "The droplet size or instance flavor of the monitoring node.",
        ByCloud(lambda c, env: c.defaults.monitor_size),
    ),
    Setting(
        "monitoring.adminCidrs",
        Strings(
            *addresses.NETWORK_WORDS,
            problem=addresses.cidr_problem,
            whole=addresses.admin_sources_problem,
        ),
        "Networks that reach Grafana (3000) and Prometheus (9090) on the monitoring node; "
        "empty: only through the VPC (an SSH tunnel or a VPN).",
        (),
    ),
    Setting(
        "monitoring.retentionDays",
        Integer(1, 400),
        "How long Prometheus keeps samples on the monitoring node's disk.",
        15,
        unit="days",
    ),
    Setting(
        "alerts.emails",
        Strings("e-mail addresses", "an e-mail address", lambda v: bool(_EMAIL.fullmatch(v))),
        "Who gets monitoring alerts by e-mail.",
        (),
    ),
    Setting(
        "alerts.slackChannel",
        Text("a Slack channel such as #alerts"),
        "The Slack channel for alerts; the webhook URL is the secret alertSlackUrl.",
        unset="no Slack alerts",
    ),
    Setting(
        "alerts.smtpSmarthost",
        Text("an SMTP relay as host:port, such as smtp.example.com:587", _SMARTHOST),
        "The relay Alertmanager sends alert e-mails through (STARTTLS required); the monitoring "
        "node needs one to e-mail alerts.emails.",
        unset="no e-mail from the monitoring node",
    ),
    Setting(
        "alerts.smtpFrom",
        Text("an e-mail address such as alerts@example.com", _EMAIL),
        "The sender of the monitoring node's alert e-mails.",
        unset="none; alerts.smtpSmarthost needs one",
    ),
    Setting(
        "alerts.smtpUsername",
        Text("an SMTP user name"),
        "Who Alertmanager logs in to the relay as; the password is the secret alertSmtpPassword.",
        unset="no login (a relay that trusts the node's address)",
    ),
    Setting("alerts.cpuPercent", Integer(1, 100), "Alert above this CPU use.", 85, unit="%"),
    Setting("alerts.memoryPercent", Integer(1, 100), "Alert above this memory use.", 90, unit="%"),
    Setting("alerts.diskPercent", Integer(1, 100), "Alert above this disk use.", 85, unit="%"),
    Setting(
        "alerts.errorPercent",
        Decimal(0.01, 100),
        "Alert when more than this share of a node's requests fail (5xx or an exception in "
        "the app), over 5 minutes.",
        1.0,
        unit="%",
    ),
    Setting(
        "alertSlackUrl",
        Secret(
            "a Slack incoming-webhook URL (https://hooks.slack.com/services/...)",
            re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+"),
        ),
        "Where Slack alerts are posted; read as a Pulumi secret, never into the settings.",
        unset="no Slack alerts",
    ),
    Setting(
        "alertSmtpPassword",
        Secret("the SMTP relay password of alerts.smtpUsername"),
        "The password Alertmanager logs in to alerts.smtpSmarthost with.",
        unset="none; alerts.smtpUsername needs one",
    ),
    Setting(
        "monitoringToken",
        Secret(
            "a DigitalOcean API token (dop_v1_ and 64 hex digits) with the droplet:read scope only",
            re.compile(r"dop_v1_[0-9a-f]{64}"),
        ),
        "What the monitoring node's Prometheus lists the stack's droplets with (DigitalOcean "
        "droplet discovery); read-only, so the node can change nothing.",
        unset="none; a DigitalOcean monitoring node needs one",
    ),
)
