"""Process supervision for the local node: start, wait until ready, stop, never lose track.

Every process the node starts is recorded in the state directory (`pids.json`) the moment
it starts, with its start time from /proc, so that `node down` run later from another
shell stops exactly what `node up` started: a pid the kernel has reused for someone else's
process has another start time and is left alone.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pyscale.localnode.commands import NodeError, wait_until

# How long a service may take to become ready (PostgreSQL's first start, Gunicorn importing
# the app under a loaded 2-core machine) before `node up` gives up.
READY_TIMEOUT_S = 60
# The end of a process's log shown when it died during start-up.
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class Proc:
    """One started process, as recorded in pids.json."""

    name: str
    pid: int
    start_time: int  # /proc/<pid>/stat field 22: tells a reused pid apart
    stop_signal: int  # what the program treats as its graceful/fast shutdown
    log: str


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from one read of /proc/<pid>/stat;
    None when the pid is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def alive(proc: Proc) -> bool:
    """True while the recorded process (not merely its pid) still runs (a zombie does not)."""
    stat = _stat(proc.pid)
    return stat is not None and stat[1] == proc.start_time and stat[0] != "Z"


def raise_nofile(limit: int) -> None:
    """The soft descriptor limit up to `limit` (never above the hard one); a preexec_fn."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def load(record: Path) -> list[Proc]:
    if not record.exists():
        return []
    return [Proc(**entry) for entry in json.loads(record.read_text())]


def tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Supervisor:
    """Starts processes in their own sessions and keeps `pids.json` current."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log_dir = state_dir / "log"
        self.record = state_dir / "pids.json"
        self.procs: list[Proc] = load(self.record)
        self._popen: dict[int, subprocess.Popen[bytes]] = {}

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        stop_signal: int = signal.SIGTERM,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        nofile: int | None = None,
    ) -> Proc:
        """Start `argv` detached from our terminal (Ctrl-C reaches us, and we stop it)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=(lambda: raise_nofile(nofile)) if nofile else None,
            )
        stat = _stat(popen.pid)
        proc = Proc(name, popen.pid, stat[1] if stat else 0, int(stop_signal), str(log))
        self._popen[popen.pid] = popen
        self.procs.append(proc)
        self._save()
        return proc

    def start_ready(
        self,
        name: str,
        argv: Sequence[str],
        *,
        ready: Callable[[], bool],
        what: str,
        timeout: float = READY_TIMEOUT_S,
        stop_signal: int = signal.SIGTERM,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        nofile: int | None = None,
    ) -> Proc:
        """Start `argv` and return once `ready()` holds with the process still running.

        A process that exits meanwhile fails the step at once, with the end of its log,
        instead of after `timeout`: a bad config is reported in a second, not a minute.
        """
        proc = self.start(name, argv, stop_signal=stop_signal, env=env, cwd=cwd, nofile=nofile)

        def check() -> bool:
            is_ready = ready()
            if not alive(proc):  # after ready(): something else may answer in its place
                log = f"log {proc.log}:\n{tail(proc.log)}"
                raise NodeError(f"{name} exited during start-up; {log}")
            return is_ready

        wait_until(check, what, timeout)
        return proc

    def stop_all(self, timeout: float = 20) -> list[str]:
        """Stop every recorded process, newest first (the app before its database).

        Each gets its own stop signal, then SIGKILL to its whole process group when it is
        still there after `timeout`. Returns what was stopped, for the output.
        """
        stopped = []
        for proc in reversed(self.procs):
            if alive(proc):
                self._stop(proc, timeout)
                stopped.append(proc.name)
        self.procs = []
        self._save()
        return stopped

    def stop(self, name: str, timeout: float) -> None:
        """Stop the process called `name` as stop_all does, leaving the others running."""
        for proc in self.procs:
            if proc.name == name and alive(proc):
                self._stop(proc, timeout)

    def _stop(self, proc: Proc, timeout: float) -> None:
        """Its stop signal to the process group, then SIGKILL if it is there after
        `timeout`."""
        _signal_group(proc.pid, proc.stop_signal)
        deadline = time.monotonic() + timeout
        while alive(proc) and time.monotonic() < deadline:
            self._reap(proc.pid)
            time.sleep(0.05)
        if alive(proc):
            _signal_group(proc.pid, signal.SIGKILL)
        self._reap(proc.pid)

    def _reap(self, pid: int) -> None:
        popen = self._popen.get(pid)
        if popen is not None:
            popen.poll()

    def _save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.record.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(p) for p in self.procs], indent=1))
        tmp.replace(self.record)


def _signal_group(pid: int, sig: int) -> None:
    """Signal the process's session group (it leads it: start_new_session), or it alone."""
    for send in (lambda: os.killpg(pid, sig), lambda: os.kill(pid, sig)):
        try:
            send()
            return
        except ProcessLookupError:
            continue
        except PermissionError:
            return
