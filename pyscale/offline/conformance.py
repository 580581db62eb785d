"""Check what the program registers against what the providers accept, before a cloud sees it.

The mock engine accepts any input, so two layers stand in for the providers:

- the providers' input schema, derived from the installed SDKs (pulumi-digitalocean and
  pulumi-ovh are generated from the providers' schemas): every resource type in each SDK's
  registry, each input's wire name and type, nested input types, enums and required inputs;
- each cloud's provider rules (`Cloud.provider_rules`, pyscale/clouds/<cloud>/
  provider_rules.py): the enums, ranges and region availability the schema does not carry,
  each with its source.

`pyscale plan` refuses a run with findings, and tests/stacks/test_conformance.py runs every
shipped stack and a set of variants through it.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import json
import typing
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

import pulumi
from pulumi import _types as pulumi_types

from pyscale import clouds
from pyscale.clouds.base import InputRule
from pyscale.offline.engine import Registered

# Provider package (the type token's first part) -> its Python SDK, for every cloud.
SDKS = {cloud.provider: cloud.sdk for cloud in map(clouds.get, clouds.NAMES)}


@dataclass(frozen=True)
class Finding:
    """One input a provider would refuse: where, what is wrong, and on whose word."""

    urn: str
    path: str  # the input, dotted, with list indexes: "nodes[0].region"
    problem: str
    source: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.path}: {self.problem} ({self.source})"


class NonConforming(ValueError):
    """A run that registered inputs the providers would refuse: lists every finding."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        lines = "\n".join(f"  - {f}" for f in self.findings)
        super().__init__(f"{len(self.findings)} input(s) the providers would refuse:\n{lines}")


def sdk_source(package: str) -> str:
    """The SDK a schema fact comes from, with its version: "pulumi-ovh 2.22.0"."""
    distribution = SDKS[package].replace("_", "-")
    return f"{distribution} {metadata.version(distribution)} schema"


@cache
def resource_types(package: str) -> dict[str, type]:
    """Every resource type token of one SDK -> the input type (`...Args`) of its resource.

    Read from the registry each SDK hands the Pulumi runtime (`_utilities.register` in its
    `__init__.py`), which lists every module and resource class the provider schema has.
    """
    sdk = importlib.import_module(SDKS[package])
    modules = _registered_modules(sdk.__file__ or "")
    found: dict[str, type] = {}
    for module in modules:
        namespace = importlib.import_module(module["fqn"])
        for token, class_name in module["classes"].items():
            found[token] = getattr(namespace, f"{class_name}Args")
    return found


def _registered_modules(init_file: str) -> list[dict[str, Any]]:
    tree = ast.parse(open(init_file, encoding="utf-8").read())  # noqa: SIM115
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "resource_modules":
            return json.loads(ast.literal_eval(node.value))
    raise LookupError(f"{init_file}: no resource_modules registry")


def schema_problems(resource: Registered) -> Iterator[Finding]:
    """Where a provider resource's inputs leave its SDK schema."""
    package = resource.type.partition(":")[0]
    if package not in SDKS:
        return  # a component of ours (pyscale:...) or the engine's own
    args = resource_types(package).get(resource.type)
    source = sdk_source(package)
    if args is None:
        yield Finding(resource.urn, "type", f"no resource type {resource.type}", source)
        return
    for path, problem in _object_problems(args, resource.inputs, "inputs"):
        yield Finding(resource.urn, path, problem, source)


def _object_problems(args: type, value: Any, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, Mapping):
        yield path, f"expects an object ({args.__name__}), got {_show(value)}"
        return
    types = pulumi_types.input_type_types(args)
    for key in sorted(set(value) - set(types)):
        yield f"{path}.{key}", f"unknown input (known: {', '.join(sorted(types))})"
    for required in _required(args):
        if value.get(required) is None:
            yield f"{path}.{required}", "required input missing"
    for key, item in value.items():
        if key in types and item is not None:
            yield from _value_problems(types[key], item, f"{path}.{key}")


@cache
def _required(args: type) -> tuple[str, ...]:
    """The wire names of an input type's required inputs: its keyword-only parameters
    without a default (the SDK generates `__init__` from the schema's `required`)."""
    names = pulumi_types.input_type_py_to_pulumi_names(args)
    parameters = inspect.signature(args.__init__).parameters.values()
    wanted = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    return tuple(sorted(names[name] for name in wanted))


def _value_problems(expected: Any, value: Any, path: str) -> Iterator[tuple[str, str]]:
    alternatives = _alternatives(expected)
    verdicts = [list(_one_problems(t, value, path)) for t in alternatives]
    if any(not v for v in verdicts):
        return
    if len(verdicts) == 1:
        yield from verdicts[0]
    else:
        wanted = " or ".join(_name(t) for t in alternatives)
        yield path, f"expects {wanted}, got {_show(value)}"


def _alternatives(expected: Any) -> list[Any]:
    """The wire types an input type admits: Input[T] unwrapped (no awaitables or outputs)."""
    if typing.get_origin(expected) is typing.Union:
        found = []
        for member in typing.get_args(expected):
            if member is type(None) or typing.get_origin(member) is Awaitable:
                continue
            if member is Awaitable or typing.get_origin(member) is pulumi.Output:
                continue
            found += _alternatives(member)
        return found
    return [expected]


def _one_problems(expected: Any, value: Any, path: str) -> Iterator[tuple[str, str]]:
    origin = typing.get_origin(expected)
    if expected is Any or expected is object:
        return
    if origin in (Sequence, list, tuple) or expected in (list, Sequence):
        if not isinstance(value, (list, tuple)):
            yield path, f"expects a list, got {_show(value)}"
            return
        (item_type,) = typing.get_args(expected) or (Any,)
        for i, item in enumerate(value):
            yield from _value_problems(item_type, item, f"{path}[{i}]")
    elif origin in (Mapping, dict) or expected in (dict, Mapping):
        if not isinstance(value, Mapping):
            yield path, f"expects a map, got {_show(value)}"
            return
        value_type = (typing.get_args(expected) or (str, Any))[1]
        for key, item in value.items():
            yield from _value_problems(value_type, item, f"{path}.{key}")
    elif isinstance(expected, type) and pulumi_types.is_input_type(expected):
        yield from _object_problems(expected, value, path)
    elif isinstance(expected, type) and issubclass(expected, enum.Enum):
        allowed = [member.value for member in expected]
        if value not in allowed:
            yield path, f"{_show(value)} is not one of {', '.join(map(str, allowed))}"
    elif expected is bool:
        if not isinstance(value, bool):
            yield path, f"expects a boolean, got {_show(value)}"
    elif expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            yield path, f"expects an integer, got {_show(value)}"
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            yield path, f"expects a number, got {_show(value)}"
    elif expected is str:
        if not isinstance(value, str):
            yield path, f"expects a string, got {_show(value)}"
    else:
        yield path, f"no check for the SDK type {expected!r}"


def _name(expected: Any) -> str:
    return getattr(expected, "__name__", None) or str(expected)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def rule_problems(
    resource: Registered, rules: Iterable[InputRule], skip: frozenset[str] = frozenset()
) -> Iterator[Finding]:
    """Where a resource's inputs break a provider rule the schema does not carry (inputs at
    the paths in `skip` are not looked at)."""
    for rule in rules:
        if rule.type != resource.type:
            continue
        if any(resource.inputs.get(k) != v for k, v in rule.when.items()):
            continue
        for path, value in _at(resource.inputs, rule.path.split("."), "inputs"):
            if path in skip:
                continue
            problem = rule.problem(value)
            if problem:
                yield Finding(resource.urn, path, problem, str(rule.fact))


def _at(value: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """Every value at a dotted path; `name[]` walks every element of a list."""
    if not parts:
        yield path, value
        return
    head, rest = parts[0], parts[1:]
    every = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, Mapping) or value.get(key) is None:
        return
    if every:
        for i, item in enumerate(value[key]):
            yield from _at(item, rest, f"{path}.{key}[{i}]")
    else:
        yield from _at(value[key], rest, f"{path}.{key}")


def check(resources: Iterable[Registered], cloud: str) -> list[Finding]:
    """Every finding for one run's registrations: schema first, then the cloud's rules."""
    rules = clouds.get(cloud).provider_rules
    found: list[Finding] = []
    for resource in resources:
        schema = list(schema_problems(resource))
        # A value of the wrong type is one mistake: the schema's finding says it.
        found += schema + list(rule_problems(resource, rules, frozenset(f.path for f in schema)))
    return found
