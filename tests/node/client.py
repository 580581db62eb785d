"""A small asyncio HTTP/1.1 load client for the node tests: N connections, every outcome kept.

wrk reports totals; the behaviour tests need each request's status and time (to say when
errors stopped after a worker was killed) and the freedom to act mid-run (reloads). Each
virtual user keeps one keep-alive connection and sends its next request when the previous
answer is complete (after the Retry-After a 503 asks for: well-behaved clients wait instead
of hammering a saturated server). A request sent on a reused connection that the server
closed before sending any byte is retried once on a new connection, as every HTTP client
does (RFC 9112 section 9.3.1): such a request never reached the application. That happens
when Nginx or Gunicorn retires an idle keep-alive connection during a graceful reload.
Retries are counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outcome:
    started: float  # monotonic seconds
    finished: float
    status: int  # 0 when no HTTP response arrived
    error: str  # "" on a response; else what failed (connect, reset, timeout...)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    retries: int = 0
    open_now: int = 0
    peak_open: int = 0

    def opened(self) -> None:
        self.open_now += 1
        self.peak_open = max(self.peak_open, self.open_now)

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error or not 200 <= o.status < 300]

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for o in self.errors:
            key = o.error or f"HTTP {o.status}"
            kinds[key] = kinds.get(key, 0) + 1
        return (
            f"{len(self.outcomes)} requests, {len(self.errors)} errors {kinds}, "
            f"{self.retries} idle-close retries, peak {self.peak_open} open connections"
        )


class _Closed(Exception):
    """The server closed the connection before any byte of the response."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, float]:
    """The status, and the seconds a 503's Retry-After asks for (0 without one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, retry_after = 0, 0.0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "retry-after" and status == 503:
            retry_after = float(value.strip())
    if length:
        await reader.readexactly(length)
    return status, retry_after


async def _request(
    conn: list, host: str, port: int, raw: bytes, timeout: float, report: Report
) -> tuple[int, float]:
    """Send one request on the user's connection (opening one if needed); return its status
    and Retry-After."""
    for attempt in range(2):
        reused = conn[0] is not None
        if not reused:
            conn[0] = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            report.opened()
        reader, writer = conn[0]
        try:
            writer.write(raw)
            await writer.drain()
            try:
                return await asyncio.wait_for(_read_response(reader), timeout)
            except asyncio.IncompleteReadError as error:
                if error.partial or not reused or attempt:
                    raise
                raise _Closed from error
        except (_Closed, ConnectionResetError, BrokenPipeError):
            _drop(conn, report)
            if not reused or attempt:
                raise
            report.retries += 1
    raise AssertionError("unreachable")


async def _user(
    host: str,
    port: int,
    path_for: Callable[[int], tuple[str, str]],
    header_host: str,
    deadline: float,
    timeout: float,
    report: Report,
) -> None:
    conn: list = [None]
    n = 0
    try:
        while time.monotonic() < deadline:
            method, path = path_for(n)
            n += 1
            raw = (
                f"{method} {path} HTTP/1.1\r\nHost: {header_host}\r\n"
                f"Content-Length: 0\r\nUser-Agent: pyscale-tests\r\n\r\n"
            ).encode()
            started = time.monotonic()
            was_open = conn[0] is not None
            try:
                status, retry_after = await _request(conn, host, port, raw, timeout, report)
                report.outcomes.append(Outcome(started, time.monotonic(), status, ""))
                # A refused request is retried when the server asks, as clients do.
                await asyncio.sleep(min(retry_after, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                report.outcomes.append(Outcome(started, time.monotonic(), 0, "timeout"))
                _drop(conn, report)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
                kind = type(error).__name__ if was_open else f"connect {type(error).__name__}"
                report.outcomes.append(Outcome(started, time.monotonic(), 0, kind))
                _drop(conn, report)
    finally:
        _drop(conn, report)


def _drop(conn: list, report: Report) -> None:
    if conn[0] is not None:
        conn[0][1].close()
        conn[0] = None
        report.open_now -= 1


async def run_load(
    host: str,
    port: int,
    header_host: str,
    concurrency: int,
    duration: float,
    path_for: Callable[[int], tuple[str, str]],
    timeout: float = 30,
    during: Callable[[], object] | None = None,
) -> Report:
    """Hold `concurrency` users for `duration` seconds; `during` runs alongside (a coroutine
    function: reloads, kills, samplers) and is awaited before the report is returned."""
    report = Report()
    deadline = time.monotonic() + duration
    users = [
        asyncio.create_task(_user(host, port, path_for, header_host, deadline, timeout, report))
        for _ in range(concurrency)
    ]
    side = asyncio.create_task(during()) if during else None  # type: ignore[arg-type]
    await asyncio.gather(*users)
    if side:
        await side
    return report
