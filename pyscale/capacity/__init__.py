"""The capacity model: one target concurrency in, one consistent chain of numbers out.

A Python service that holds 50,000 concurrent requests fails at its weakest link, and the
links are far apart: load-balancer size units, node count, Gunicorn workers and their
worker_connections, Gunicorn's listen backlog, Nginx's worker_connections and descriptor
limit, systemd's LimitNOFILE, the kernel's accept queues, the database's connection limit and
PgBouncer's pool, Valkey's maxclients. `plan` derives all of them from the settings and the
cloud's catalog, then checks every link (`checks`), so that a chain that cannot hold is
refused at preview time with a message naming the link, both numbers and the setting to
change.

Pure Python: no Pulumi import, so it is unit-tested and reused by the local node run.
"""

from pyscale.capacity.checks import CapacityError, Check, checks
from pyscale.capacity.model import (
    CachePlan,
    CapacityPlan,
    DatabasePlan,
    EdgePlan,
    GunicornPlan,
    KernelPlan,
    LoadBalancerPlan,
    NginxPlan,
)
from pyscale.capacity.plan import plan
from pyscale.capacity.seeds import *  # noqa: F403 - the seeds and margins are public too

__all__ = [
    "CachePlan",
    "CapacityError",
    "CapacityPlan",
    "Check",
    "DatabasePlan",
    "EdgePlan",
    "GunicornPlan",
    "KernelPlan",
    "LoadBalancerPlan",
    "NginxPlan",
    "checks",
    "plan",
]
