"""The clouds pyscale builds on, registered in one table.

A cloud is a folder here (catalog, pricing, mock answers; see base.Cloud) and one under
components/ (its WebStack). Nothing else names a cloud: the core asks `get(name)`.
"""

from __future__ import annotations

from pyscale.clouds import digitalocean, ovh
from pyscale.clouds.base import Cloud

REGISTRY: dict[str, Cloud] = {cloud.name: cloud for cloud in (digitalocean.CLOUD, ovh.CLOUD)}
NAMES = tuple(REGISTRY)


def get(name: str) -> Cloud:
    """The registered cloud called `name` (KeyError naming the known ones otherwise)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no cloud {name!r}; known: {', '.join(NAMES)}") from None
