"""Each shipped stack run once per test session under the mock engine (components/offline.py)."""

from collections.abc import Callable

import pytest

from components import offline


@pytest.fixture(scope="session")
def stack_run() -> Callable[[str], offline.Run]:
    """`stack_run("prod")`: the program's registrations and resolved exports for a stack."""
    runs: dict[str, offline.Run] = {}

    def get(stack: str) -> offline.Run:
        if stack not in runs:
            runs[stack] = offline.run(stack)
        return runs[stack]

    return get
