"""`pyscale bench node --concurrency N --duration S [--io-ms W] [--json]`: the tuned node
against stock defaults, same machine, same run, same I/O-bound request.

Each variant runs in its own network namespace and wrk runs inside it, on its loopback:
  tuned  the stack's rendered node (`pyscale.localnode`): Nginx, Gunicorn + gevent with
         the plan's numbers, the plan's sysctls.
  stock  what an untuned install does (bench/stock.py): Debian's nginx.conf, Gunicorn's
         defaults, a fresh namespace's default sysctls.
Both serve GET /io?ms=W, a request that waits W ms on simulated I/O (the source articles'
case), so the ideal throughput is concurrency / W. How wrk drives them and what is sampled:
bench/load.py.

A benchmark, never a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.load import Load, Variant, drive
from bench.stock import run_stock
from pyscale import render, settings
from pyscale.localnode import LocalNode, NeedsRoot, NodeError, prepare

VARIANTS = ("tuned", "stock")


def run_tuned(stack: str, stack_dir: Path, state: Path, load: Load, services: bool) -> Variant:
    """Bring the stack's node up (its own name and namespace), drive it, take it down."""
    node = LocalNode(stack, state, name=f"bench-{stack}")
    node.down()
    info = node.up(settings.load(stack, stack_dir), services=services)
    try:
        pids = [info.nginx_pid, info.gunicorn_pid]
        return drive("tuned", info.namespace, info.host, pids, load, info.notes)
    finally:
        node.down()


def _print(result: dict) -> None:
    out = sys.stdout.write
    keys = ("concurrency_held", "rps", "success_rps", "p50_ms", "p99_ms", "errors",
            "peak_descriptors", "ideal_rps", "fraction_of_ideal", "wrk_processes")  # fmt: skip
    out(f"{'':22}{'tuned':>28}{'stock':>28}\n")
    for key in keys:
        tuned, stock = result["tuned"].get(key, ""), result["stock"].get(key, "")
        out(f"{key:22}{json.dumps(tuned):>28}{json.dumps(stock):>28}\n")
    out(f"tuned/stock successful req/s: {result['ratio']}\n")
    for name in VARIANTS:
        for note in result[name].get("notes", []):
            out(f"note ({name}): {note}\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's arguments (the global --stack-dir comes from the caller's parser)."""
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--io-ms", type=int, default=1000, help="simulated I/O wait per request")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout (s)")
    parser.add_argument("--only", choices=VARIANTS, help="run one variant")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-services",
        dest="services",
        action="store_false",
        help="run the tuned node without PostgreSQL, PgBouncer and Redis (/io needs none)",
    )
    parser.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.node`, the same as `pyscale bench node`."""
    parser = argparse.ArgumentParser(prog="python -m bench.node", description=__doc__)
    parser.add_argument("--stack-dir", default=str(render.REPO))
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _measure(args: argparse.Namespace, state: Path) -> dict:
    """Each variant asked for, run one after the other; the others as zeros."""
    stack_dir = Path(args.stack_dir)
    load = Load(args.concurrency, args.duration, args.io_ms, args.timeout)
    host = settings.load(args.stack, stack_dir).domain or "localhost"
    result = {}
    for name in VARIANTS:
        if args.only not in (None, name):
            variant = Variant.not_run(name, load)
        elif name == "tuned":
            variant = run_tuned(args.stack, stack_dir, state, load, args.services)
        else:
            variant = run_stock(state, host, load)
        result[name] = variant.to_json()
    stock_rps = result["stock"]["success_rps"]
    result["ratio"] = round(result["tuned"]["success_rps"] / stock_rps, 1) if stock_rps else None
    return result


def run(args: argparse.Namespace) -> int:
    try:
        prepare("the benchmark", args.services)
    except NeedsRoot as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except NodeError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    state = Path(tempfile.mkdtemp(prefix="pyscale-bench-"))
    state.chmod(0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        result = _measure(args, state)
    except NodeError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    finally:
        shutil.rmtree(state, ignore_errors=True)
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
