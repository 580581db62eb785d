"""Run the real Pulumi program offline, under Pulumi's mock engine.

The Pulumi CLI is not needed: config from the stack file is handed to the runtime, every
resource registration goes to the cloud's mock answers (realistic ids and outputs,
pyscale.offline.mocks), and each registration is recorded with its inputs, options and
aliases, under the URN the real engine would give it (pyscale.offline.engine). `pyscale
plan`, `pyscale render` and the stack tests all use this, so what they inspect is what
`pulumi up` would send.
"""

from __future__ import annotations

import runpy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from pyscale import capacity, settings
from pyscale.offline.engine import RecordingMonitor, Registered
from pyscale.offline.mocks import Mocks, UnknownToMocks

if TYPE_CHECKING:
    from components.webstack import Exports

REPO = Path(__file__).resolve().parents[2]
PROJECT = "pyscale"

__all__ = [
    "PROJECT",
    "REPO",
    "Mocks",
    "RecordingMonitor",
    "Registered",
    "Run",
    "UnknownToMocks",
    "execute",
    "in_monitor",
    "install",
    "run",
]


def in_monitor(registered: Registered) -> bool:
    """True for a resource under a `pyscale:<cloud>:Monitor` (the monitoring node). The
    policy pack, which imports nothing of pyscale, reads URNs the same way
    (policy/rules/reading.py, in_monitor)."""
    return ":Monitor$" in registered.urn


@dataclass
class Run:
    """Everything one offline run of a stack produced."""

    stack: str
    settings: settings.Settings
    plan: capacity.CapacityPlan
    resources: list[Registered]
    # Stack exports, resolved: name -> (value, is_secret).
    outputs: dict[str, tuple[Any, bool]]
    # The config the program ran with, as the engine holds it: (values, secret keys).
    config: tuple[dict[str, str], list[str]]

    def of_type(self, type_token: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_token]

    def web(self, type_token: str) -> list[Registered]:
        """The resources of `type_token` outside the monitoring node's component: the web
        nodes, their firewall or security group."""
        return [r for r in self.of_type(type_token) if not in_monitor(r)]

    def monitor(self, type_token: str) -> list[Registered]:
        """The monitoring node's resources of `type_token`."""
        return [r for r in self.of_type(type_token) if in_monitor(r)]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)


def _resolve(value: Any) -> tuple[Any, bool]:
    if isinstance(value, pulumi.Output):
        return _sync_await(value.future()), bool(_sync_await(value.is_secret()))
    return value, False


def install(
    stack: str,
    cloud: str,
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
) -> RecordingMonitor:
    """Set Pulumi's mock engine up for one run of `stack` on `cloud`: `config` handed to the
    runtime as the engine hands it over, a fresh root stack (so several stacks can run in
    one process), and the cloud's mocks behind a monitor that records every registration.

    `run` uses it for the program; tests use it alone to build a component directly, or to
    watch the program refuse bad config without registering anything.
    """
    monitor = RecordingMonitor(Mocks(cloud), stack, PROJECT)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor
    )
    return monitor


def execute() -> Exports:
    """Run `__main__.py` under the installed mock engine, as `pulumi up` runs it, and return
    what it exported. Whatever the program raises (SettingsError, CapacityError) propagates."""
    namespace: dict[str, Any] = {}

    def program() -> None:
        namespace.update(runpy.run_path(str(REPO / "__main__.py"), run_name="__pulumi__"))

    _sync_await(run_pulumi_func(program))
    return namespace["exports"]


def run(
    stack: str,
    root: Path = REPO,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: Collection[str] = (),
) -> Run:
    """Run `__main__.py` for `stack` under mocks and return what it registered and exported.

    `root` is the directory holding `Pulumi.<stack>.yaml`. `overrides` replaces config values
    (`pyscale:key` -> string), for tests of bad input and for variants of a stack; those
    named in `secret_overrides` are set as `pulumi config set --secret` would.
    Raises SettingsError or CapacityError, before any resource is registered, on bad config.
    """
    config, secret_keys = settings.stack_config(stack, root)
    config = {**config, **(overrides or {})}
    secret_keys = [*secret_keys, *secret_overrides]
    # Validated again by the program.
    cloud = settings.from_pulumi_config(stack, config, secret_keys).cloud
    monitor = install(stack, cloud, config, secret_keys)
    exports = execute()
    return Run(
        stack=stack,
        settings=exports.settings,
        plan=exports.plan,
        resources=monitor.registered,
        outputs={k: _resolve(v) for k, v in exports.values.items()},
        config=(config, secret_keys),
    )
