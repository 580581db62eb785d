"""The two kinds of set-up step a local node takes, and how each fails.

A step either runs a command to completion (`ip`, `sysctl`, `initdb`, `apt-get`, `nginx -t`)
or waits for a condition (a socket answers, a replica streams). Both end, on failure, in a
`NodeError` that names the step and carries what the command printed, so that `node up`
says what broke without sending anyone to a log first.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence

# What a failed command's message keeps of its output: the end, where the error is.
OUTPUT_TAIL_CHARS = 2000


class NodeError(RuntimeError):
    """A step of bringing the node up failed; the message says which and where the log is."""


def run_checked(argv: Sequence[str], what: str, timeout: float = 120) -> str:
    """Run `argv` to completion and return its stdout; NodeError naming `what`, the command
    and its output when it exits non-zero, cannot start or runs past `timeout` seconds."""
    command = " ".join(argv)
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NodeError(f"{what} failed: {command}: {error}") from error
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-OUTPUT_TAIL_CHARS:]
        raise NodeError(f"{what} failed (exit {done.returncode}): {command}\n{output}")
    return done.stdout


def wait_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.1) -> None:
    """Poll `check()` until it is true; NodeError naming `what` after `timeout` seconds.

    `check` may raise NodeError itself to stop the wait at once (a process it waits on died).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise NodeError(f"timed out after {timeout:.0f} s waiting for {what}")
