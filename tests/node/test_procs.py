"""Supervision: a process that dies while starting fails its step at once, with its log, and
everything started is stopped and recorded as stopped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pyscale.localnode import NodeError, Supervisor


def test_a_process_that_dies_while_starting_fails_at_once_with_its_log(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    started = time.monotonic()
    with pytest.raises(NodeError, match=r"(?s)broken exited during start-up.*bad config line 3"):
        sup.start_ready(
            "broken",
            ["sh", "-c", "echo 'bad config line 3'; exit 1"],
            ready=lambda: False,
            what="a server that never comes up",
            timeout=30,
        )
    assert time.monotonic() - started < 5, "waited out the timeout instead of failing at once"


def test_start_ready_returns_once_ready_and_stop_all_stops_it(tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    sup = Supervisor(tmp_path)
    proc = sup.start_ready(
        "sleeper",
        ["sh", "-c", f"touch {flag}; exec sleep 60"],
        ready=flag.exists,
        what="the flag file",
    )
    assert [p.name for p in Supervisor(tmp_path).procs] == ["sleeper"]  # recorded in pids.json
    assert sup.stop_all(timeout=5) == ["sleeper"]
    assert not Path(f"/proc/{proc.pid}").exists(), "stopped and reaped"
    assert Supervisor(tmp_path).procs == []
