"""What a refused setting looks like to a person: the key, the value given, what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Every pyscale key lives under this Pulumi config namespace (`pyscale:region`).
NAMESPACE = "pyscale"


@dataclass(frozen=True)
class Problem:
    """One bad setting: which key, what it held, what would have been accepted."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        # pyscale's own keys are dotted names; another namespace's key arrives whole.
        name = self.key if ":" in self.key else f"{NAMESPACE}:{self.key}"
        if self.value is ...:  # a place in a file rather than a value
            return f"{name}: {self.allowed}"
        return f"{name} = {self.value!r}: {self.allowed}"


class SettingsError(ValueError):
    """Every problem found in a stack's config, reported together so that one pass fixes it."""

    def __init__(self, stack: str, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"stack '{stack}' has {len(problems)} invalid setting(s) "
            f"(fix them in Pulumi.{stack}.yaml or with `pulumi config set`):\n{lines}"
        )
