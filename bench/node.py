"""`pyscale bench node [compare|calibrate|interfaces] --concurrency N --duration S
--io-ms W[,W...]`: the tuned node against the best simple configuration, the source
articles' configuration and stock defaults, same machine, same run, same I/O-bound
request; the CPU one request costs, for workload.cpuMs; and the tuned node of each app
interface (`interfaces`: the WSGI demo on gevent, its ASGI twin on uvicorn), each
calibrated and given its own prediction.

Each variant runs in its own network namespace and wrk runs inside it, on its loopback:
  tuned  the stack's rendered node (`pyscale.localnode`): Nginx, Gunicorn + gevent with
         the plan's numbers, the plan's sysctls.
  simple the articles' configuration as an experienced engineer fixes it in ten minutes:
         worker_connections raised, an upstream keep-alive pool, no access logs
         (bench/seed.py). The baseline the tuned node must beat.
  seed   the articles' configuration as they give it (bench/seed.py).
  stock  what an untuned install does (bench/stock.py): Debian's nginx.conf, Gunicorn's
         defaults, a fresh namespace's default sysctls.
Each serves GET /io?ms=W, a request that waits W ms on simulated I/O (the source articles'
case), so the concurrency bound is concurrency / W. How wrk drives them and what is sampled:
bench/load.py. Latency is reported twice: from Nginx's own log (`nginx_latency`,
bench/latency.py: the figure to quote) and wrk's (`p50_ms`, `p99_ms`: corrected for
coordinated omission with synthetic samples, which inflates them when the tail is long).

`calibrate` saturates the tuned node with W = 0 and divides the CPU its processes used by
the requests they served: the node-wide CPU ms per request on this machine (wrk's own CPU
is not counted). `compare` calibrates first, then gives every tuned result the model's
`predicted_rps`: min(the cores the node got while calibrating x 1000 / cpu_ms, concurrency x
1000 / W), the two bounds pyscale/capacity/throughput.py sizes a fleet by.

A benchmark, never a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bench.load import Load, Variant, drive
from bench.seed import run_seed
from bench.stock import run_stock
from pyscale import render, settings
from pyscale.localnode import LocalNode, NeedsRoot, NodeError, prepare
from pyscale.settings.interface import INTERFACES, serving_demo

VARIANTS = ("tuned", "simple", "seed", "stock")
# Enough connections to keep every core busy when requests do not wait.
CALIBRATE_CONCURRENCY = 256


def run_tuned(stack: str, stack_dir: Path, state: Path, loads: list[Load], services: bool,
              interface: str | None = None) -> list[Variant]:  # fmt: skip
    """Bring the stack's node up (its own name and namespace; serving the demo app of
    `interface` when given), drive it once per load, take it down."""
    node = LocalNode(stack, state, name=f"bench-{stack}")
    node.down()
    stack_settings = settings.load(stack, stack_dir)
    if interface is not None:
        stack_settings = serving_demo(stack_settings, interface)
    info = node.up(stack_settings, services=services)
    try:
        pids = [info.nginx_pid, info.gunicorn_pid]
        # The node's own access log: every request, with rt=, uct= and uht= (nginx.conf).
        log = (node.layout.path("/var/log/nginx/access.log"), 100.0)
        return [
            drive("tuned", info.namespace, info.host, pids, load, info.notes, log) for load in loads
        ]
    finally:
        node.down()


def calibration(variant: Variant) -> dict:
    """What a saturated run with no I/O wait says about this machine."""
    return {
        "cpu_ms": variant.cpu_ms_per_request,
        "node_cores": round(variant.node_cpu_s / variant.duration_s, 2),
        "rps": variant.success_rps,
        "machine_cores": os.cpu_count(),
        "concurrency": variant.concurrency,
        "duration_s": variant.duration_s,
        "errors": variant.errors,
    }


def predicted_rps(calibrated: dict, load: Load) -> float:
    """The model's ceiling for this load on this machine: CPU or concurrency / wait."""
    cpu = calibrated["node_cores"] * 1000 / calibrated["cpu_ms"] if calibrated["cpu_ms"] else 0
    bounds = [cpu] + ([load.ideal_rps] if load.io_ms else [])
    return round(min(bounds), 1)


def _print(result: dict) -> None:
    out = sys.stdout.write
    if "calibration" in result:
        out(f"calibration: {json.dumps(result['calibration'])}\n")
    keys = ("concurrency_held", "success_rps", "predicted_rps", "p50_ms", "p99_ms", "errors",
            "cpu_ms_per_request", "tcp_accepts", "peak_descriptors", "ideal_rps",
            "fraction_of_ideal")  # fmt: skip
    for run in result.get("runs", []):
        out(f"\nI/O {run['io_ms']} ms{'':9}" + "".join(f"{v:>24}" for v in VARIANTS) + "\n")
        for key in keys:
            cells = "".join(f"{json.dumps(run[v].get(key, '')):>24}" for v in VARIANTS)
            out(f"{key:22}{cells}\n")
        out(f"tuned/simple {run['ratio_vs_simple']}, tuned/seed {run['ratio_vs_seed']}, "
            f"tuned/stock {run['ratio_vs_stock']}\n")  # fmt: skip
        for name in VARIANTS:
            latency = run[name].get("nginx_latency") or {}
            if latency.get("samples"):
                rt = latency["request_ms"]
                out(f"nginx latency ({name}, {latency['samples']} samples): p50 {rt['p50']} ms, "
                    f"p90 {rt['p90']} ms, p99 {rt['p99']} ms, upstream header p99 "
                    f"{latency['upstream_header_ms']['p99']} ms\n")  # fmt: skip
        for name in VARIANTS:
            for note in run[name].get("notes", []):
                out(f"note ({name}): {note}\n")


def io_list(text: str) -> list[int]:
    """`10,50,200,1000` -> [10, 50, 200, 1000]."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole milliseconds, like 10,50,200")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's arguments (the global --stack-dir comes from the caller's parser)."""
    parser.add_argument(
        "mode", nargs="?", choices=("compare", "calibrate", "interfaces"), default="compare"
    )
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--io-ms", type=io_list, default=[1000],
                        help="simulated I/O wait per request, ms; a list runs each")  # fmt: skip
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout (s)")
    parser.add_argument("--only", choices=VARIANTS, help="run one variant")
    parser.add_argument("--calibrate-duration", type=int, default=5,
                        help="seconds of the calibration pass")  # fmt: skip
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


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _with_prediction(cells: dict, calibrated: dict, load: Load) -> None:
    """A tuned node's results given the model's prediction from its calibration."""
    cells["predicted_rps"] = predicted_rps(calibrated, load)
    cells["measured_vs_predicted"] = _ratio(cells["success_rps"], cells["predicted_rps"])


def _measure(args: argparse.Namespace, state: Path) -> dict:
    """Calibrate, then each variant asked for at each I/O wait; the others as zeros."""
    stack_dir = Path(args.stack_dir)
    host = settings.load(args.stack, stack_dir).domain or "localhost"
    calibrate = Load(CALIBRATE_CONCURRENCY, args.calibrate_duration, 0, args.timeout)
    if args.mode == "calibrate":
        (saturated,) = run_tuned(args.stack, stack_dir, state, [calibrate], args.services)
        return {"calibration": calibration(saturated)}
    loads = [Load(args.concurrency, args.duration, ms, args.timeout) for ms in args.io_ms]
    if args.mode == "interfaces":
        return _interfaces(args, stack_dir, state, calibrate, loads)
    wanted = [v for v in VARIANTS if args.only in (None, v)]
    measured: dict[str, list[Variant]] = {}
    calibrated = None
    if "tuned" in wanted:
        saturated, *tuned = run_tuned(
            args.stack, stack_dir, state, [calibrate, *loads], args.services
        )
        calibrated = calibration(saturated)
        measured["tuned"] = tuned
    if "simple" in wanted:
        measured["simple"] = [run_seed(state, host, load, simple=True) for load in loads]
    if "seed" in wanted:
        measured["seed"] = [run_seed(state, host, load) for load in loads]
    if "stock" in wanted:
        measured["stock"] = [run_stock(state, host, load) for load in loads]
    runs = []
    for i, load in enumerate(loads):
        run = {"io_ms": load.io_ms}
        for name in VARIANTS:
            variant = measured[name][i] if name in measured else Variant.not_run(name, load)
            run[name] = variant.to_json()
        if calibrated:
            _with_prediction(run["tuned"], calibrated, load)
        run["ratio_vs_simple"] = _ratio(run["tuned"]["success_rps"], run["simple"]["success_rps"])
        run["ratio_vs_seed"] = _ratio(run["tuned"]["success_rps"], run["seed"]["success_rps"])
        run["ratio_vs_stock"] = _ratio(run["tuned"]["success_rps"], run["stock"]["success_rps"])
        runs.append(run)
    result: dict = {"runs": runs}
    if calibrated:
        result["calibration"] = calibrated
    result["ratio_vs_simple"] = {str(r["io_ms"]): r["ratio_vs_simple"] for r in runs}
    result["ratio_vs_seed"] = {str(r["io_ms"]): r["ratio_vs_seed"] for r in runs}
    return result


def _interfaces(args: argparse.Namespace, stack_dir: Path, state: Path, calibrate: Load,
                loads: list[Load]) -> dict:  # fmt: skip
    """The tuned node of each interface: calibrated, then driven at each wait, one node after
    the other on the same machine, each against its own calibration's prediction."""
    calibrations, measured = {}, {}
    for interface in INTERFACES:
        saturated, *runs = run_tuned(args.stack, stack_dir, state, [calibrate, *loads],
                                     args.services, interface=interface)  # fmt: skip
        calibrations[interface] = calibration(saturated)
        measured[interface] = runs
    rows = []
    for i, load in enumerate(loads):
        row: dict = {"io_ms": load.io_ms}
        for interface in INTERFACES:
            cells = measured[interface][i].to_json()
            _with_prediction(cells, calibrations[interface], load)
            row[interface] = cells
        row["asgi_vs_wsgi"] = _ratio(row["asgi"]["success_rps"], row["wsgi"]["success_rps"])
        rows.append(row)
    return {"calibrations": calibrations, "interfaces": rows}


def _print_interfaces(result: dict) -> None:
    out = sys.stdout.write
    for interface, calibrated in result["calibrations"].items():
        out(f"calibration ({interface}): {json.dumps(calibrated)}\n")
    out(f"\n{'wait':>6} {'interface':>9} {'req/s':>8} {'predicted':>9} {'meas/pred':>9} "
        f"{'CPU ms':>7} {'nginx p50/p99 ms':>17} {'errors':>7}\n")  # fmt: skip
    for row in result["interfaces"]:
        for interface in INTERFACES:
            cells = row[interface]
            rt = (cells.get("nginx_latency") or {}).get("request_ms") or {}
            out(f"{row['io_ms']:>6} {interface:>9} {cells['success_rps']:>8} "
                f"{cells['predicted_rps']:>9} {cells['measured_vs_predicted']!s:>9} "
                f"{cells['cpu_ms_per_request']:>7} "
                f"{str(rt.get('p50')) + ' / ' + str(rt.get('p99')):>17} "
                f"{sum(cells['errors'].values()):>7}\n")  # fmt: skip
        out(f"{'':>6} asgi/wsgi {row['asgi_vs_wsgi']}\n")


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
    elif "interfaces" in result:
        _print_interfaces(result)
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
