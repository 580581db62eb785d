"""A shipped stack file under another stack name, for variants its own name refuses.

A stack's name decides its environment (pyscale/settings/stacknames.py): `prod-ovh` cannot
be single-node or plaintext. The tests that exercise those branches run the same file as a
staging stack instead.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@cache
def renamed(source: str, name: str) -> Path:
    """A directory holding `Pulumi.<source>.yaml` as `Pulumi.<name>.yaml`."""
    root = Path(tempfile.mkdtemp(prefix=f"pyscale-{name}-"))
    shutil.copy(REPO / f"Pulumi.{source}.yaml", root / f"Pulumi.{name}.yaml")
    return root
