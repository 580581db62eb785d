"""Rendered nodes as real processes on this machine, each in its own network namespace.

`pyscale node up|down|status` (`add_arguments`) runs one stack's node; the benchmark (bench/)
and the node and app tests drive the same pieces through this surface:

    LocalNode, NodeInfo         one stack's node: up (-> NodeInfo), down, status, reload_nginx
    local_plan, LocalPlan,      the plan it runs, derived for this Machine where the machine
      Machine                   grants less than the stack's node would get
    prepare, NeedsRoot,         root and the Debian packages, checked before any run
      missing_packages
    Namespace, delete_namespace,  a network namespace: veth pair, sysctls, exec
      namespace_exists
    Supervisor                  processes started (until ready: start_ready), recorded in
                                pids.json, stopped
    Services, ENDPOINTS, psql   PostgreSQL primary + replica, their PgBouncers, Redis
    NodeError, wait_until       a failed step; a condition waited for
    raise_nofile, GUNICORN      a child's descriptor limit; this checkout's Gunicorn
"""

from pyscale.localnode.cli import add_arguments
from pyscale.localnode.commands import NodeError, wait_until
from pyscale.localnode.host import Machine, NeedsRoot, missing_packages, prepare
from pyscale.localnode.netns import Namespace, delete_namespace, namespace_exists
from pyscale.localnode.node import GUNICORN, LocalNode, NodeInfo, unix_healthz
from pyscale.localnode.plan import LocalPlan, local_plan
from pyscale.localnode.procs import Supervisor, raise_nofile
from pyscale.localnode.services import ENDPOINTS, Services, psql

__all__ = [
    "ENDPOINTS",
    "GUNICORN",
    "LocalNode",
    "LocalPlan",
    "Machine",
    "Namespace",
    "NeedsRoot",
    "NodeError",
    "NodeInfo",
    "Services",
    "Supervisor",
    "add_arguments",
    "delete_namespace",
    "local_plan",
    "missing_packages",
    "namespace_exists",
    "prepare",
    "psql",
    "raise_nofile",
    "unix_healthz",
    "wait_until",
]
