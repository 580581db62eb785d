"""OVHcloud Public Cloud list prices in EUR excl. VAT, each table with where it was read, its
date and how OVHcloud bills it, and the estimate of a plan.

Everything here is billed by the hour. Instances especially: `ovh.CloudInstance` (the v2
compute API pyscale uses) has no billing-period input, unlike the old `cloudproject.Instance`
(`billing_period`: hourly or monthly), and third-generation flavors (b3, c3) offer no monthly
rate at all (OVHcloud, "Switching from hourly to monthly billing", 2025-09-04: billed hourly,
a lower rate only through a Savings Plan). A month is taken as 730 hours (8,760 / 12);
OVHcloud bills the hours actually used.

The prices were not read from ovhcloud.com here (no copy of the page could be reached):
instances are OVHcloud's order-catalog hourly prices as two independent published tables
quote them (2026-06 and 2026-10, equal on every b3 and c3 flavor; d2 from the first);
gateway, floating IP and instance backup come from a third-party calculator's undated copy
of the catalog (its instance prices are 10% below the two tables, so it may predate a rise);
load balancers and databases are the figures recorded on 2026-11-01. Check the page before
relying on a total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Estimate, Line, PriceSource
from pyscale.clouds.ovh.catalog import DATABASE_PLANS

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

PRICES = "https://www.ovhcloud.com/en/public-cloud/prices/"
HOURS_PER_MONTH = 730

INSTANCE_SOURCE = PriceSource(PRICES, "2026-10-28", "hourly x 730 h (no monthly rate)")
INSTANCES_HOURLY = {
    "d2-2": 0.0104, "d2-4": 0.0206, "d2-8": 0.0372,
    "b3-8": 0.0512, "b3-16": 0.1023, "b3-32": 0.2046, "b3-64": 0.4092, "b3-128": 0.8190,
    "c3-4": 0.0457, "c3-8": 0.0913, "c3-16": 0.1825, "c3-32": 0.3650, "c3-64": 0.7301,
}  # fmt: skip

# Instance backups: one WorkflowBackup per node (components/ovh/nodes.py) on this schedule,
# keeping this many. Daily with the last 7 kept is the first schedule OVHcloud's control panel
# offers ("Backing up an instance"); a node holds no data (PostgreSQL and Valkey are managed
# services with their own backups), so a week of daily images is enough to roll back a bad
# node. The components read these, so the estimate prices what they request.
BACKUP_SCHEDULE = "daily"
BACKUP_CRON = "0 2 * * *"  # 02:00, before the databases' default 03:00 maintenance window
BACKUP_ROTATION = 7
# Backups are images billed by the GB-hour they are kept; what one weighs is an assumption
# (the root disk holds the OS and the app, no data).
BACKUP_SOURCE = PriceSource(PRICES, "2026-10-28", "per GB-hour kept x 730 h, ~5 GB a backup")
BACKUP_GB_HOURLY = 0.000028
BACKUP_GB_ASSUMED = 5

# The gateway routes the floating IP to the load balancer's VIP (components/ovh/network.py).
# It is sized, and priced, by bandwidth (OVHcloud Network Services FAQ). The smallest is
# meant to carry the nodes' egress and the floating IP's routing, the load balancer's traffic
# going through the Octavia amphorae; whether S caps the floating IP's traffic is unverified
# (providers.md). The floating IP is pay-as-you-go, billed by the hour it exists.
GATEWAY_MODEL = "S"
NETWORK_SOURCE = PriceSource(PRICES, "2026-10-28", "hourly x 730 h")
GATEWAYS_HOURLY = {"S": 0.0028, "M": 0.0111, "L": 0.0486}
FLOATING_IP_HOURLY = 0.0025

LB_SOURCE = PriceSource(PRICES, "2026-11-01", "hourly, shown as 730 h")
LOAD_BALANCERS = {"small": 10.0, "medium": 25.0, "large": 60.0, "xl": 120.0}
# Managed database node prices per flavor (PostgreSQL and Valkey; business/enterprise plans
# bill every node of the cluster).
DATABASE_SOURCE = PriceSource(PRICES, "2026-11-01", "hourly per node, shown as 730 h")
DATABASE_NODES = {
    "db1-4": 40.0, "db1-7": 80.0, "db1-15": 160.0, "db1-30": 320.0, "db1-60": 640.0,
    "db1-120": 1280.0,
}  # fmt: skip


def monthly(hourly: float) -> float:
    """An hourly price over a 730-hour month, to the cent."""
    return round(hourly * HOURS_PER_MONTH, 2)


KUBERNETES_SOURCE = PriceSource(
    "https://www.ovhcloud.com/en/public-cloud/prices/#kubernetes",
    "2026-11-01",
    "Free plan control plane; nodes billed as instances of their flavor",
)


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Instances, their backups, the monitoring instance, the gateway (in every topology:
    components/ovh/network.py says why), the load balancer with its floating IP, every
    PostgreSQL node of the plan, Valkey."""
    db = settings.database
    size = settings.node_size.name
    pool = "pool nodes" if settings.on_kubernetes else "nodes"
    lines = [Line(pool, size, plan.nodes, monthly(INSTANCES_HOURLY[size]), INSTANCE_SOURCE)]
    if settings.on_kubernetes:
        # MKS Free plan: no charge for the control plane; nodes are billed as instances.
        lines.append(Line("kubernetes control plane", "MKS free plan", 1, 0, KUBERNETES_SOURCE))
    if settings.backups:
        kept_gb = BACKUP_ROTATION * BACKUP_GB_ASSUMED
        lines.append(Line("node backups", f"{BACKUP_SCHEDULE}, {BACKUP_ROTATION} kept", plan.nodes,
                          monthly(kept_gb * BACKUP_GB_HOURLY), BACKUP_SOURCE))  # fmt: skip
    if settings.monitoring.node:
        monitor = settings.monitoring.size.name
        lines.append(Line("monitoring node", monitor, 1, monthly(INSTANCES_HOURLY[monitor]),
                          INSTANCE_SOURCE))  # fmt: skip
    if plan.load_balancer.enabled:
        flavor = plan.load_balancer.size
        lines.append(Line("load balancer", flavor, 1, LOAD_BALANCERS[flavor], LB_SOURCE))
        lines.append(Line("floating ip", "load balancer", 1, monthly(FLOATING_IP_HOURLY),
                          NETWORK_SOURCE))  # fmt: skip
    lines.append(Line("gateway", GATEWAY_MODEL, 1, monthly(GATEWAYS_HOURLY[GATEWAY_MODEL]),
                      NETWORK_SOURCE))  # fmt: skip
    lines.append(Line(f"postgresql {db.ovh_plan} nodes", db.size.name,
                      DATABASE_PLANS[db.ovh_plan], DATABASE_NODES[db.size.name],
                      DATABASE_SOURCE))  # fmt: skip
    cache = settings.cache.size.name
    lines.append(Line("valkey", cache, 1, DATABASE_NODES[cache], DATABASE_SOURCE))
    return Estimate("EUR", tuple(lines))
