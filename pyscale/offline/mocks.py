"""The one mock engine answer-set: Pulumi's `Mocks` over a cloud's answers.

Each cloud's answers are plain data and functions (pyscale/clouds/<cloud>/mocks.py: ids,
addresses, URIs and ports as the provider returns them, derived from resource names so runs
repeat). This class is the only `pulumi.runtime.Mocks` in the project: the offline plan and
every stack test use it. Component resources and providers echo their inputs, as the engine
does; a custom resource type or an invoke the cloud does not answer fails loudly instead of
getting made-up outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import rpc

from pyscale import clouds


def plain(value: Any) -> Any:
    """Inputs as plain values: secrets unwrapped, whole doubles back to ints (the wire carries
    every number as a double)."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class UnknownToMocks(NotImplementedError):
    """A resource type or invoke the cloud's answers do not cover."""


class Mocks(pulumi.runtime.Mocks):
    """Answers for one cloud's resources and invokes."""

    def __init__(self, cloud: str) -> None:
        self.cloud = clouds.get(cloud)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = plain(args.inputs)
        if not args.custom or args.typ.startswith("pulumi:providers:"):
            return ("" if not args.custom else f"{args.name}-id"), dict(inputs)
        known = self.cloud.mocks.new_resource(args.typ, args.name, inputs)
        if known is None:
            raise UnknownToMocks(
                f"no {self.cloud.title} mock outputs for {args.typ} ({args.name}): add its "
                f"answer to pyscale/clouds/{self.cloud.name}/mocks.py"
            )
        return known

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        result = self.cloud.mocks.call(args.token, plain(dict(args.args)))
        if result is None:
            raise UnknownToMocks(
                f"no {self.cloud.title} mock for invoke {args.token}: add its answer to "
                f"pyscale/clouds/{self.cloud.name}/mocks.py"
            )
        return result
