"""The shared recording helper for the stack tests: Pulumi's mock engine with the one set of
mocks (pyscale.offline.Mocks), recording every registration (pyscale.offline.engine)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from pyscale import offline, settings
from pyscale.offline import RecordingMonitor

Install = Callable[..., RecordingMonitor]


@pytest.fixture
def mock_engine() -> Install:
    """`mock_engine("prod", {"pyscale:key": "value"})`: the mock engine installed for one test
    with the stack's config (and overrides) and its cloud's mocks; the returned monitor's
    `registered` is what the test's program or component registered."""

    def install(stack: str, overrides: Mapping[str, str] | None = None) -> RecordingMonitor:
        config, secret_keys = settings.stack_config(stack, offline.REPO)
        cloud = settings.from_pulumi_config(stack, config).cloud
        return offline.install(stack, cloud, {**config, **(overrides or {})}, secret_keys)

    return install
