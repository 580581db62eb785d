"""`pyscale bench node --concurrency N --duration S [--io-ms W] [--json]`: the tuned node
against stock defaults, same machine, same run, same I/O-bound request.

Each variant runs in its own network namespace and wrk runs inside it, on its loopback:
  tuned  the stack's rendered node (`pyscale.localnode`): Nginx, Gunicorn + gevent with
         the plan's numbers, the rendered sysctls.
  stock  what an untuned install does: Debian's /etc/nginx/nginx.conf with a minimal proxy
         site, `gunicorn pyscale_demo.wsgi:application` (one sync worker, every default),
         a fresh namespace's default sysctls.
Both serve GET /io?ms=W, a request that waits W ms on simulated I/O (the source articles'
case), so the ideal throughput is concurrency / W.

wrk holds its connections in one process; a process may hold at most the hard descriptor
limit (20,000 on the 2-core machine), and the connections from one source to one address and
port at most the namespace's ephemeral port range (ip_local_port_range), so large runs are
split over several wrk processes, each aimed at its own loopback address (127.0.0.x).
Their p50 is request-weighted, their p99 the worst of them. In-flight requests are Nginx's
stub_status `Writing` count (minus the status request itself), sampled every half second;
descriptors are summed over the Nginx and Gunicorn processes.

A benchmark, never a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pyscale import capacity, render, settings
from pyscale.localnode import LocalNode, packages
from pyscale.localnode import netns as netns_mod
from pyscale.localnode.netns import Namespace
from pyscale.localnode.node import REPO, VENV
from pyscale.localnode.procs import NodeError, Supervisor, raise_nofile, wait_until

LUA = Path(__file__).with_name("count_non2xx.lua")
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")
STUB_PORT = render.NODE.stub_status_port  # the stock site serves it where the tuned does
# Descriptors a wrk process needs besides its connections (threads' epoll, stdio, script).
WRK_FD_MARGIN = 1000
WRK_THREADS_PER_PROCESS = 2
# Ephemeral ports left unused per (source, destination) pair (the sampler's curl, TIME_WAIT).
PORT_MARGIN = 1000


@dataclass
class Variant:
    """What one variant measured."""

    name: str
    concurrency: int
    duration_s: float
    io_ms: int
    requests: int = 0
    successes: int = 0
    rps: float = 0.0
    success_rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    concurrency_held: int = 0
    peak_descriptors: int = 0
    ideal_rps: float = 0.0
    fraction_of_ideal: float = 0.0
    wrk_processes: int = 0
    notes: list[str] = field(default_factory=list)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descriptors(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for each in (pid, *_children(pid)):
            try:
                total += len(os.listdir(f"/proc/{each}/fd"))
            except OSError:
                continue
    return total


class Sampler(threading.Thread):
    """Peak in-flight requests (stub_status Writing) and descriptors while wrk runs."""

    def __init__(self, ns: Namespace, host: str, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.ns, self.host, self.pids = ns, host, pids
        self.stop = threading.Event()
        self.in_flight = 0
        self.descriptors = 0

    def run(self) -> None:
        argv = self.ns.exec(
            "curl", "-s", "-m", "2", "-H", f"Host: {self.host}",
            f"http://127.0.0.1:{STUB_PORT}/stub_status",
        )  # fmt: skip
        while not self.stop.wait(0.5):
            out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
            for line in out.splitlines():
                if line.startswith("Reading:"):
                    writing = int(line.split()[3])
                    self.in_flight = max(self.in_flight, writing - 1)
            self.descriptors = max(self.descriptors, _descriptors(self.pids))


def _wrk_split(concurrency: int, ports: int) -> list[int]:
    """Connections per wrk process: each within this machine's per-process descriptor limit
    and within the `ports` one (source, destination) pair has (its own 127.0.0.x)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per = max(
        1000, min(hard - WRK_FD_MARGIN, capacity.LINUX_NR_OPEN - WRK_FD_MARGIN, ports - PORT_MARGIN)
    )
    count = math.ceil(concurrency / per)
    base, extra = divmod(concurrency, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def drive(ns: Namespace, host: str, pids: list[int], variant: Variant, timeout_s: int) -> None:
    """Run wrk processes inside `ns` against /io and fold their results into `variant`."""
    low, high = netns_mod.read_sysctl(ns, "net.ipv4.ip_local_port_range").split()
    splits = _wrk_split(variant.concurrency, int(high) - int(low) + 1)
    variant.wrk_processes = len(splits)
    sampler = Sampler(ns, host, pids)
    sampler.start()
    procs = []
    for index, connections in enumerate(splits):
        threads = max(1, min(WRK_THREADS_PER_PROCESS, connections))
        argv = ns.exec(
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{variant.duration_s}s",
            "--timeout", f"{timeout_s}s", "-s", str(LUA), "-H", f"Host: {host}",
            f"http://127.0.0.{index + 1}/io?ms={variant.io_ms}",
        )  # fmt: skip
        procs.append(
            subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                preexec_fn=lambda: raise_nofile(capacity.LINUX_NR_OPEN),
            )
        )
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=variant.duration_s + timeout_s + 60)
        line = next((x for x in out.splitlines() if x.startswith("PYSCALE_RESULT ")), None)
        if line is None:
            raise NodeError(f"wrk printed no result:\n{out[-2000:]}")
        results.append(json.loads(line.split(" ", 1)[1]))
    sampler.stop.set()
    sampler.join()

    duration = max(r["duration_us"] for r in results) / 1e6
    variant.requests = sum(r["requests"] for r in results)
    non2xx = sum(r["non2xx"] for r in results)
    variant.successes = variant.requests - non2xx
    variant.rps = round(variant.requests / duration, 1)
    variant.success_rps = round(variant.successes / duration, 1)
    if variant.requests:
        weighted = sum(r["p50_us"] * r["requests"] for r in results) / variant.requests
        variant.p50_ms = round(weighted / 1000, 1)
    variant.p99_ms = round(max(r["p99_us"] for r in results) / 1000, 1)
    variant.errors = {
        kind: sum(r[kind] for r in results) for kind in ("connect", "read", "write", "timeout")
    } | {"non2xx": non2xx}
    variant.concurrency_held = sampler.in_flight
    variant.peak_descriptors = sampler.descriptors
    variant.ideal_rps = round(variant.concurrency / (variant.io_ms / 1000), 1)
    variant.fraction_of_ideal = round(variant.success_rps / variant.ideal_rps, 3)


def run_tuned(
    stack: str, stack_dir: Path, state: Path, variant: Variant, timeout_s: int, services: bool
) -> None:
    node = LocalNode(stack, state, name=f"bench-{stack}")
    node.down()
    info = node.up(settings.load(stack, stack_dir), services=services)
    try:
        ns = Namespace(**info["namespace"])
        variant.notes = list(info["notes"])
        drive(ns, info["host"], [info["nginx_pid"], info["gunicorn_pid"]], variant, timeout_s)
    finally:
        node.down()


STOCK_SITE = """\
# The stock variant's site: the minimal proxy an untuned install writes (no upstream block,
# no keepalive, no listen backlog), plus stub_status for the benchmark's sampler.
server {{
    listen 80 default_server;
    location / {{
        proxy_pass http://unix:{socket};
        proxy_set_header Host $host;
    }}
}}
server {{
    listen 127.0.0.1:{stub};
    location = /stub_status {{ stub_status; }}
}}
"""


def run_stock(state: Path, host: str, variant: Variant, timeout_s: int) -> None:
    """Debian's nginx.conf, Gunicorn's defaults, a fresh namespace's default sysctls."""
    root = state / "stock"
    shutil.rmtree(root, ignore_errors=True)
    (root / "sites").mkdir(parents=True)
    (root / "log").mkdir()
    (root / "conf.d").mkdir()
    root.chmod(0o755)
    socket = root / "gunicorn.sock"
    conf = DEBIAN_NGINX_CONF.read_text()
    for old, new in (
        ("/etc/nginx/sites-enabled/*", f"{root}/sites/*"),
        ("/etc/nginx/conf.d/*.conf", f"{root}/conf.d/*.conf"),
        ("/run/nginx.pid", f"{root}/nginx.pid"),
        ("/var/log/nginx/", f"{root}/log/"),
    ):
        conf = conf.replace(old, new)
    (root / "nginx.conf").write_text(conf)
    (root / "sites" / "stock").write_text(STOCK_SITE.format(socket=socket, stub=STUB_PORT))
    name = "pyscale-bench-stock"
    netns_mod.delete(name)
    ns = Namespace.for_name(name)
    sup = Supervisor(root)
    try:
        netns_mod.create(ns)
        gunicorn = sup.start(
            "gunicorn",
            ns.exec(str(VENV / "bin/gunicorn"), "--bind", f"unix:{socket}",
                    "pyscale_demo.wsgi:application"),
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd=REPO / "app",
        )  # fmt: skip
        wait_until(socket.exists, "stock Gunicorn's socket", 30)
        socket.chmod(0o777)  # stock Gunicorn runs as root; Debian's Nginx workers as www-data
        nginx = sup.start(
            "nginx",
            ns.exec("nginx", "-c", str(root / "nginx.conf"), "-e", str(root / "log/error.log"),
                    "-g", "daemon off;"),
        )  # fmt: skip
        wait_until((root / "nginx.pid").exists, "stock Nginx", 30)
        sup.check_running(gunicorn)
        sup.check_running(nginx)
        variant.notes = [
            "Debian nginx.conf (worker_connections 768), gunicorn defaults (1 sync worker, "
            "backlog 2048), default namespace sysctls (somaxconn "
            f"{netns_mod.read_sysctl(ns, 'net.core.somaxconn')})"
        ]
        drive(ns, host, [nginx.pid, gunicorn.pid], variant, timeout_s)
    finally:
        sup.stop_all()
        netns_mod.delete(name)


def _print(result: dict) -> None:
    out = sys.stdout.write
    keys = ("concurrency_held", "rps", "success_rps", "p50_ms", "p99_ms", "errors",
            "peak_descriptors", "ideal_rps", "fraction_of_ideal", "wrk_processes")  # fmt: skip
    out(f"{'':22}{'tuned':>28}{'stock':>28}\n")
    for key in keys:
        tuned, stock = result["tuned"].get(key, ""), result["stock"].get(key, "")
        out(f"{key:22}{json.dumps(tuned):>28}{json.dumps(stock):>28}\n")
    out(f"tuned/stock successful req/s: {result['ratio']}\n")
    for name in ("tuned", "stock"):
        for note in result[name].get("notes", []):
            out(f"note ({name}): {note}\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's arguments (the global --stack-dir comes from the caller's parser)."""
    parser.add_argument("--concurrency", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--io-ms", type=int, default=1000, help="simulated I/O wait per request")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout (s)")
    parser.add_argument("--only", choices=("tuned", "stock"), help="run one variant")
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
    parser.add_argument("--stack-dir", default=str(REPO))
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        sys.stderr.write("error: the benchmark needs root (network namespaces)\n")
        return 2
    packages.ensure(args.services)
    state = Path(tempfile.mkdtemp(prefix="pyscale-bench-"))
    state.chmod(0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result: dict = {}
    try:
        host = settings.load(args.stack, Path(args.stack_dir)).domain or "localhost"
        for name in ("tuned", "stock"):
            variant = Variant(name, args.concurrency, args.duration, args.io_ms)
            if args.only in (None, name):
                if name == "tuned":
                    run_tuned(
                        args.stack, Path(args.stack_dir), state, variant, args.timeout,
                        args.services,
                    )  # fmt: skip
                else:
                    run_stock(state, host, variant, args.timeout)
            result[name] = dataclasses.asdict(variant)
    except NodeError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    finally:
        shutil.rmtree(state, ignore_errors=True)
    stock_rps = result["stock"]["success_rps"]
    result["ratio"] = round(result["tuned"]["success_rps"] / stock_rps, 1) if stock_rps else None
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
