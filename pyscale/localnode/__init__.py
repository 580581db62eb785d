"""`pyscale node up|down|status --stack NAME`: the rendered node, run for real.

`up` renders the stack's node files, creates a network namespace with the rendered sysctls,
and starts in it PostgreSQL (primary + one streaming read replica), a PgBouncer in front of
each, Redis, Gunicorn (gevent) with the demo app and Nginx, all from the rendered files. It
prints the URL and stays in the foreground until Ctrl-C, then stops everything; `--detach`
returns once the node answers, and `node down` stops it later. Any failure stops whatever
was already started. Linux only, as root (namespaces, sysctls, dropping privileges).
`--no-services` starts neither PostgreSQL, PgBouncer nor Redis (/db and /cache then answer
503): for a machine without their packages, when only /, /healthz or /io are wanted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from pyscale import capacity, settings
from pyscale.localnode import packages
from pyscale.localnode.node import STATE_ROOT, LocalNode
from pyscale.localnode.procs import NodeError, alive, load

__all__ = ["LocalNode", "add_arguments", "run"]


def _print_up(info: dict) -> None:
    out = sys.stdout.write
    ns = info["namespace"]
    plan = info["plan"]
    g, n, db = plan["gunicorn"], plan["nginx"], plan["database"]
    out(f"pyscale node '{info['stack']}' is up in network namespace {ns['name']}\n")
    out(f"  url          {info['url']}  (Host: {info['host']})\n")
    out(f"  try          curl -H 'Host: {info['host']}' {info['url']}db\n")
    out(f"               ip netns exec {ns['name']} curl -H 'Host: {info['host']}' "
        f"{info['url_in_namespace']}cache\n")  # fmt: skip
    out(f"  gunicorn     {g['workers']} {g['worker_class']} workers x "
        f"{g['worker_connections']} connections, backlog {g['backlog']}\n")  # fmt: skip
    out(f"  nginx        {n['worker_processes']} workers x {n['worker_connections']} "
        f"connections, upstream keepalive {n['upstream_keepalive']}\n")  # fmt: skip
    if info.get("services", True):
        out(
            f"  postgresql   primary + 1 streaming replica, PgBouncer {db['pool_mode']} pool "
            f"{db['pool_size']} (database budget), max_connections {db['max_connections']}\n"
        )
    out(f"  sysctls      {len(info['sysctls_applied'])} applied in the namespace; host-wide "
        f"left alone: {', '.join(info['sysctls_host_wide_not_applied']) or 'none'}\n")  # fmt: skip
    for note in info["notes"]:
        out(f"  note         {note}\n")
    out(f"  state, logs  {info['state_dir']}\n")


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the node the way Ctrl-C does (teardown runs in the except clauses)."""
    raise KeyboardInterrupt


def _wait_foreground(node: LocalNode) -> int:
    """Hold the node until Ctrl-C or SIGTERM; a process that dies takes the node down."""
    sys.stdout.write("Ctrl-C stops the node.\n")
    sys.stdout.flush()
    try:
        while True:
            dead = [p.name for p in load(node.state / "pids.json") if not alive(p)]
            if dead:
                sys.stderr.write(f"error: {', '.join(dead)} exited; stopping the node\n")
                node.down()
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        sys.stdout.write("\nstopping: " + ", ".join(node.down()) + "\n")
        return 0


def add_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """The `node` command's arguments (`common` carries the global --stack-dir)."""
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--state-dir",
        default=str(STATE_ROOT),
        help="where node state, pids and logs live (default %(default)s or $PYSCALE_NODE_STATE)",
    )
    parser.add_argument(
        "--detach", action="store_true", help="return once the node answers (stop: node down)"
    )
    parser.add_argument("--json", action="store_true", help="print the node's state as JSON")
    parser.add_argument(
        "--no-services",
        dest="services",
        action="store_false",
        help="start no PostgreSQL, PgBouncer or Redis (/db and /cache then answer 503)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """`pyscale node ...`; returns the exit status."""
    if os.geteuid() != 0:
        sys.stderr.write("error: the local node needs root (network namespaces, sysctls)\n")
        return 2
    node = LocalNode(args.stack, Path(args.state_dir))
    try:
        if args.action == "down":
            stopped = node.down()
            sys.stdout.write(("stopped: " + ", ".join(stopped) if stopped else "nothing to stop")
                             + "\n")  # fmt: skip
            return 0
        if args.action == "status":
            json.dump(node.status(), sys.stdout, indent=1, default=str)
            sys.stdout.write("\n")
            return 0
        signal.signal(signal.SIGTERM, _interrupt)
        packages.ensure(args.services)
        stack_settings = settings.load(args.stack, Path(args.stack_dir))
        info = node.up(stack_settings, services=args.services)
    except (NodeError, settings.SettingsError, capacity.CapacityError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: everything started was stopped\n")
        return 130
    if args.json:
        json.dump(info, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        _print_up(info)
    sys.stdout.flush()
    return 0 if args.detach else _wait_foreground(node)
