"""components/: one idiom on both clouds. Each part is a ComponentResource class carrying its
own type token (`pyscale:<cloud>:<Class>`), the clouds have the same parts in files of the
same names (OVHcloud has no monitoring part: its provider has no metric alerting), and the
program registers no component type that is not a class's token."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from pyscale import clouds
from pyscale.offline import Run

REPO = Path(__file__).resolve().parents[2]
PARTS = {
    "network", "nodes", "cluster", "database", "cache", "loadbalancer", "monitor", "monitoring"
}  # fmt: skip
# Modules of a cloud's package that are not parts.
NOT_PARTS = {"__init__", "webstack", "moved"}
STACKS = ("dev", "staging", "prod", "prod-ovh")


def components(cloud: str) -> list[type[pulumi.ComponentResource]]:
    """The ComponentResource classes defined in components/<cloud>/."""
    found = []
    for path in sorted((REPO / "components" / cloud).glob("*.py")):
        module = importlib.import_module(f"components.{cloud}.{path.stem}")
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, pulumi.ComponentResource) and cls.__module__ == module.__name__
        ]
    return found


def parts(cloud: str) -> set[str]:
    return {p.stem for p in (REPO / "components" / cloud).glob("*.py")} - NOT_PARTS


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_every_component_carries_its_own_token(cloud: str) -> None:
    classes = components(cloud)
    assert len(classes) == len(parts(cloud)) + 1, [c.__name__ for c in classes]  # + WebStack
    for cls in classes:
        assert pulumi.get_type_token(cls) == f"pyscale:{cloud}:{cls.__name__}", cls


def test_both_clouds_have_the_same_parts() -> None:
    assert parts("digitalocean") == PARTS
    assert parts("ovh") == PARTS - {"monitoring"}


@pytest.mark.parametrize("stack", STACKS)
def test_registered_component_types_are_class_tokens(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    run = stack_run(stack)
    tokens = {pulumi.get_type_token(cls) for cls in components(run.settings.cloud)}
    registered = {r.type for r in run.resources if not r.custom}
    assert registered <= tokens, registered - tokens
