"""`pyscale node up|down|status --stack NAME`: the rendered node, run for real.

`up` renders the stack's node files, creates a network namespace with the planned sysctls,
and starts in it PostgreSQL (primary + one streaming read replica), a PgBouncer in front of
each, Redis, Gunicorn (gevent) with the demo app and Nginx, all from the rendered files. It
prints the URL and stays in the foreground until Ctrl-C, then stops everything; `--detach`
returns once the node answers, and `node down` stops it later. Any failure stops whatever
was already started. Linux only, as root (namespaces, sysctls, dropping privileges).
`--no-services` starts neither PostgreSQL, PgBouncer nor Redis (/db and /cache then answer
503): for a machine without their packages, when only /, /healthz or /io are wanted.

Exit status: 0 done, 1 a step failed (the message says which), 2 not root, bad settings or
a capacity chain that cannot hold (the latter two reported by `pyscale`'s main), 130
interrupted while starting.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pyscale import settings
from pyscale.localnode.commands import NodeError
from pyscale.localnode.host import NeedsRoot, prepare, require_root
from pyscale.localnode.node import STATE_ROOT, LocalNode, NodeInfo

WHAT = "the local node"


def _print_up(info: NodeInfo) -> None:
    out = sys.stdout.write
    ns, g, n, db = info.namespace, info.plan.gunicorn, info.plan.nginx, info.plan.database
    out(f"pyscale node '{info.stack}' is up in network namespace {ns.name}\n")
    out(f"  url          {info.url}  (Host: {info.host})\n")
    out(f"  try          curl -H 'Host: {info.host}' {info.url}db\n")
    out(f"               ip netns exec {ns.name} curl -H 'Host: {info.host}' "
        f"{info.url_in_namespace}cache\n")  # fmt: skip
    out(f"  gunicorn     {g.workers} {g.server} workers ({g.worker_class}) x "
        f"{g.worker_connections} connections, backlog {g.backlog}\n")  # fmt: skip
    out(f"  nginx        {n.worker_processes} workers x {n.worker_connections} "
        f"connections, upstream keepalive {n.upstream_keepalive}\n")  # fmt: skip
    if info.services:
        out(
            f"  postgresql   primary + 1 streaming replica, PgBouncer {db.pool_mode} pool "
            f"{db.pool_size} (database budget), max_connections {db.max_connections}\n"
        )
    out(f"  sysctls      {len(info.sysctls_applied)} applied in the namespace; host-wide "
        f"left alone: {', '.join(info.sysctls_host_wide_not_applied) or 'none'}\n")  # fmt: skip
    for note in info.notes:
        out(f"  note         {note}\n")
    out(f"  state, logs  {info.state_dir}\n")


def _print_json(document: dict) -> None:
    json.dump(document, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the node the way Ctrl-C does (teardown runs in the except clauses)."""
    raise KeyboardInterrupt


def _wait_foreground(node: LocalNode) -> int:
    """Hold the node until Ctrl-C or SIGTERM; a process that dies takes the node down."""
    sys.stdout.write("Ctrl-C stops the node.\n")
    sys.stdout.flush()
    try:
        while not (dead := node.exited()):
            time.sleep(1)
    except KeyboardInterrupt:
        sys.stdout.write("\nstopping: " + ", ".join(node.down()) + "\n")
        return 0
    sys.stderr.write(f"error: {', '.join(dead)} exited; stopping the node\n")
    node.down()
    return 1


def _up(args: argparse.Namespace, node: LocalNode) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        prepare(WHAT, args.services)
        info = node.up(settings.load(args.stack, Path(args.stack_dir)), services=args.services)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: everything started was stopped\n")
        return 130
    if args.json:
        _print_json(info.to_json())
    else:
        _print_up(info)
    sys.stdout.flush()
    return 0 if args.detach else _wait_foreground(node)


def _down(args: argparse.Namespace, node: LocalNode) -> int:
    require_root(WHAT)
    stopped = node.down()
    sys.stdout.write(("stopped: " + ", ".join(stopped) if stopped else "nothing to stop") + "\n")
    return 0


def _status(args: argparse.Namespace, node: LocalNode) -> int:
    require_root(WHAT)
    _print_json(node.status())
    return 0


def _runs(action: Callable[[argparse.Namespace, LocalNode], int]) -> Callable[..., int]:
    """`action` on the stack's node, with NodeError as exit 1 and NeedsRoot as exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return action(args, LocalNode(args.stack, Path(args.state_dir)))
        except NeedsRoot as error:
            sys.stderr.write(f"error: {error}\n")
            return 2
        except NodeError as error:
            sys.stderr.write(f"error: {error}\n")
            return 1

    return run


def add_arguments(
    parser: argparse.ArgumentParser, common: argparse.ArgumentParser
) -> argparse._SubParsersAction:
    """`node up|down|status` as subcommands (`common` carries the global --stack-dir); the
    subcommands' action, for other node commands (`boot`) to join."""
    stack = argparse.ArgumentParser(add_help=False)
    stack.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    stack.add_argument(
        "--state-dir",
        default=str(STATE_ROOT),
        help="where node state, pids and logs live (default %(default)s or $PYSCALE_NODE_STATE)",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", parents=[common, stack], help="start the stack's node here")
    up.add_argument(
        "--detach", action="store_true", help="return once the node answers (stop: node down)"
    )
    up.add_argument("--json", action="store_true", help="print the node's state as JSON")
    up.add_argument(
        "--no-services",
        dest="services",
        action="store_false",
        help="start no PostgreSQL, PgBouncer or Redis (/db and /cache then answer 503)",
    )
    up.set_defaults(func=_runs(_up))
    down = actions.add_parser("down", parents=[common, stack], help="stop it, remove its state")
    down.set_defaults(func=_runs(_down))
    status = actions.add_parser("status", parents=[common, stack], help="its state as JSON")
    status.set_defaults(func=_runs(_status))
    return actions
