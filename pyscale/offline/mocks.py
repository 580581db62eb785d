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
from pyscale.offline import kubernetes
from pyscale.rollout.plan import GATE_TYPE, HEALTHY_IN_A_ROW, POLL_INTERVAL_S


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


def gate_answer(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What a HealthGate's create returns once its node passed (components/gate.py): the
    provider never runs offline, so this is the answer of a node healthy at once."""
    checks = [
        {"at_s": float(i * POLL_INTERVAL_S), "healthy": True, "detail": "healthy"}
        for i in range(HEALTHY_IN_A_ROW)
    ]
    outs = {k: v for k, v in inputs.items() if k != "__provider"}
    outs |= {"passed_at": "2026-01-01T00:00:00+00:00", "checks": checks, "drained": ""}
    return f"gate-{inputs['node_name']}", outs


class Mocks(pulumi.runtime.Mocks):
    """Answers for one cloud's resources and invokes."""

    def __init__(self, cloud: str) -> None:
        self.cloud = clouds.get(cloud)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        inputs = plain(args.inputs)
        if args.resource_id:  # a read of an object the cluster made (Service.get)
            return kubernetes.read_resource(args.typ, args.resource_id)
        if not args.custom or args.typ.startswith("pulumi:providers:"):
            return ("" if not args.custom else f"{args.name}-id"), dict(inputs)
        if args.typ == GATE_TYPE:
            return gate_answer(inputs)
        in_cluster = kubernetes.new_resource(args.typ, args.name, inputs)
        if in_cluster is not None:
            return in_cluster
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
