"""Monthly cost estimate from a dated list-price table.

Prices change; a cost shown in a pull request is only useful if the reader knows how old
the table is. Every table carries the date it was recorded and where from, and the
estimate says so. Items the clouds do not bill (VPC, firewalls, projects, alerts) are left
out rather than listed at zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from components import catalog
from components.capacity import CapacityPlan
from components.settings import Settings

# DigitalOcean list prices, USD per month (digitalocean.com/pricing; recorded 2026-11-01).
DO_AS_OF = "2026-11-01"
DO_DROPLETS = {
    "s-1vcpu-1gb": 6, "s-1vcpu-2gb": 12, "s-2vcpu-2gb": 18, "s-2vcpu-4gb": 24,
    "s-4vcpu-8gb": 48, "s-8vcpu-16gb": 96, "c-2": 42, "c-4": 84, "c-8": 168, "c-16": 336,
    "c-32": 672, "g-2vcpu-8gb": 63, "g-4vcpu-16gb": 126, "g-8vcpu-32gb": 252,
    "g-16vcpu-64gb": 504,
}  # fmt: skip
DO_BACKUP_FRACTION = 0.2  # weekly droplet backups cost 20% of the droplet
DO_LB_PER_UNIT = 12
# Managed databases: one price per node size, for PostgreSQL primary, standby and read-only
# nodes alike, and for Valkey.
DO_DATABASE_NODES = {
    "db-s-1vcpu-1gb": 15, "db-s-1vcpu-2gb": 30, "db-s-2vcpu-4gb": 60, "db-s-4vcpu-8gb": 120,
    "db-s-6vcpu-16gb": 240, "db-s-8vcpu-32gb": 480, "db-s-16vcpu-64gb": 960,
}  # fmt: skip

# OVHcloud Public Cloud list prices, EUR per month excl. VAT, monthly billing
# (ovhcloud.com/en/public-cloud/prices; recorded 2026-11-01).
OVH_AS_OF = "2026-11-01"
OVH_INSTANCES = {
    "d2-2": 4.0, "d2-4": 8.0, "d2-8": 15.0, "b3-8": 36.0, "b3-16": 72.0, "b3-32": 144.0,
    "b3-64": 288.0, "b3-128": 576.0, "c3-4": 28.0, "c3-8": 56.0, "c3-16": 112.0,
    "c3-32": 224.0, "c3-64": 448.0,
}  # fmt: skip
OVH_LOAD_BALANCERS = {"small": 10.0, "medium": 25.0, "large": 60.0, "xl": 120.0}
# Managed database node prices per flavor (PostgreSQL and Valkey; business/enterprise plans
# bill every node of the cluster).
OVH_DATABASE_NODES = {
    "db1-4": 40.0, "db1-7": 80.0, "db1-15": 160.0, "db1-30": 320.0, "db1-60": 640.0,
    "db1-120": 1280.0,
}  # fmt: skip


@dataclass(frozen=True)
class Line:
    item: str
    size: str
    quantity: int
    unit_monthly: float

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.unit_monthly, 2)


@dataclass(frozen=True)
class Estimate:
    currency: str
    as_of: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def to_dict(self) -> dict:
        return {
            "currency": self.currency,
            "as_of": self.as_of,
            "total": self.total,
            "lines": [asdict(line) | {"monthly": line.monthly} for line in self.lines],
        }


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Price the plan: nodes, load balancer, database nodes and cache."""
    if settings.cloud == "digitalocean":
        return _digitalocean(settings, plan)
    return _ovh(settings, plan)


def _digitalocean(settings: Settings, plan: CapacityPlan) -> Estimate:
    node = DO_DROPLETS[settings.node_size.name]
    db = settings.database
    lines = [Line("nodes", settings.node_size.name, plan.nodes, node)]
    if settings.backups:
        lines.append(
            Line("node backups", settings.node_size.name, plan.nodes, node * DO_BACKUP_FRACTION)
        )
    if plan.load_balancer.enabled:
        lines.append(
            Line(
                "load balancer",
                f"{plan.load_balancer.size_unit} units",
                plan.load_balancer.size_unit,
                DO_LB_PER_UNIT,
            )
        )
    db_node = DO_DATABASE_NODES[db.size.name]
    lines.append(Line("postgresql primary", db.size.name, 1, db_node))
    if db.standby_nodes:
        lines.append(Line("postgresql standby", db.size.name, db.standby_nodes, db_node))
    if db.read_replicas:
        lines.append(Line("postgresql read replicas", db.size.name, db.read_replicas, db_node))
    lines.append(
        Line("valkey", settings.cache.size.name, 1, DO_DATABASE_NODES[settings.cache.size.name])
    )
    return Estimate("USD", DO_AS_OF, tuple(lines))


def _ovh(settings: Settings, plan: CapacityPlan) -> Estimate:
    db = settings.database
    lines = [Line("nodes", settings.node_size.name, plan.nodes,
                  OVH_INSTANCES[settings.node_size.name])]  # fmt: skip
    if plan.load_balancer.enabled:
        lines.append(
            Line(
                "load balancer",
                plan.load_balancer.size,
                1,
                OVH_LOAD_BALANCERS[plan.load_balancer.size],
            )
        )
    db_nodes = catalog.OVH_DATABASE_PLANS[db.ovh_plan]
    lines.append(
        Line(
            f"postgresql {db.ovh_plan} nodes",
            db.size.name,
            db_nodes,
            OVH_DATABASE_NODES[db.size.name],
        )
    )
    lines.append(
        Line("valkey", settings.cache.size.name, 1, OVH_DATABASE_NODES[settings.cache.size.name])
    )
    return Estimate("EUR", OVH_AS_OF, tuple(lines))
