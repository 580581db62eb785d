"""Run the policy pack without the Pulumi CLI, over what the mock engine recorded.

`pyscale plan` runs the program under Pulumi's mock engine
(pyscale/offline) and hands the registrations here, so the pull-request comment shows
the same verdicts `pulumi preview --policy-pack policy` would, and `plan` fails on a
mandatory one, with no cloud account. Each registration becomes the SDK's own argument
objects (`ResourceValidationArgs`, `StackValidationArgs`) and each policy's `validate` is
called directly: the code path is the pack's, only the gRPC server is missing (importing
this module starts none: `PolicyPack` is constructed only in policy/__main__.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import rules

CONFIG_POLICY = "no-plaintext-secrets"


class Registration(Protocol):
    """What the mock engine recorded for one resource (pyscale.offline.Registered).

    Read by name: `inputs` (or `props`), `secret_inputs` (top-level keys that were secrets),
    `parent` (or `parent_urn`), `protect`, and `options["dependencies"]` (URNs).
    """

    type: str
    name: str
    urn: str


@dataclass(frozen=True)
class Violation:
    """One policy verdict, shaped for the plan's JSON and text output."""

    policy: str
    enforcement: str  # "mandatory" | "advisory"
    resource: str  # URN, or the stack's name for stack-wide findings
    message: str


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    return next((getattr(obj, n) for n in names if hasattr(obj, n)), default)


def _props(reg: Registration) -> dict[str, Any]:
    """Inputs with the values that were secrets wrapped in `Secret`, as the pack sees them."""
    inputs: Mapping[str, Any] = _attr(reg, "inputs", "props", default={}) or {}
    secret = set(_attr(reg, "secret_inputs", default=()) or ())
    return {k: Secret(v) if k in secret else v for k, v in inputs.items()}


def _options(reg: Registration | None) -> PolicyResourceOptions:
    """Options as the engine reports them; `protect` stays None when the recorder lacks it."""
    protect = _attr(reg, "protect")
    parent = _attr(reg, "parent_urn", "parent") or None
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def _dependencies(reg: Registration) -> list[str]:
    options = _attr(reg, "options", default={}) or {}
    return list(_attr(reg, "dependencies", default=None) or options.get("dependencies", []))


def _stack_resource(urn: str, outputs: Mapping[str, tuple[Any, bool]]) -> PolicyResource:
    """The root `pulumi:pulumi:Stack`, whose properties are the stack's exports."""
    stack, project = urn.split(":")[2], urn.split("::")[1]
    props = {k: Secret(v) if secret else v for k, (v, secret) in outputs.items()}
    name = f"{project}-{stack}"
    urn = f"urn:pulumi:{stack}::{project}::{rules.STACK}::{name}"
    return PolicyResource(rules.STACK, props, urn, name, _options(None), None, None, [], {})


def _policy_resources(
    registrations: Sequence[Registration], outputs: Mapping[str, tuple[Any, bool]] | None
) -> list[PolicyResource]:
    """The SDK's view of the stack: parents and dependencies linked to resource objects."""
    kept = [r for r in registrations if not r.type.startswith("pulumi:providers:")]
    resources = [
        PolicyResource(r.type, _props(r), r.urn, r.name, _options(r), None, None, [], {})
        for r in kept
    ]
    by_urn = {r.urn: r for r in resources}
    for resource, reg in zip(resources, kept, strict=True):
        resource.parent = by_urn.get(resource.opts.parent or "")
        resource.dependencies = [by_urn[d] for d in _dependencies(reg) if d in by_urn]
    if outputs is not None and resources:
        resources.append(_stack_resource(resources[0].urn, outputs))
    return resources


def _run(policy: Policy, resources: list[PolicyResource]) -> list[Violation]:
    """One policy's violations, from its own `validate`."""
    level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
    stack = resources[0].urn.split(":")[2] if resources else "stack"
    found: list[Violation] = []
    if isinstance(policy, ResourceValidationPolicy):
        for r in resources:
            args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None)
            policy.validate(
                args,
                lambda m, _urn=None, u=r.urn: found.append(Violation(policy.name, level, u, m)),
            )
    elif isinstance(policy, StackValidationPolicy):
        policy.validate(
            StackValidationArgs(resources),
            lambda m, urn=None: found.append(Violation(policy.name, level, urn or stack, m)),
        )
    return found


def evaluate(
    registrations: Iterable[Registration],
    outputs: Mapping[str, tuple[Any, bool]] | None = None,
    config: tuple[Mapping[str, Any], Iterable[str]] | None = None,
) -> list[Violation]:
    """Every policy over the registrations; optionally the exports and the stack config.

    `outputs`: export name -> (value, is_secret), as pyscale.offline.Run.outputs.
    `config`: (values, secret keys), as pyscale.settings.stack_config() returns them.
    """
    resources = _policy_resources(list(registrations), outputs)
    violations = [v for policy in rules.POLICIES for v in _run(policy, resources)]
    if config is not None:
        values, secret_keys = config
        level = rules.by_name(CONFIG_POLICY).enforcement_level
        for key in rules.plaintext_config(values, secret_keys):
            message = f"holds a credential in plain text; `pulumi config set --secret {key}`"
            violations.append(Violation(CONFIG_POLICY, level.value, key, f"{key}: {message}"))
    return violations
