"""Each shipped stack run once per session under the mock engine, for the policy tests."""

from collections.abc import Callable

import pytest

from components import offline


@pytest.fixture(scope="session")
def shipped() -> Callable[[str], offline.Run]:
    """`shipped("prod")`: what the real program registers and exports for that stack."""
    runs: dict[str, offline.Run] = {}

    def get(stack: str) -> offline.Run:
        if stack not in runs:
            runs[stack] = offline.run(stack)
        return runs[stack]

    return get
