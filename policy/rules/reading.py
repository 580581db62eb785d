"""How every rule reads a resource: plain values, unknowns, and the `Res` view.

Inputs are read through `plain`, which turns the SDK's unknown-checking proxies into plain
dicts and lists. During `pulumi preview` an input computed from another resource's output
(an id, a tag name) is not known yet; the proxy would raise on access and the SDK would skip
the whole policy with an advisory "can't run during preview". Reading each value once and
mapping unknowns to `UNKNOWN` lets a rule decide per value instead: an unknown never proves a
violation, and never proves compliance where the rule needs the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Secret
from pulumi_policy import proxy as _proxy

from .tokens import MONITOR_SUFFIX, WEBSTACK_SUFFIX


class _Unknown:
    """A value the engine does not know yet (preview, computed from another resource)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()
_UNKNOWN_SENTINELS = frozenset(
    {
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def plain(value: Any) -> Any:
    """Plain dicts/lists from the SDK's proxies; unknowns become UNKNOWN; Secret kept."""
    if isinstance(value, Secret):
        return Secret(plain(value.value))
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except _proxy.UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except _proxy.UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _reveal(value: Any) -> Any:
    """The value with every Secret marker removed, for rules that read content."""
    if isinstance(value, Secret):
        return _reveal(value.value)
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


@dataclass(frozen=True)
class Res:
    """One resource as the rules read it.

    `raw` keeps Secret markers (for the secrets rule); `props` is the same without them.
    """

    type: str
    name: str
    urn: str
    raw: dict[str, Any]
    protect: bool | None = None
    dependencies: tuple[str, ...] = ()
    props: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "props", _reveal(self.raw))

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


def in_monitor(res: Res) -> bool:
    """True for a resource of the monitoring node (under a `pyscale:<cloud>:Monitor`): a
    machine of its own size, outside the web nodes the plan counts."""
    types = res.urn.split("::")[2].split("$") if res.urn.count("::") >= 3 else []
    return any(t.endswith(MONITOR_SUFFIX) for t in types[:-1])


def from_args(args: ResourceValidationArgs) -> Res:
    """The resource a resource policy is asked about."""
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        raw=plain(args.props),
        protect=args.opts.protect if args.opts is not None else None,
    )


def from_resource(resource: PolicyResource) -> Res:
    """One resource of the stack a stack policy is asked about, with its dependencies."""
    return Res(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        raw=plain(resource.props),
        protect=resource.opts.protect if resource.opts is not None else None,
        dependencies=tuple(d.urn for d in resource.dependencies),
    )


Finding = tuple[str, str | None]  # message, urn (None: the stack as a whole)


def at(res: Res, message: str) -> Finding:
    """A finding against `res`, its message prefixed with the resource's name."""
    return (f"{res.name}: {message}", res.urn)


def webstack(resources: Iterable[Res]) -> Res | None:
    """The WebStack component, which declares the environment and the capacity plan."""
    return next((r for r in resources if r.type.endswith(WEBSTACK_SUFFIX)), None)
