"""Monthly cost estimate of a plan, from the cloud's dated list-price table.

Prices change; a cost shown in a pull request is only useful if the reader knows how old
the table is. Every cloud's table (pyscale/clouds/<cloud>/pricing.py) carries the date it
was recorded and where from, and the estimate says so. Items the clouds do not bill (VPC,
firewalls, projects, alerts) are left out rather than listed at zero.
"""

from __future__ import annotations

import dataclasses

from pyscale import clouds
from pyscale.capacity import CapacityPlan
from pyscale.clouds.base import Estimate, Line
from pyscale.settings import Settings

__all__ = ["Estimate", "Line", "estimate", "estimate_at_minimum"]


def estimate(settings: Settings, plan: CapacityPlan) -> Estimate:
    """Price the plan on its cloud: nodes, load balancer, database nodes and cache. A fleet
    that scales itself is priced at its maximum (its plan's `nodes`): the most it costs."""
    return clouds.get(settings.cloud).estimate(settings, plan)


def estimate_at_minimum(settings: Settings, plan: CapacityPlan) -> Estimate | None:
    """A fleet that scales itself at its fewest nodes, everything else as sized for the
    maximum (the load balancer and the data stores do not scale with it); None for a fixed
    fleet."""
    if plan.autoscale is None:
        return None
    return estimate(settings, dataclasses.replace(plan, nodes=plan.autoscale.min_nodes))
