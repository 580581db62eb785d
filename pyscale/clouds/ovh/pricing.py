"""OVHcloud Public Cloud list prices, EUR per month excl. VAT, monthly billing
(ovhcloud.com/en/public-cloud/prices; recorded 2026-11-01), and the estimate of a plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscale.clouds.base import Estimate, Line
from pyscale.clouds.ovh.catalog import DATABASE_PLANS

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

AS_OF = "2026-11-01"
INSTANCES = {
    "d2-2": 4.0, "d2-4": 8.0, "d2-8": 15.0, "b3-8": 36.0, "b3-16": 72.0, "b3-32": 144.0,
    "b3-64": 288.0, "b3-128": 576.0, "c3-4": 28.0, "c3-8": 56.0, "c3-16": 112.0,
    "c3-32": 224.0, "c3-64": 448.0,
}  # fmt: skip
LOAD_BALANCERS = {"small": 10.0, "medium": 25.0, "large": 60.0, "xl": 120.0}
# Managed database node prices per flavor (PostgreSQL and Valkey; business/enterprise plans
# bill every node of the cluster).
DATABASE_NODES = {
    "db1-4": 40.0, "db1-7": 80.0, "db1-15": 160.0, "db1-30": 320.0, "db1-60": 640.0,
    "db1-120": 1280.0,
}  # fmt: skip


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Instances, the load-balancer flavor, every PostgreSQL node of the plan, Valkey."""
    db = settings.database
    size = settings.node_size.name
    lines = [Line("nodes", size, plan.nodes, INSTANCES[size])]
    if plan.load_balancer.enabled:
        flavor = plan.load_balancer.size
        lines.append(Line("load balancer", flavor, 1, LOAD_BALANCERS[flavor]))
    lines.append(Line(f"postgresql {db.ovh_plan} nodes", db.size.name,
                      DATABASE_PLANS[db.ovh_plan], DATABASE_NODES[db.size.name]))  # fmt: skip
    cache = settings.cache.size.name
    lines.append(Line("valkey", cache, 1, DATABASE_NODES[cache]))
    return Estimate("EUR", AS_OF, tuple(lines))
