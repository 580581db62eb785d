"""Each declared setting in words (Markdown): what it takes, its defaults, where it applies.

The README table and the schema's descriptions both read these, so the two never disagree
with each other or with the parser: every word comes from the declarations and the clouds.
"""

from __future__ import annotations

from typing import Any

from pyscale import clouds
from pyscale.clouds.base import Cloud
from pyscale.settings.declarations import ENVIRONMENTS
from pyscale.settings.kinds import (
    Boolean,
    Choice,
    Decimal,
    Integer,
    Secret,
    Sized,
    Strings,
    Text,
)
from pyscale.settings.rules import RULES
from pyscale.settings.spec import FromStackName, Setting, honoured_by


def _honouring(setting: Setting) -> list[Cloud]:
    """The clouds whose values and defaults matter for `setting`: those that apply it."""
    return [clouds.get(name) for name in honoured_by(setting.key)]


def _per_cloud(cells: dict[str, str]) -> str:
    """One text when every cloud agrees, else `Title: text` per cloud."""
    if len(set(cells.values())) == 1:
        return next(iter(cells.values()))
    return "; ".join(f"{clouds.get(name).title}: {text}" for name, text in cells.items())


def _code(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def value(v: Any) -> str:
    """A default as it would be written in a stack file."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    if isinstance(v, tuple | list):
        return f"`{list(v)}`" if v else "`[]`"
    return f"`{v}`"


def allowed(setting: Setting) -> str:
    """The type and the values it takes, per cloud where they differ."""
    kind = setting.kind
    unit = f" ({setting.unit})" if setting.unit else ""
    if isinstance(kind, Integer):
        high = f"{kind.high:,}" if kind.high is not None else "…"
        return f"integer {kind.low:,} … {high}{unit}"
    if isinstance(kind, Decimal):
        return f"number {kind.low:g} … {kind.high:g}{unit}"
    if isinstance(kind, Boolean):
        return "`true` / `false`"
    if isinstance(kind, Choice | Sized):
        if not kind.cloud_dependent:
            return _code(kind.options(None))
        return _per_cloud({c.name: _code(kind.options(c)) for c in _honouring(setting)})
    if isinstance(kind, Strings):
        return f"list of {kind.entries}"
    if isinstance(kind, Secret):
        return f"secret: {kind.what} (`pulumi config set --secret`)"
    assert isinstance(kind, Text)
    return kind.what


def default(setting: Setting) -> str:
    """Its default for dev / staging / prod, per cloud where it differs."""
    if isinstance(setting.default, FromStackName):
        return f"{setting.default.doc}, else `{setting.default.fallback}`"
    cells: dict[str, str] = {}
    for cloud in _honouring(setting):
        derived = [d for d in cloud.settings.derived_defaults if d.key == setting.key]
        if derived:
            cells[cloud.name] = derived[0].doc
            continue
        per_env = [value(setting.default_for(env, env, cloud)) for env in ENVIRONMENTS]
        cells[cloud.name] = per_env[0] if len(set(per_env)) == 1 else " / ".join(per_env)
    return _per_cloud(cells)


def where(setting: Setting) -> str:
    """The clouds that apply it, with what a cloud requires, limits, refuses or demands
    further (the reasons for a refused value are in its message and docs/providers.md)."""
    notes = [", ".join(f"`{name}`" for name in honoured_by(setting.key))]
    for cloud in [clouds.get(name) for name in clouds.NAMES]:
        rules = cloud.settings
        if setting.key in rules.required:
            notes.append(f"required on `{cloud.name}`")
        notes += [f"`{cloud.name}`: {r.doc}" for r in rules.rules if r.key == setting.key]
        refused = [v for r in rules.refused if r.key == setting.key for v in r.values]
        if refused:
            notes.append(f"`{cloud.name}` refuses {_code(refused)}")
        if setting.key in rules.unchecked:
            notes.append(
                f"`{cloud.name}`: {rules.unchecked[setting.key].what} (not checkable offline: "
                "`pyscale plan` lists it under prerequisites)"
            )
    return "; ".join(notes)


def purpose(setting: Setting) -> str:
    """Its doc line, what leaving it unset means, and the rules that join it to others."""
    text = setting.doc
    if setting.unset:
        text += f" Unset: {setting.unset}."
    rules = [r.doc for r in RULES if r.key == setting.key]
    if rules:
        text += f" Rules: {'; '.join(rules)}."
    return text


def plain(markdown: str) -> str:
    """Markdown cell text as plain text, for JSON Schema descriptions."""
    return markdown.replace("`", "")
