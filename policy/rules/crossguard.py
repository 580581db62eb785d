"""Rule bodies wrapped as the SDK's policy objects.

A body takes `Res` values and returns messages; the wrapper reads the SDK's arguments into
`Res` and reports each message, so bodies stay plain functions that tests and docs can
read, and the policy's description is the body's docstring.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .reading import Finding, Res, from_args, from_resource

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


def resource_policy(
    name: str, level: EnforcementLevel, body: Callable[[Res], list[str]]
) -> ResourceValidationPolicy:
    """A policy asked about one resource at a time."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in body(from_args(args)):
            report(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=(body.__doc__ or name).strip(),
        validate=validate,
        enforcement_level=level,
    )


def stack_policy(
    name: str, level: EnforcementLevel, body: Callable[[list[Res]], list[Finding]]
) -> StackValidationPolicy:
    """A policy asked about the whole stack, for rules that relate resources."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in body([from_resource(r) for r in args.resources]):
            report(message, urn)

    return StackValidationPolicy(
        name=name,
        description=(body.__doc__ or name).strip(),
        validate=validate,
        enforcement_level=level,
    )
