"""Stack files and the engine's config map: where the raw `pyscale:` values come from."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pyscale.settings import namespaces, stackyaml
from pyscale.settings.declarations import SETTINGS
from pyscale.settings.errors import NAMESPACE, Problem, SettingsError
from pyscale.settings.kinds import Secret
from pyscale.settings.model import Settings
from pyscale.settings.parse import SECRET_SHOWN, parse

# What an encrypted value reads as offline: it cannot be decrypted without the stack's key.
SECRET_PLACEHOLDER = "[secret]"


def from_pulumi_config(
    stack: str, config: Mapping[str, Any], secret_keys: Collection[str] | None = None
) -> Settings:
    """Parse the engine's flat config map (`pyscale:key` -> string) for this project, and
    refuse what it holds outside `pyscale:` that pyscale does not know to be safe
    (namespaces.py; credentials must be among `secret_keys` when those are known)."""
    prefix = f"{NAMESPACE}:"
    foreign = [*namespaces.problems(config, secret_keys), *_secret_problems(config, secret_keys)]
    try:
        parsed = parse(
            stack, {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
        )
    except SettingsError as error:
        raise SettingsError(stack, [*foreign, *error.problems]) from None
    if foreign:
        raise SettingsError(stack, foreign)
    return parsed


def _secret_problems(config: Mapping[str, Any], secret_keys: Collection[str] | None) -> list:
    """A secret setting given in plain text, or not in its shape (its value never shown)."""
    found = []
    for setting in SETTINGS:
        key = f"{NAMESPACE}:{setting.key}"
        if not isinstance(setting.kind, Secret) or key not in config:
            continue
        if secret_keys is not None and key not in secret_keys:
            why = f"is a secret given in plain text; set it with `pulumi config set --secret {key}`"
            found.append(Problem(setting.key, "[not shown]", why))
        elif config[key] != SECRET_PLACEHOLDER and (why := setting.kind.problem(config[key])):
            found.append(Problem(setting.key, SECRET_SHOWN, why))
    return found


def read_stack_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """Read Pulumi.<stack>.yaml into the engine's form: (config strings, secret keys).

    Read as Pulumi reads it (stackyaml.py: YAML 1.2, duplicate keys and aliases refused).
    Encrypted values (`secure:`) cannot be decrypted offline; they become a placeholder and
    stay marked secret, which is all an offline plan needs.
    """
    stack = path.stem[len("Pulumi.") :]
    try:
        document = stackyaml.load(path.read_text()) or {}
    except stackyaml.StackYamlError as error:
        raise SettingsError(stack, [error.problem(path.name)]) from None
    section = (document.get("config") or {}) if isinstance(document, Mapping) else document
    if not isinstance(section, Mapping):
        problem = Problem(f"{path.name}:config", type(section).__name__, "must be a mapping")
        raise SettingsError(stack, [problem])
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in section.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


def stack_names(root: Path) -> list[str]:
    """The stacks that have a `Pulumi.<stack>.yaml` in `root`, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def stack_config(stack: str, root: Path) -> tuple[dict[str, str], list[str]]:
    """The engine's view of `Pulumi.<stack>.yaml` in `root`: config strings and secret keys.
    A missing file is a SettingsError that lists the stacks there."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = ", ".join(stack_names(root))
        raise SettingsError(stack, [Problem("stack", stack, f"no {path.name}; stacks: {known}")])
    return read_stack_file(path)


def load(stack: str, root: Path) -> Settings:
    """Settings for a stack file in `root` (the CLI's and the tests' entry point)."""
    config, secret_keys = stack_config(stack, root)
    return from_pulumi_config(stack, config, secret_keys)
