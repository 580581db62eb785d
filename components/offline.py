"""Run the real Pulumi program offline, under Pulumi's mock engine.

The Pulumi CLI is not needed: config from the stack file is handed to the runtime, every
resource registration goes to the cloud's mock module (realistic ids and outputs), and each
registration is recorded with its inputs and options. `plan`, `render` and the stack tests
all use this, so what they inspect is what `pulumi up` would send.
"""

from __future__ import annotations

import importlib
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components import capacity, settings

REPO = Path(__file__).resolve().parent.parent
PROJECT = "pyscale"


@dataclass
class Registered:
    """One resource registration as the engine received it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    options: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


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

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)


def _unwrap(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double
    return value


class _CloudMocks(pulumi.runtime.Mocks):
    """Dispatches to the cloud's mock module; components and providers echo their inputs."""

    def __init__(self, cloud: str) -> None:
        self.cloud = importlib.import_module(f"components.{cloud}.mocks")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        args.inputs = _unwrap(args.inputs)
        if args.custom and not args.typ.startswith("pulumi:providers:"):
            known = self.cloud.new_resource(args)
            if known is None:
                raise NotImplementedError(f"no mock outputs for {args.typ} ({args.name})")
            return known
        return (f"{args.name}-id" if args.custom else "", dict(args.inputs))

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        result = self.cloud.call(args)
        if result is None:
            raise NotImplementedError(f"no mock for invoke {args.token}")
        return result


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping what it was asked to register."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw = rpc.deserialize_properties(request.object)
        timeouts = request.customTimeouts
        self.registered.append(
            Registered(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                protect=bool(request.protect),
                inputs=_unwrap(raw),
                secret_inputs=frozenset(k for k, v in raw.items() if rpc.is_rpc_secret(v)),
                options={
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "ignoreChanges": list(request.ignoreChanges),
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "customTimeouts": {
                        "create": timeouts.create,
                        "update": timeouts.update,
                        "delete": timeouts.delete,
                    },
                    "dependencies": list(request.dependencies),
                },
                id=response.id,
                outputs=_unwrap(dict(self.resources[response.urn].state)),
            )
        )
        return response


def _resolve(value: Any) -> tuple[Any, bool]:
    if isinstance(value, pulumi.Output):
        return _sync_await(value.future()), bool(_sync_await(value.is_secret()))
    return value, False


def run(stack: str, root: Path = REPO, overrides: Mapping[str, str] | None = None) -> Run:
    """Run `__main__.py` for `stack` under mocks and return what it registered and exported.

    `root` is the directory holding `Pulumi.<stack>.yaml`. `overrides` replaces config values
    (`pyscale:key` -> string), for tests of bad input.
    Raises SettingsError or CapacityError, before any resource is registered, on bad config.
    """
    config, secret_keys = settings.stack_config(stack, root)
    config = {**config, **(overrides or {})}
    cloud = settings.from_pulumi_config(stack, config).cloud  # validated again by the program
    monitor = _RecordingMonitor(_CloudMocks(cloud))
    pulumi.runtime.set_all_config(config, secret_keys)
    # A fresh root stack resource per run, so several stacks can run in one process.
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor
    )
    namespace: dict[str, Any] = {}

    def program() -> None:
        namespace.update(runpy.run_path(str(REPO / "__main__.py"), run_name="__pulumi__"))

    _sync_await(run_pulumi_func(program))
    exports = namespace["exports"]
    return Run(
        stack=stack,
        settings=exports.settings,
        plan=exports.plan,
        resources=monitor.registered,
        outputs={k: _resolve(v) for k, v in exports.values.items()},
        config=(config, secret_keys),
    )
