"""Each shipped stack run once per test session under the mock engine (pyscale/offline)."""

import asyncio
from collections.abc import Callable

import pytest

from pyscale import offline


@pytest.fixture(scope="session")
def stack_run() -> Callable[[str], offline.Run]:
    """`stack_run("prod")`: the program's registrations and resolved exports for a stack."""
    runs: dict[str, offline.Run] = {}

    def get(stack: str) -> offline.Run:
        if stack not in runs:
            runs[stack] = offline.run(stack)
        return runs[stack]

    return get


@pytest.fixture(autouse=True)
def _event_loop_for_pulumi() -> None:
    """Pulumi's SDK creates futures on the thread's current event loop, and a test that used
    `asyncio.run()` (the node and app load tests) leaves none set behind it."""
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
