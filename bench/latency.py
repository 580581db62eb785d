"""Latency as Nginx measured it, not as wrk reports it.

wrk 4 corrects its percentiles for coordinated omission by adding synthetic samples, which
overstates the middle of the distribution when the tail is long; Nginx's own log says how
long each request took inside the node: `$request_time` (first byte in to last byte out),
`$upstream_connect_time` and `$upstream_header_time` (until Gunicorn's response headers).

Every variant writes such a log during a run: the tuned node its own access log (every
request, rendered format `rt=... uct=... uht=...`), the bench-owned variants a sampled
timing log (TIMING_CONF, SAMPLE_PERCENT of requests by request id, so that a variant with
its access log off pays almost nothing for being measured). The percentiles of a uniform
sample estimate the whole's.
"""

from __future__ import annotations

import math
import os
import re
import signal
import time
from pathlib import Path

SAMPLE_PERCENT = 2
# http-context directives for a bench-owned variant; {log} is the file.
TIMING_CONF = (
    "log_format pyscale_timing 's=$status rt=$request_time uct=$upstream_connect_time "
    "uht=$upstream_header_time';\n"
    'split_clients "$request_id" $pyscale_timing_sample {{\n'
    f"    {SAMPLE_PERCENT}% 1;\n"
    '    * "";\n'
    "}}\n"
    "access_log {log} pyscale_timing buffer=64k flush=1s if=$pyscale_timing_sample;\n"
)
FIELDS = {"rt": "request_ms", "uct": "upstream_connect_ms", "uht": "upstream_header_ms"}
_FIELD = re.compile(r"\b(rt|uct|uht)=([0-9.]+)")
# The status: `s=200` in the timing format, `"GET /io HTTP/1.1" 200 ` in the node's.
_STATUS = re.compile(r'(?:\bs=|" )(\d{3}) ')


class LogWindow:
    """The lines a log gains between `__init__` and `read` (Nginx flushed first)."""

    def __init__(self, path: Path, nginx_pid: int, sampled_percent: float) -> None:
        self.path, self.nginx_pid, self.percent = path, nginx_pid, sampled_percent
        self.offset = path.stat().st_size if path.exists() else 0

    def read(self) -> dict:
        # USR1: Nginx reopens its logs, writing out what its buffers hold.
        os.kill(self.nginx_pid, signal.SIGUSR1)
        time.sleep(1)
        if not self.path.exists():
            return summarise([], self.percent)
        with self.path.open(encoding="utf-8", errors="replace") as log:
            log.seek(self.offset)
            return summarise(log.read().splitlines(), self.percent)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(lines: list[str], sampled_percent: float) -> dict:
    """p50/p90/p99/max in ms of each timing field over the answered requests (2xx): the
    ones wrk abandons when its run ends (499, their time the run's length) are left out."""
    values: dict[str, list[float]] = {name: [] for name in FIELDS.values()}
    for line in lines:
        status = _STATUS.search(line)
        if status is None or not status.group(1).startswith("2"):
            continue
        for key, value in _FIELD.findall(line):
            values[FIELDS[key]].append(float(value) * 1000)
    summary: dict = {"samples": len(values["request_ms"]), "sampled_percent": sampled_percent}
    for name, found in values.items():
        found.sort()
        summary[name] = {f"p{q}": round(percentile(found, q), 1) for q in (50, 90, 99)} | {
            "max": round(found[-1], 1) if found else 0.0
        }
    return summary
