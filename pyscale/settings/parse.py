"""Reads one stack's `pyscale:` config through the declarations into Settings.

Every problem is collected before failing, so that a user fixes a stack file in one pass,
and the parse runs before the program registers a single resource: a bad value never
half-creates a stack. Each message names the key, the value given and what is allowed.

The order: unknown keys; the environment and the cloud (every other default and allowed
value depends on them); each declared setting, refused where the cloud does not apply it
(a value the provider lists but would refuse is refused with the cloud's reason for it);
the cloud's required settings and derived defaults; then the rules that join settings
(rules.py and the cloud's own). A rule that reads a setting already refused is skipped:
one mistake, one message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pyscale import clouds
from pyscale.clouds.base import Cloud, DerivedDefault, SettingRule
from pyscale.settings import declarations as d
from pyscale.settings.errors import Problem, SettingsError
from pyscale.settings.kinds import Refused, decode
from pyscale.settings.model import Settings, build
from pyscale.settings.rules import RULES
from pyscale.settings.spec import Setting
from pyscale.settings.stacknames import stack_environment

SECRET_SHOWN = "[secret]"  # what a message shows instead of a secret's value


def lookup(raw: Mapping[str, Any], dotted: str) -> Any:
    """The raw value at `dotted` (objects may arrive JSON-encoded at any level), or None."""
    node: Any = raw
    for part in dotted.split("."):
        node = decode(node)
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return decode(node)


class _Reading:
    """One parse in progress: values read so far (by dotted key) and problems found."""

    def __init__(self, stack: str, raw: Mapping[str, Any]) -> None:
        self.stack = stack
        self.raw = raw
        self.values: dict[str, Any] = {}  # parsed, for every setting read successfully
        self.written: dict[str, Any] = {}  # as the stack gave it (or its default), for messages
        self.problems: list[Problem] = []

    def fail(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(Problem(key, value, allowed))

    def read(self, setting: Setting, environment: str, cloud: Cloud | None) -> bool:
        """Read one setting (or its default); False when it is refused."""
        given = lookup(self.raw, setting.key)
        value = given if given is not None else setting.default_for(self.stack, environment, cloud)
        self.written[setting.key] = value
        if value is None:
            self.values[setting.key] = None
            return True
        try:
            self.values[setting.key] = setting.kind.read(value, cloud)
        except Refused as refused:
            allowed = refused.allowed
            known = cloud.settings.refusal(setting.key, value) if cloud else None
            if known:
                allowed = f"{known.fact}; {allowed}"
            if given is None:
                allowed += f" (pyscale:{setting.key} is unset and this is its {environment} default"
                allowed += f" on {cloud.title}; set it)" if cloud else "; set it)"
            self.fail(setting.key, value if refused.culprit is None else refused.culprit, allowed)
            return False
        return True

    def apply(self, rule: SettingRule) -> None:
        """Run a rule unless a setting it reads is missing (refused or skipped)."""
        if any(key not in self.values for key in (rule.key, *rule.needs)):
            return
        why = rule.refuse(self.values)
        if why:
            self.fail(rule.key, self.written[rule.key], why)


def _unknown_keys(reading: _Reading) -> None:
    """A misspelt key would otherwise be ignored silently and the default used."""
    for key, value in reading.raw.items():
        if key not in d.TOP_LEVEL:
            close = difflib.get_close_matches(key, d.TOP_LEVEL, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            reading.fail(
                key, value, f"is not a pyscale setting{hint}; known: {', '.join(d.TOP_LEVEL)}"
            )
    for group, keys in d.GROUP_KEYS.items():
        value = lookup(reading.raw, group)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            reading.fail(group, value, f"must be an object with keys {', '.join(keys)}")
            continue
        for sub in value:
            if sub not in keys:
                reading.fail(
                    f"{group}.{sub}", value[sub], f"is not a known key; known: {', '.join(keys)}"
                )


def _context(reading: _Reading) -> tuple[str, Cloud | None]:
    """The environment and the cloud; None for a cloud that is not registered."""
    environment = d.BY_KEY["environment"]
    if not reading.read(environment, "dev", None):
        reading.values["environment"] = environment.default_for(reading.stack, "dev", None)
    name = reading.values["environment"]
    implied = stack_environment(reading.stack)
    if implied and name != implied:
        # The stack's name decides: a prod stack that says staging would drop prod's rules.
        reading.fail(
            "environment",
            name,
            f"stack {reading.stack!r} is a {implied} stack by its name, so its environment is "
            f"{implied}; remove pyscale:environment or give the stack another name",
        )
        name = reading.values["environment"] = implied
    if not reading.read(d.BY_KEY["cloud"], name, None):
        return name, None
    return name, clouds.get(reading.values["cloud"])


def _ignored(reading: _Reading, setting: Setting, cloud: Cloud) -> None:
    given = lookup(reading.raw, setting.key)
    reading.fail(
        setting.key,
        SECRET_SHOWN if setting.secret else given,
        f"{cloud.title} (pyscale:cloud: {cloud.name}) does not apply this setting: "
        f"{cloud.settings.why_ignored(setting.key)}",
    )


def _derived_defaults(reading: _Reading, derived: Iterable[DerivedDefault]) -> None:
    """Fill each unset setting whose default follows from others already read."""
    for default in derived:
        unset = lookup(reading.raw, default.key) is None
        if unset and all(key in reading.values for key in default.needs):
            reading.values[default.key] = reading.written[default.key] = default.value(
                reading.values
            )


def _cloud_rules(reading: _Reading, cloud: Cloud) -> None:
    """The cloud's required settings, derived defaults and own limits."""
    for key in cloud.settings.required:
        if reading.values.get(key, ...) is None:
            reading.fail(
                key,
                None,
                f"is required on {cloud.title} (pyscale:cloud: {cloud.name}): "
                f"must be {d.BY_KEY[key].kind.words(cloud)}",
            )
    _derived_defaults(reading, cloud.settings.derived_defaults)
    for rule in cloud.settings.rules:
        reading.apply(rule)


def parse(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate one stack's `pyscale:` config (keys without the namespace) into Settings.

    Raises SettingsError listing every problem found.
    """
    reading = _Reading(stack, raw)
    _unknown_keys(reading)
    environment, cloud = _context(reading)
    for setting in d.SETTINGS:
        if setting.key in ("environment", "cloud"):
            continue
        if cloud is None and setting.cloud_dependent:
            continue  # nothing to check it against; the cloud's own problem is reported
        if cloud and cloud.settings.ignores(setting.key) and lookup(raw, setting.key) is not None:
            _ignored(reading, setting, cloud)
            continue
        if not setting.secret:
            reading.read(setting, environment, cloud)
    _derived_defaults(reading, d.DERIVED_DEFAULTS)
    for rule in RULES:
        reading.apply(rule)
    if cloud:
        _cloud_rules(reading, cloud)
    if reading.problems:
        raise SettingsError(stack, reading.problems)
    return build(stack, reading.values)
