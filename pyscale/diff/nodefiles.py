"""What a change does to the files every node boots with, file by file.

The user-data is a secret input, so Pulumi's own diff shows only that it changed. `plan
--json` carries each node file as rendered with placeholder secrets (the same placeholders
on both sides, so a file differs only when the change touched it); here each changed file
becomes a unified diff a reviewer can read, folded under its name.
"""

from __future__ import annotations

import difflib
import html

from pyscale.diff import markdown

# In the comment, a file's diff beyond this many lines is cut (the full report has all).
MAX_DIFF_LINES = 120


def changed(base: dict[str, str], head: dict[str, str]) -> list[str]:
    """The paths whose content differs (added and removed files included), sorted."""
    return sorted(p for p in base.keys() | head.keys() if base.get(p) != head.get(p))


def file_diff(
    path: str, before: str | None, after: str | None, max_lines: int | None = MAX_DIFF_LINES
) -> list[str]:
    """One file's unified diff, folded under its name and the lines it adds and removes;
    cut after `max_lines` lines (None: whole)."""
    lines = list(
        difflib.unified_diff(
            (before or "").splitlines(),
            (after or "").splitlines(),
            fromfile=f"base{path}" if before is not None else "/dev/null",
            tofile=f"head{path}" if after is not None else "/dev/null",
            lineterm="",
        )
    )
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    cut = ""
    if max_lines is not None and len(lines) > max_lines:
        cut = f"{len(lines) - max_lines} more diff lines in the full report."
        lines = lines[:max_lines]
    # HTML, not Markdown, inside <summary>: the name is escaped as HTML.
    summary = f"<code>{html.escape(path.lstrip('/'))}</code> (+{added} -{removed})"
    body = markdown.fenced("\n".join(lines), "diff")
    return [f"<details><summary>{summary}</summary>", "", *body, *([cut] if cut else []),
            "", "</details>", ""]  # fmt: skip


def diffs(
    base: dict[str, str], head: dict[str, str], max_lines: int | None = MAX_DIFF_LINES
) -> list[str]:
    """Every changed file's diff, in path order."""
    out: list[str] = []
    for path in changed(base, head):
        out += file_diff(path, base.get(path), head.get(path), max_lines)
    return out
