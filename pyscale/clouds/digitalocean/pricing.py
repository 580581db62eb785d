"""DigitalOcean list prices, USD per month (digitalocean.com/pricing; recorded 2026-11-01),
and the estimate of a plan. Items DigitalOcean does not bill (VPC, firewalls, projects,
alerts) are left out rather than listed at zero."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Estimate, Line

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

AS_OF = "2026-11-01"
DROPLETS = {
    "s-1vcpu-1gb": 6, "s-1vcpu-2gb": 12, "s-2vcpu-2gb": 18, "s-2vcpu-4gb": 24,
    "s-4vcpu-8gb": 48, "s-8vcpu-16gb": 96, "c-2": 42, "c-4": 84, "c-8": 168, "c-16": 336,
    "c-32": 672, "g-2vcpu-8gb": 63, "g-4vcpu-16gb": 126, "g-8vcpu-32gb": 252,
    "g-16vcpu-64gb": 504,
}  # fmt: skip
BACKUP_FRACTION = 0.2  # weekly droplet backups cost 20% of the droplet
LB_PER_UNIT = 12
# Managed databases: one price per node size, for PostgreSQL primary, standby and read-only
# nodes alike, and for Valkey.
DATABASE_NODES = {
    "db-s-1vcpu-1gb": 15, "db-s-1vcpu-2gb": 30, "db-s-2vcpu-4gb": 60, "db-s-4vcpu-8gb": 120,
    "db-s-6vcpu-16gb": 240, "db-s-8vcpu-32gb": 480, "db-s-16vcpu-64gb": 960,
}  # fmt: skip


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Droplets (and their backups), load-balancer units, PostgreSQL nodes and Valkey."""
    node = DROPLETS[settings.node_size.name]
    db = settings.database
    lines = [Line("nodes", settings.node_size.name, plan.nodes, node)]
    if settings.backups:
        lines.append(Line("node backups", settings.node_size.name, plan.nodes,
                          node * BACKUP_FRACTION))  # fmt: skip
    if plan.load_balancer.enabled:
        units = plan.load_balancer.size_unit
        lines.append(Line("load balancer", f"{units} units", units, LB_PER_UNIT))
    db_node = DATABASE_NODES[db.size.name]
    lines.append(Line("postgresql primary", db.size.name, 1, db_node))
    if db.standby_nodes:
        lines.append(Line("postgresql standby", db.size.name, db.standby_nodes, db_node))
    if db.read_replicas:
        lines.append(Line("postgresql read replicas", db.size.name, db.read_replicas, db_node))
    cache = settings.cache.size.name
    lines.append(Line("valkey", cache, 1, DATABASE_NODES[cache]))
    return Estimate("USD", AS_OF, tuple(lines))
