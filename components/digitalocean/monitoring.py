"""Alerts: resource alerts on every node (by the web tag) and an uptime check on the URL.

The droplets run DigitalOcean's metrics agent (`monitoring=True`, nodes.py), which feeds the
monitor alerts: CPU, memory and disk above the thresholds in `pyscale:alerts`, and a 5-minute
load average above the node's vCPU count (runnable work queueing). They go to the configured
e-mails and, when both a channel and the `alertSlackUrl` secret are set, to Slack. An alert
with nowhere to go is not created: DigitalOcean requires a destination.

The load balancer and the managed clusters get DigitalOcean's own alerts too (by id): the
load balancer near its connection and new-TLS limits (80 % of what its size holds, the plan
sized it for the target) and with a rising 5xx rate; PostgreSQL and Valkey above the
stack's CPU, memory and disk thresholds.

The uptime check probes the public URL from every DigitalOcean probe region; it alerts when
the site is down from all of them, slow, or (https) its certificate is about to expire.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import moved
from components.digitalocean.network import Network
from pyscale.capacity import CapacityPlan
from pyscale.monitoring import NEAR
from pyscale.settings import Settings

UPTIME_REGIONS = ("us_east", "us_west", "eu_west", "se_asia")
# Alert before a limit, as the plan's Prometheus rules do (pyscale/monitoring): 80 %.
NEAR_PERCENT = round(NEAR * 100)
# A 5xx rate increase worth waking for: the nodes answer 503 only when saturated.
LB_5XX_PERCENT = 5
LATENCY_THRESHOLD_MS = 1000
CERTIFICATE_DAYS_LEFT = 14


@dataclass(frozen=True)
class MonitoringArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network
    url: pulumi.Input[str]  # the public URL the uptime check probes
    # Secret Slack webhook (pyscale:alertSlackUrl); alerts.slackChannel names the channel.
    slack_url: pulumi.Input[str] | None
    load_balancer_id: pulumi.Input[str] | None = None  # None: a single node, no balancer
    # The PostgreSQL and Valkey clusters' ids, for DigitalOcean's database alerts.
    database_ids: tuple[pulumi.Input[str], ...] = ()


@dataclass(frozen=True)
class Destinations:
    emails: list[str]
    slack_channel: str | None
    slack_url: pulumi.Input[str] | None

    @property
    def slack(self) -> bool:
        return bool(self.slack_channel) and self.slack_url is not None

    @property
    def any(self) -> bool:
        return bool(self.emails) or self.slack


@dataclass(frozen=True)
class Metric:
    """One monitor alert: `type` above `value` for `window`."""

    key: str
    type: str
    value: float
    window: str
    description: str
    # What it watches: "web" (the droplets, by tag), "lb" or "db" (by id).
    on: str = "web"


def metrics(settings: Settings, plan: CapacityPlan) -> tuple[Metric, ...]:
    alerts = settings.alerts
    return (
        Metric("cpu", "v1/insights/droplet/cpu", alerts.cpu_percent, "5m", "CPU"),
        Metric(
            "memory",
            "v1/insights/droplet/memory_utilization_percent",
            alerts.memory_percent,
            "5m",
            "memory",
        ),
        Metric(
            "disk",
            "v1/insights/droplet/disk_utilization_percent",
            alerts.disk_percent,
            "5m",
            "disk",
        ),
        Metric("load", "v1/insights/droplet/load_5", plan.vcpus, "10m", "5-minute load average"),
        # The load balancer: its size was chosen for the target (plan.load_balancer); these
        # say the target is being outgrown before the balancer refuses connections.
        Metric("lb-connections", "v1/insights/lbaas/connection_utilization_percent",
               NEAR_PERCENT, "5m", "load balancer connection use (%)", on="lb"),
        Metric("lb-tls", "v1/insights/lbaas/tls_connections_per_second_utilization_percent",
               NEAR_PERCENT, "5m", "load balancer new TLS connections/s use (%)", on="lb"),
        Metric("lb-5xx", "v1/insights/lbaas/increase_in_http_error_rate_percentage_5xx",
               LB_5XX_PERCENT, "5m", "load balancer 5xx rate increase (%)", on="lb"),
        # The managed clusters, at the stack's own thresholds.
        Metric("db-cpu", "v1/dbaas/alerts/cpu_alerts", alerts.cpu_percent, "5m",
               "database CPU (%)", on="db"),
        Metric("db-memory", "v1/dbaas/alerts/memory_utilization_alerts", alerts.memory_percent,
               "5m", "database memory (%)", on="db"),
        Metric("db-disk", "v1/dbaas/alerts/disk_utilization_alerts", alerts.disk_percent,
               "5m", "database disk (%)", on="db"),
    )  # fmt: skip


def destinations(settings: Settings, slack_url: pulumi.Input[str] | None) -> Destinations:
    channel = settings.alerts.slack_channel
    if channel and slack_url is None:
        pulumi.log.warn(
            "pyscale:alerts.slackChannel is set but the secret pyscale:alertSlackUrl is not; "
            "alerts go to e-mail only (pulumi config set --secret pyscale:alertSlackUrl <webhook>)"
        )
    return Destinations(list(settings.alerts.emails), channel, slack_url)


@pulumi.type_token("pyscale:digitalocean:Monitoring")
class Monitoring(pulumi.ComponentResource):
    """The uptime check, and the monitor and uptime alerts when they have somewhere to go;
    children are named after the stack (settings.resource_prefix), as before this part."""

    uptime_check_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings = args.settings
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        to = destinations(settings, args.slack_url)
        check = do.UptimeCheck(
            f"{prefix}-uptime",
            name=f"{prefix}-uptime",
            target=args.url,
            type="http" if settings.tls == "off" else "https",
            regions=list(UPTIME_REGIONS),
            enabled=True,
            opts=child,
        )
        if to.any:
            self._alerts(args, to, check.id, child)
        self.uptime_check_id = check.id
        self.register_outputs({"uptime_check_id": self.uptime_check_id})

    def _alerts(
        self,
        args: MonitoringArgs,
        to: Destinations,
        check_id: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """Monitor alerts on the web tag's droplets, and uptime alerts on the check."""
        settings, prefix = args.settings, args.settings.resource_prefix
        slacks = (
            [do.MonitorAlertAlertsSlackArgs(channel=to.slack_channel, url=to.slack_url)]
            if to.slack
            else []
        )
        targets = {
            "web": {"tags": [args.network.tags.web]},
            "lb": {"entities": [args.load_balancer_id]} if args.load_balancer_id else None,
            "db": {"entities": list(args.database_ids)} if args.database_ids else None,
        }
        for metric in metrics(settings, args.plan):
            target = targets[metric.on]
            if target is None:
                continue
            do.MonitorAlert(
                f"{prefix}-alert-{metric.key}",
                description=f"pyscale {settings.stack}: {metric.description} above "
                f"{metric.value:g} for {metric.window}",
                type=metric.type,
                compare="GreaterThan",
                value=metric.value,
                window=metric.window,
                enabled=True,
                alerts=do.MonitorAlertAlertsArgs(emails=to.emails, slacks=slacks),
                # The droplet alerts predate this part and keep their old URN as an alias;
                # the load balancer and database alerts are new and alias nothing.
                opts=child if metric.on == "web" else pulumi.ResourceOptions(parent=self),
                **target,
            )
        notification = do.UptimeAlertNotificationArgs(
            emails=to.emails,
            slacks=[
                do.UptimeAlertNotificationSlackArgs(channel=s.channel, url=s.url) for s in slacks
            ],
        )
        uptime_alerts = [
            ("down", {"type": "down_global", "period": "2m"}),
            (
                "latency",
                {
                    "type": "latency",
                    "comparison": "greater_than",
                    "threshold": LATENCY_THRESHOLD_MS,
                    "period": "5m",
                },
            ),
        ]
        if settings.tls != "off":
            uptime_alerts.append(
                (
                    "certificate",
                    {
                        "type": "ssl_expiry",
                        "comparison": "less_than",
                        "threshold": CERTIFICATE_DAYS_LEFT,
                        "period": "5m",
                    },
                )
            )
        for key, spec in uptime_alerts:
            do.UptimeAlert(
                f"{prefix}-uptime-{key}",
                name=f"{prefix}-uptime-{key}",
                check_id=check_id,
                notifications=[notification],
                opts=child,
                **spec,
            )
