"""A shipped stack file under another stack name, for variants its own name refuses.

A stack's name decides its environment (pyscale/settings/stacknames.py): `prod-ovh` cannot
be single-node or plaintext. The tests that exercise those branches run the same file as a
staging stack instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from pyscale import offline

REPO = Path(__file__).resolve().parents[2]


@cache
def renamed(source: str, name: str) -> Path:
    """A directory holding `Pulumi.<source>.yaml` as `Pulumi.<name>.yaml`."""
    root = Path(tempfile.mkdtemp(prefix=f"pyscale-{name}-"))
    shutil.copy(REPO / f"Pulumi.{source}.yaml", root / f"Pulumi.{name}.yaml")
    return root


def run_as(source: str, name: str, overrides: Mapping[str, str]) -> offline.Run:
    """An offline run of `source`'s stack file as stack `name` (itself when they match)."""
    root = REPO if name == source else renamed(source, name)
    return offline.run(name, root, overrides=overrides)
