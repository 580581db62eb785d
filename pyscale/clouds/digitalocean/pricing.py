"""DigitalOcean list prices in USD, each table with the page it was read from, its date and
how DigitalOcean bills it, and the estimate of a plan. Items DigitalOcean does not bill (VPC,
firewalls, projects, alerts) are left out rather than listed at zero."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Estimate, Line, PriceSource

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

# Droplets are billed for the time they exist, up to their monthly price: a node that runs
# all month costs the monthly price.
DROPLET_SOURCE = PriceSource(
    "https://www.digitalocean.com/pricing/droplets", "2026-11-01", "usage, capped at monthly"
)
DROPLETS = {
    "s-1vcpu-1gb": 6, "s-1vcpu-2gb": 12, "s-2vcpu-2gb": 18, "s-2vcpu-4gb": 24,
    "s-4vcpu-8gb": 48, "s-8vcpu-16gb": 96, "c-2": 42, "c-4": 84, "c-8": 168, "c-16": 336,
    "c-32": 672, "g-2vcpu-8gb": 63, "g-4vcpu-16gb": 126, "g-8vcpu-32gb": 252,
    "g-16vcpu-64gb": 504,
}  # fmt: skip
# Basic backup plans add a share of the droplet's monthly price: weekly 20%, daily 30%
# ("Backups Pricing", Basic Plans, validated 9 Mar 2026).
BACKUP_SOURCE = PriceSource(
    "https://docs.digitalocean.com/products/backups/details/pricing/",
    "2026-11-01",
    "share of the droplet's monthly price",
)
BACKUP_FRACTIONS = {"weekly": 0.2, "daily": 0.3}
# The plan components/digitalocean/nodes.py requests, explicitly: without `backup_policy`,
# `backups=True` means daily (Droplet.backupPolicy in the provider schema), at 30%.
BACKUP_PLAN = "weekly"
LB_SOURCE = PriceSource(
    "https://www.digitalocean.com/pricing/load-balancers",
    "2026-11-01",
    "per size unit, usage capped at monthly",
)
LB_PER_UNIT = 12
# Managed databases: one price per node size, for PostgreSQL primary, standby and read-only
# nodes alike, and for Valkey.
DATABASE_SOURCE = PriceSource(
    "https://www.digitalocean.com/pricing/managed-databases",
    "2026-11-01",
    "per node, usage capped at monthly",
)
DATABASE_NODES = {
    "db-s-1vcpu-1gb": 15, "db-s-1vcpu-2gb": 30, "db-s-2vcpu-4gb": 60, "db-s-4vcpu-8gb": 120,
    "db-s-6vcpu-16gb": 240,
}  # fmt: skip


# DOKS: the control plane is free; its high-availability option (prod) is billed monthly.
# Node-pool nodes are billed as droplets of their size.
KUBERNETES_SOURCE = PriceSource(
    "https://www.digitalocean.com/pricing/kubernetes",
    "2026-11-01",
    "HA control plane per cluster, usage capped at monthly; nodes as droplets",
)
HA_CONTROL_PLANE = 40


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Droplets (and their backups, at the plan requested), the monitoring droplet,
    load-balancer units, PostgreSQL nodes and Valkey."""
    node = DROPLETS[settings.node_size.name]
    db = settings.database
    pool = "pool nodes" if settings.on_kubernetes else "nodes"
    lines = [Line(pool, settings.node_size.name, plan.nodes, node, DROPLET_SOURCE)]
    if settings.on_kubernetes and settings.environment == "prod":
        lines.append(Line("kubernetes HA control plane", "DOKS", 1, HA_CONTROL_PLANE,
                          KUBERNETES_SOURCE))  # fmt: skip
    if settings.backups:
        share = BACKUP_FRACTIONS[BACKUP_PLAN]
        lines.append(Line("node backups", f"{settings.node_size.name}, {BACKUP_PLAN}", plan.nodes,
                          round(node * share, 2), BACKUP_SOURCE))  # fmt: skip
    if settings.monitoring.node:
        monitor = settings.monitoring.size.name
        lines.append(Line("monitoring node", monitor, 1, DROPLETS[monitor], DROPLET_SOURCE))
    if plan.load_balancer.enabled:
        units = plan.load_balancer.size_unit
        lines.append(Line("load balancer", f"{units} units", units, LB_PER_UNIT, LB_SOURCE))
    db_node = DATABASE_NODES[db.size.name]
    lines.append(Line("postgresql primary", db.size.name, 1, db_node, DATABASE_SOURCE))
    if db.standby_nodes:
        lines.append(Line("postgresql standby", db.size.name, db.standby_nodes, db_node,
                          DATABASE_SOURCE))  # fmt: skip
    if db.read_replicas:
        lines.append(Line("postgresql read replicas", db.size.name, db.read_replicas, db_node,
                          DATABASE_SOURCE))  # fmt: skip
    cache = settings.cache.size.name
    lines.append(Line("valkey", cache, 1, DATABASE_NODES[cache], DATABASE_SOURCE))
    return Estimate("USD", tuple(lines))
