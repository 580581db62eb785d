"""Driving one variant with wrk and folding what it measured into figures.

wrk holds its connections in one process; a process may hold at most the hard descriptor
limit (20,000 on the 2-core machine), and the connections from one source to one address and
port at most the namespace's ephemeral port range (ip_local_port_range), so large runs are
split over several wrk processes, each aimed at its own loopback address (127.0.0.x).
Their p50 is request-weighted, their p99 the worst of them. In-flight requests are Nginx's
stub_status `Writing` count (minus the status request itself), sampled every half second;
descriptors are summed over the Nginx and Gunicorn processes and their children.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bench.latency import LogWindow
from pyscale import capacity, render
from pyscale.localnode import Namespace, NodeError, raise_nofile

LUA = Path(__file__).with_name("count_non2xx.lua")
STUB_PORT = render.NODE.stub_status_port  # the stock site serves it where the tuned does
# Descriptors a wrk process needs besides its connections (threads' epoll, stdio, script).
WRK_FD_MARGIN = 1000
WRK_THREADS_PER_PROCESS = 2
# Ephemeral ports left unused per (source, destination) pair (the sampler's curl, TIME_WAIT).
PORT_MARGIN = 1000
SAMPLE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class Load:
    """What every variant is driven with: the same load, so their figures compare."""

    concurrency: int
    duration_s: int
    io_ms: int  # the simulated I/O wait of GET /io?ms=...
    timeout_s: int  # wrk's per-request timeout

    @property
    def ideal_rps(self) -> float:
        """Every connection answered the moment its wait ends: concurrency / wait (0 when
        there is no wait: then only CPU bounds it)."""
        return round(self.concurrency / (self.io_ms / 1000), 1) if self.io_ms else 0.0


@dataclass(frozen=True)
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
    errors: dict[str, int] = field(default_factory=dict)  # connect, read, ... non2xx
    concurrency_held: int = 0
    peak_descriptors: int = 0
    ideal_rps: float = 0.0
    fraction_of_ideal: float = 0.0
    wrk_processes: int = 0
    # CPU the node's processes (Nginx, Gunicorn and their workers) spent during the run,
    # and per completed request: what workload.cpuMs means (wrk's own CPU is not in it).
    node_cpu_s: float = 0.0
    cpu_ms_per_request: float = 0.0
    # TCP connections accepted in the variant's namespace during the run: wrk's own and the
    # sampler's two per second, plus one per upstream connection where Nginx reaches
    # Gunicorn over TCP without reusing it (the seed's proxy); the tuned node's upstream is a
    # unix socket with a keepalive pool, so its count stays at wrk's.
    tcp_accepts: int = 0
    # Latency as Nginx logged it (bench/latency.py): p50/p90/p99/max of $request_time,
    # $upstream_connect_time and $upstream_header_time, in ms. p50_ms and p99_ms above are
    # wrk's, corrected for coordinated omission (synthetic samples), a second figure.
    nginx_latency: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def not_run(cls, name: str, load: Load) -> Variant:
        """A variant left out (`--only`): its load, and zeros."""
        return cls(name, load.concurrency, load.duration_s, load.io_ms)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tcp_passive_opens(ns: Namespace) -> int:
    """The namespace's TCP PassiveOpens counter (/proc/net/snmp is per namespace)."""
    out = subprocess.run(ns.exec("cat", "/proc/net/snmp"), capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    header, values = (line.split() for line in out.splitlines() if line.startswith("Tcp:"))
    return int(values[header.index("PassiveOpens")])


def _stat_times(pid: int) -> tuple[int, int]:
    """(own user+system ticks, reaped children's user+system ticks) of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0
    # After the command name: state is field 3, so utime..cstime (14..17) sit at 11..14.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return utime + stime, cutime + cstime


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by each process, its live children and the children it has
    reaped (a Gunicorn worker restarted at max_requests still counts)."""
    ticks = 0
    for pid in pids:
        own, reaped = _stat_times(pid)
        ticks += own + reaped + sum(_stat_times(child)[0] for child in _children(pid))
    return ticks / CLOCK_TICKS


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
        while not self.stop.wait(SAMPLE_INTERVAL_S):
            out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
            for line in out.splitlines():
                if line.startswith("Reading:"):
                    writing = int(line.split()[3])
                    self.in_flight = max(self.in_flight, writing - 1)
            self.descriptors = max(self.descriptors, _descriptors(self.pids))


def wrk_split(concurrency: int, ports: int) -> list[int]:
    """Connections per wrk process: each within this machine's per-process descriptor limit
    and within the `ports` one (source, destination) pair has (its own 127.0.0.x)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    per = max(
        1000, min(hard - WRK_FD_MARGIN, capacity.LINUX_NR_OPEN - WRK_FD_MARGIN, ports - PORT_MARGIN)
    )
    count = math.ceil(concurrency / per)
    base, extra = divmod(concurrency, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _wrk(ns: Namespace, host: str, load: Load, splits: list[int]) -> list[dict]:
    """Run one wrk process per split at once; each one's PYSCALE_RESULT line, parsed."""
    procs = []
    for index, connections in enumerate(splits):
        threads = max(1, min(WRK_THREADS_PER_PROCESS, connections))
        argv = ns.exec(
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{load.duration_s}s",
            "--timeout", f"{load.timeout_s}s", "-s", str(LUA), "-H", f"Host: {host}",
            f"http://127.0.0.{index + 1}/io?ms={load.io_ms}",
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
        out, _ = proc.communicate(timeout=load.duration_s + load.timeout_s + 60)
        line = next((x for x in out.splitlines() if x.startswith("PYSCALE_RESULT ")), None)
        if line is None:
            raise NodeError(f"wrk printed no result:\n{out[-2000:]}")
        results.append(json.loads(line.split(" ", 1)[1]))
    return results


def drive(
    name: str,
    ns: Namespace,
    host: str,
    pids: list[int],
    load: Load,
    notes: tuple[str, ...],
    timing_log: tuple[Path, float] | None = None,
) -> Variant:
    """Run wrk inside `ns` against /io while sampling `pids`; what variant `name` measured.
    `timing_log` is Nginx's log with request timings and the percent of requests it holds;
    `pids[0]` is Nginx's master, told to flush it."""
    low, high = ns.read_sysctl("net.ipv4.ip_local_port_range").split()
    splits = wrk_split(load.concurrency, int(high) - int(low) + 1)
    sampler = Sampler(ns, host, pids)
    sampler.start()
    cpu_before = cpu_seconds(pids)
    accepts_before = tcp_passive_opens(ns)
    window = LogWindow(timing_log[0], pids[0], timing_log[1]) if timing_log else None
    try:
        results = _wrk(ns, host, load, splits)
    finally:
        node_cpu = cpu_seconds(pids) - cpu_before
        accepts = tcp_passive_opens(ns) - accepts_before
        sampler.stop.set()
        sampler.join()

    duration = max(r["duration_us"] for r in results) / 1e6
    requests = sum(r["requests"] for r in results)
    non2xx = sum(r["non2xx"] for r in results)
    success_rps = round((requests - non2xx) / duration, 1)
    weighted_p50 = sum(r["p50_us"] * r["requests"] for r in results) / requests if requests else 0
    kinds = ("connect", "read", "write", "timeout")
    return Variant(
        name=name,
        concurrency=load.concurrency,
        duration_s=load.duration_s,
        io_ms=load.io_ms,
        requests=requests,
        successes=requests - non2xx,
        rps=round(requests / duration, 1),
        success_rps=success_rps,
        p50_ms=round(weighted_p50 / 1000, 1),
        p99_ms=round(max(r["p99_us"] for r in results) / 1000, 1),
        errors={k: sum(r[k] for r in results) for k in kinds} | {"non2xx": non2xx},
        concurrency_held=sampler.in_flight,
        peak_descriptors=sampler.descriptors,
        ideal_rps=load.ideal_rps,
        fraction_of_ideal=round(success_rps / load.ideal_rps, 3) if load.ideal_rps else 0.0,
        wrk_processes=len(splits),
        node_cpu_s=round(node_cpu, 2),
        cpu_ms_per_request=round(node_cpu * 1000 / requests, 4) if requests else 0.0,
        tcp_accepts=accepts,
        nginx_latency=window.read() if window else {},
        notes=notes,
    )
