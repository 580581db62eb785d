"""Process supervision for the local node: start, record, stop, and never lose track.

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


class NodeError(RuntimeError):
    """A step of bringing the node up failed; the message says which and where the log is."""


@dataclass(frozen=True)
class Proc:
    """One started process, as recorded in pids.json."""

    name: str
    pid: int
    start_time: int  # /proc/<pid>/stat field 22: tells a reused pid apart
    stop_signal: int  # what the program treats as its graceful/fast shutdown
    log: str


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(proc: Proc) -> bool:
    """True while the recorded process (not merely its pid) still runs."""
    return start_time(proc.pid) == proc.start_time and not _zombie(proc.pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def raise_nofile(limit: int) -> None:
    """preexec helper: the soft descriptor limit up to `limit` (never above the hard one)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


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
        started = start_time(popen.pid)
        proc = Proc(name, popen.pid, started or 0, int(stop_signal), str(log))
        self._popen[popen.pid] = popen
        self.procs.append(proc)
        self._save()
        return proc

    def run(self, argv: Sequence[str], what: str, timeout: float = 120) -> str:
        """Run a setup command to completion; NodeError with its output when it fails."""
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise NodeError(
                f"{what} failed (exit {done.returncode}): {' '.join(argv)}\n"
                f"{(done.stdout + done.stderr).strip()[-2000:]}"
            )
        return done.stdout

    def check_running(self, proc: Proc) -> None:
        """NodeError with the tail of its log when a started process has already exited."""
        if not alive(proc):
            raise NodeError(
                f"{proc.name} exited during start-up; log {proc.log}:\n{tail(proc.log)}"
            )

    def stop_all(self, timeout: float = 20) -> list[str]:
        """Stop every recorded process, newest first (the app before its database).

        Each gets its own stop signal, then SIGKILL to its whole process group when it is
        still there after `timeout`. Returns what was stopped, for the output.
        """
        stopped = []
        for proc in reversed(self.procs):
            if not alive(proc):
                continue
            _signal_group(proc.pid, proc.stop_signal)
            deadline = time.monotonic() + timeout
            while alive(proc) and time.monotonic() < deadline:
                self._reap(proc.pid)
                time.sleep(0.05)
            if alive(proc):
                _signal_group(proc.pid, signal.SIGKILL)
            self._reap(proc.pid)
            stopped.append(proc.name)
        self.procs = []
        self._save()
        return stopped

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


def load(record: Path) -> list[Proc]:
    if not record.exists():
        return []
    return [Proc(**entry) for entry in json.loads(record.read_text())]


def tail(path: str, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.1) -> None:
    """Poll `check()` until it is true; NodeError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise NodeError(f"timed out after {timeout:.0f} s waiting for {what}")
