"""The types a setting can have. Each kind reads a raw config value (as a stack file or the
Pulumi engine hands it over), says in words what it accepts (for errors and the README table)
and says the same in JSON Schema (for schema/stack.schema.json): one definition, three uses.

A kind whose accepted values come from the cloud (regions, sizes, TLS modes) takes the
`Cloud` it is read for; `cloud_dependent` tells the parser, the table and the schema so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyscale.clouds.base import Cloud

# `pulumi config set` stores scalars as strings: "2000", "true". Both forms are accepted.
_INT_TEXT = r"^[+-]?[0-9]+$"
_BOOL_TEXT = r"^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"


class Refused(Exception):
    """A raw value a kind cannot read: what is allowed, and the part of the value at fault."""

    def __init__(self, allowed: str, culprit: Any = None) -> None:
        super().__init__(allowed)
        self.allowed = allowed
        self.culprit = culprit


def decode(value: Any) -> Any:
    """Pulumi hands config to programs as strings; objects and lists arrive JSON-encoded."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    return None


@dataclass(frozen=True)
class Integer:
    """A whole number in a range; YAML numbers and numeric strings both read."""

    low: int
    high: int | None = None
    label = "integer"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return f"a whole number from {self.low}" + (
            f" to {self.high}" if self.high is not None else " up"
        )

    def read(self, value: Any, cloud: Cloud | None) -> int:
        parsed = _as_int(value)
        if parsed is None or parsed < self.low or (self.high is not None and parsed > self.high):
            raise Refused(f"must be {self.words()}")
        return parsed

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        number: dict[str, Any] = {"type": "integer", "minimum": self.low}
        if self.high is not None:
            number["maximum"] = self.high
        return {"anyOf": [number, {"type": "string", "pattern": _INT_TEXT}]}


_DECIMAL_TEXT = r"^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)$"


@dataclass(frozen=True)
class Decimal:
    """A number with a fraction in a range (0.35); YAML numbers and numeric strings both read."""

    low: float
    high: float
    label = "number"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return f"a number from {self.low:g} to {self.high:g}"

    def read(self, value: Any, cloud: Cloud | None) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        text = isinstance(value, str) and re.fullmatch(_DECIMAL_TEXT, value.strip())
        parsed = float(value) if number or text else None
        if parsed is None or not self.low <= parsed <= self.high:
            raise Refused(f"must be {self.words()}")
        return parsed

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        number = {"type": "number", "minimum": self.low, "maximum": self.high}
        return {"anyOf": [number, {"type": "string", "pattern": _DECIMAL_TEXT}]}


@dataclass(frozen=True)
class Boolean:
    """true or false, as a YAML boolean or the string `pulumi config set` writes."""

    label = "boolean"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return "true or false"

    def read(self, value: Any, cloud: Cloud | None) -> bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise Refused(f"must be {self.words()}")

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        return {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": _BOOL_TEXT}]}


@dataclass(frozen=True)
class Choice:
    """One of a fixed list, or of a list the cloud gives (its regions, its TLS modes)."""

    values: tuple[str, ...] | Callable[[Cloud], tuple[str, ...]]
    label = "string"

    @property
    def cloud_dependent(self) -> bool:
        return callable(self.values)

    def options(self, cloud: Cloud | None) -> tuple[str, ...]:
        if callable(self.values):
            assert cloud is not None, "a cloud-dependent choice needs the cloud"
            return self.values(cloud)
        return self.values

    def words(self, cloud: Cloud | None = None) -> str:
        where = f" on {cloud.title}" if self.cloud_dependent and cloud is not None else ""
        return f"one of {', '.join(self.options(cloud))}{where}"

    def read(self, value: Any, cloud: Cloud | None) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # YAML reads `version: 17` as a number
        if value not in self.options(cloud):
            raise Refused(f"must be {self.words(cloud)}")
        return value

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        options = self.options(cloud)
        # The numeric spelling of "17" is read as "17" too.
        return {"enum": [*options, *(int(o) for o in options if o.isdigit())]}


@dataclass(frozen=True)
class Sized:
    """A size from the cloud's catalog, read into its catalog entry (vCPUs, memory, limits)."""

    table: Callable[[Cloud], Mapping[str, Any]]
    what: str  # "node size"
    label = "string"
    cloud_dependent = True

    def options(self, cloud: Cloud | None) -> tuple[str, ...]:
        assert cloud is not None, "a size needs the cloud"
        return tuple(self.table(cloud))

    def words(self, cloud: Cloud | None = None) -> str:
        assert cloud is not None, "a size needs the cloud"
        return f"a known {cloud.name} {self.what}: {', '.join(self.options(cloud))}"

    def read(self, value: Any, cloud: Cloud | None) -> Any:
        assert cloud is not None, "a size needs the cloud"
        table = self.table(cloud)
        if not isinstance(value, str) or value not in table:
            raise Refused(f"must be {self.words(cloud)}")
        return table[value]

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        return {"enum": list(self.options(cloud))}


@dataclass(frozen=True)
class Text:
    """A string matching `pattern` (when given) and passing `check` (when given)."""

    what: str  # "a lower-case DNS name such as app.example.com"
    pattern: re.Pattern[str] | None = None
    # Why a matching string is still refused ("is not inside 10.0.0.0/8; must be ..."), or None.
    check: Callable[[str], str | None] | None = None
    label = "string"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return self.what

    def read(self, value: Any, cloud: Cloud | None) -> str:
        if self.pattern is None and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # `ref: 2024` is a tag name, not a number
        # fullmatch: a pattern's `$` also matches before a trailing newline, which would
        # then reach the rendered files.
        if not isinstance(value, str) or (self.pattern and not self.pattern.fullmatch(value)):
            raise Refused(f"must be {self.what}")
        why = self.check(value) if self.check else None
        if why:
            raise Refused(why)
        return value

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        if self.pattern is None:
            return {"type": ["string", "integer"]} if self.check is None else {"type": "string"}
        return {"type": "string", "pattern": self.pattern.pattern}


@dataclass(frozen=True)
class Strings:
    """A list of strings, each passing `entry`; a JSON-encoded list (the engine's form) too."""

    entries: str  # "CIDRs such as 198.51.100.0/24"
    each: str  # "a network in CIDR form such as 198.51.100.0/24"
    entry: Callable[[str], bool] | None = None  # None: any string (`problem` says the rest)
    # Why an entry that passes `entry` is still refused ("is not written canonically..."),
    # and why the list as a whole is ("together cover 0.0.0.0/0..."), or None.
    problem: Callable[[str], str | None] | None = None
    whole: Callable[[tuple[str, ...]], str | None] | None = None
    label = "list of strings"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return f"a list of {self.entries}"

    def read(self, value: Any, cloud: Cloud | None) -> tuple[str, ...]:
        value = decode(value)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise Refused(f"must be {self.words()}")
        bad = [v for v in value if self.entry and not self.entry(v)]
        if bad:
            raise Refused(f"each entry must be {self.each}", bad if len(bad) > 1 else bad[0])
        for v in value:
            why = self.problem(v) if self.problem else None
            if why:
                raise Refused(why, v)
        why = self.whole(tuple(value)) if self.whole else None
        if why:
            raise Refused(why, list(value))
        return tuple(value)

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "minLength": 1}}


@dataclass(frozen=True)
class Secret:
    """A value set with `pulumi config set --secret`: the Pulumi wiring reads it with
    get_secret, so it never enters Settings, an error message or a plan."""

    what: str
    # The value's shape ("https://hooks.slack.com/..."): why a value is refused, or None.
    # Checked on the decrypted value the engine hands the program; never shown.
    pattern: re.Pattern[str] | None = None
    label = "secret"
    cloud_dependent = False

    def words(self, cloud: Cloud | None = None) -> str:
        return f"{self.what}, set with `pulumi config set --secret`"

    def read(self, value: Any, cloud: Cloud | None) -> None:
        return None

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or (self.pattern and not self.pattern.fullmatch(value)):
            return f"must be {self.what} (the value is not shown)"
        return None

    def schema(self, cloud: Cloud | None) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"secure": {"type": "string"}},
            "required": ["secure"],
            "additionalProperties": False,
        }


Kind = Integer | Decimal | Boolean | Choice | Sized | Text | Strings | Secret
