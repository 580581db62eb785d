"""Which URNs of a deployed stack a new version of the program would lose.

The engine matches the resources a program registers to the ones in the stack's state by
URN, and by the URNs each resource names in its aliases. A state URN that neither a
current URN nor an alias names is, to `pulumi up`, a resource to delete (and whatever took
its place a resource to create): a refactor that moves a resource without an alias replaces
it. tests/stacks/urns/<stack>.txt holds the shipped stacks' URNs; tests/stacks/test_urns.py
runs every stack against them with `unaccounted`.

Pure: no Pulumi.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Resource(Protocol):
    """What the check reads of a registration (pyscale.offline.Registered)."""

    urn: str
    aliases: tuple[str, ...]


def unaccounted(baseline: Iterable[str], resources: Iterable[Resource]) -> list[str]:
    """The baseline URNs no resource answers to (its URN or an alias), sorted."""
    answered = {urn for r in resources for urn in (r.urn, *r.aliases)}
    return sorted(set(baseline) - answered)
