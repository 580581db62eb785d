"""The engine side of an offline run: Pulumi's mock monitor, computing URNs as the real
engine does and recording every registration with its inputs, options and aliases.

The SDK's mock monitor builds a child's URN from its parent's last type only and puts the
root stack's type in top-level URNs; the real engine chains every ancestor component's type
and leaves the root stack out. URNs here are the real engine's, so the URN baseline
(tests/stacks/urns/) holds what `pulumi up` would compare against, and each alias is resolved
to the URN it names, as the engine resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from pyscale.offline.mocks import plain

STACK_TYPE = "pulumi:pulumi:Stack"


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
    aliases: tuple[str, ...] = ()  # the URNs this resource answers to, besides its own
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


def urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """A resource's URN as the engine computes it: the types of every ancestor component,
    then its own; the root stack is not part of the chain."""
    if parent:
        qualified = parent.split("::")[2]
        if qualified != STACK_TYPE:
            type_ = f"{qualified}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor with the engine's URNs, keeping what it was asked to register."""

    def __init__(self, mocks: pulumi.runtime.Mocks, stack: str, project: str) -> None:
        super().__init__(mocks)
        self.stack, self.project = stack, project
        self.registered: list[Registered] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return urn(self.stack, self.project, parent, type_, name)

    def _alias_urn(self, alias: Any, request: Any) -> str:
        if not alias.HasField("spec"):
            return alias.urn
        spec = alias.spec
        if spec.noParent:
            parent = ""
        else:
            parent = spec.parentUrn or request.parent
        return urn(spec.stack or self.stack, spec.project or self.project, parent,
                   spec.type or request.type, spec.name or request.name)  # fmt: skip

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
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
                inputs=plain(raw),
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
                aliases=tuple(
                    sorted({self._alias_urn(alias, request) for alias in request.aliases})
                ),
                id=response.id,
                outputs=plain(dict(self.resources[response.urn].state)),
            )
        )
        return response
