"""Markdown that what it quotes cannot break, and a report that fits GitHub's comment limit.

Names, values and policy messages come from stack files and plans: a resource named
`x](https://evil)` or a value holding a backtick, a pipe or `<details>` must show as itself,
never as a link, a table cell or an HTML tag. A pull-request comment holds at most 65,536
characters (GitHub refuses a longer one); a report is built from blocks, and the blocks a
reviewer needs least are left out first, with a note saying where the full report is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# GitHub's limit on an issue or pull-request comment body.
COMMENT_LIMIT = 65_536
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICKS = re.compile(r"`+")
# GitHub links @mentions, #123 and bare URLs after Markdown is rendered, so escapes do not
# stop them: a zero-width space after `@` and `#` and inside `://` does.
_ZWSP = "\u200b"
_AUTOLINKS = (("@", "@" + _ZWSP), ("#", "#" + _ZWSP), ("://", ":" + _ZWSP + "//"))


def text(value: object) -> str:
    """`value` as plain text on one line: Markdown's punctuation escaped, HTML as entities,
    and no mention, issue reference or bare URL for GitHub to link."""
    one_line = " ".join(str(value).split())
    for found, broken in _AUTOLINKS:
        one_line = one_line.replace(found, broken)
    entities = one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", entities)


def code(value: object, in_table: bool = False) -> str:
    """`value` as inline code on one line: delimited by more backticks than it holds, so
    none of its own can close the span. In a table cell, HTML code with every character
    that matters as an entity: GitHub splits cells on a pipe even inside a code span, and a
    backslash before it can be read as escaping the backslash instead."""
    one_line = " ".join(str(value).split())
    if in_table:
        return "<code>" + html.escape(one_line).replace("|", "&#124;") + "</code>"
    longest = max((len(run) for run in _BACKTICKS.findall(one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") or not one_line else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def fenced(body: str, lang: str = "") -> list[str]:
    """A fenced code block holding `body` as it is: the fence is longer than any run of
    backticks inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *body.rstrip("\n").split("\n"), fence]


@dataclass(frozen=True)
class Block:
    """Part of a report: its lines, and how much a reviewer needs it (higher: kept longer)."""

    lines: tuple[str, ...]
    keep: int
    name: str = ""  # what the note says was left out

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def fit(blocks: list[Block], limit: int, where: str) -> str:
    """The blocks in order, leaving out the least needed ones until the text fits `limit`
    characters, with a note naming what was left out and `where` the full report is."""
    kept = list(blocks)
    dropped: list[Block] = []
    note_room = 400
    while sum(b.size for b in kept) + (note_room if dropped else 0) > limit:
        candidates = [b for b in kept if b.name]
        if not candidates:
            break
        least = min(candidates, key=lambda b: b.keep)
        kept.remove(least)
        dropped.append(least)
    lines = [line for block in kept for line in block.lines]
    if dropped:
        names = ", ".join(text(b.name) for b in dropped)
        lines += [f"> Left out to stay under GitHub's comment limit: {names}. {where}", ""]
    out = "\n".join(lines).rstrip() + "\n"
    if len(out) > limit:  # the blocks that must stay are too long themselves
        cut = out[: limit - 200].rsplit("\n", 1)[0]
        out = f"{cut}\n\n> Truncated at GitHub's comment limit. {where}\n"
    return out
