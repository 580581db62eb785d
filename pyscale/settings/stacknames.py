"""The environment a stack's name claims: `prod-ovh` is prod, and so is `production-eu`.

The name decides, not `pyscale:environment`: a prod stack that says `environment: staging`
would drop prod's guardrails, so the parser refuses the mismatch. A name that claims no
environment (`node20k`) leaves the setting free.
"""

from __future__ import annotations

import re

ENVIRONMENT_NAMES = {
    "prod": "prod", "production": "prod", "prd": "prod", "live": "prod",
    "staging": "staging", "stage": "staging", "stg": "staging",
    "dev": "dev", "development": "dev",
}  # fmt: skip


def stack_environment(stack: str) -> str | None:
    """The environment a stack's name claims (its first part, any case), or None."""
    return ENVIRONMENT_NAMES.get(re.split(r"[-_.]", stack, maxsplit=1)[0].lower())
