"""Secrets: a credential is never stored or shown in plain text.

Covers resource inputs and stack outputs (CrossGuard sees both) and, for the offline
`pyscale plan` only, the stack's config, which CrossGuard never sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import Secret

from .reading import UNKNOWN, Finding, Res, at
from .tokens import STACK

_SECRET_NAME = re.compile(r"password|passwd|secret|private_?key|token|api_?key|credential", re.I)
_CREDENTIAL_URI = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def _exposed(value: Any, path: str, name_hint: bool = False) -> list[str]:
    """Paths of values that hold a credential and are not marked secret."""
    if isinstance(value, Secret) or value is UNKNOWN or value is None:
        return []
    if isinstance(value, dict):
        return [
            p
            for k, v in value.items()
            for p in _exposed(v, f"{path}.{k}" if path else k, bool(_SECRET_NAME.search(k)))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _exposed(v, f"{path}[{i}]", name_hint)]
    credential = isinstance(value, str) and (
        _CREDENTIAL_URI.search(value) or _PRIVATE_KEY.search(value)
    )
    return [path] if credential or (name_hint and isinstance(value, str) and value) else []


def check_no_plaintext_secrets(resources: list[Res]) -> list[Finding]:
    """A credential in a plain input or export lands unencrypted in the state and the logs."""
    return [
        at(
            res,
            f"{'stack output' if res.type == STACK else 'input'} {path} holds a credential in "
            "plain text; wrap it in pulumi.Output.secret or set it with `config set --secret`",
        )
        for res in resources
        for path in _exposed(res.raw, "")
    ]


def plaintext_config(config: Mapping[str, Any], secret_keys: Iterable[str]) -> list[str]:
    """Stack config keys holding a credential without `--secret`.

    Offline `plan` only: CrossGuard never sees the stack's config.
    """
    secret = set(secret_keys)
    return sorted(
        key
        for key, value in config.items()
        if key not in secret and _exposed({key.split(":")[-1]: _config_value(value)}, "")
    )


def _config_value(value: Any) -> Any:
    """Config strings may hold JSON objects (structured config); read them as such."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
