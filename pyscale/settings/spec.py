"""What one setting's declaration says: its key, kind, default, unit and doc line.

Defaults that vary say along what: the environment (`ByEnvironment`), the cloud's own
defaults (`ByCloud`, read from `clouds.get(cloud).defaults`) or the stack name
(`FromStackName`). Which clouds apply a setting is not declared here: each cloud lists what
it ignores (pyscale/clouds/<cloud>/settings_rules.py) and `honoured_by` asks them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyscale import clouds
from pyscale.clouds.base import Cloud
from pyscale.settings.kinds import Kind, Secret


@dataclass(frozen=True)
class ByEnvironment:
    """A default per environment."""

    dev: Any
    staging: Any
    prod: Any

    def value(self, stack: str, environment: str, cloud: Cloud | None) -> Any:
        return getattr(self, environment)


@dataclass(frozen=True)
class ByCloud:
    """A default the cloud gives, per environment where it varies (sizes, region)."""

    pick: Callable[[Cloud, str], Any]

    def value(self, stack: str, environment: str, cloud: Cloud | None) -> Any:
        assert cloud is not None, "a cloud default needs the cloud"
        return self.pick(cloud, environment)


@dataclass(frozen=True)
class FromStackName:
    """The environment the stack's name claims (`prod-ovh` -> prod), else `fallback`."""

    fallback: str
    claims: Callable[[str], str | None]  # the environment a stack name claims, or None
    doc: str  # for the reference table

    def value(self, stack: str, environment: str, cloud: Cloud | None) -> Any:
        return self.claims(stack) or self.fallback


Default = ByEnvironment | ByCloud | FromStackName


@dataclass(frozen=True)
class Setting:
    """One `pyscale:` key: everything the parser, the README table and the schema need."""

    key: str  # dotted for nested keys: "database.readReplicas"
    kind: Kind
    doc: str  # one line: what it does
    default: Any = None  # a value, or a Default; None: optional (then `unset` says what that means)
    unit: str | None = None
    unset: str | None = None  # what leaving an optional setting unset means

    @property
    def secret(self) -> bool:
        return isinstance(self.kind, Secret)

    @property
    def top(self) -> str:
        """The key at the top of the `pyscale:` namespace: its group, or itself."""
        return self.key.partition(".")[0]

    @property
    def cloud_dependent(self) -> bool:
        return self.kind.cloud_dependent or isinstance(self.default, ByCloud)

    def default_for(self, stack: str, environment: str, cloud: Cloud | None) -> Any:
        if isinstance(self.default, Default):
            return self.default.value(stack, environment, cloud)
        return self.default


@dataclass(frozen=True)
class Group:
    """A nested object of settings (`pyscale:database`): its doc, for the schema."""

    name: str
    doc: str


def honoured_by(key: str) -> tuple[str, ...]:
    """The registered clouds that apply `key` (every cloud but those that list it ignored)."""
    return tuple(n for n in clouds.NAMES if not clouds.get(n).settings.ignores(key))
