"""What the app's git settings may hold: a ref as git itself accepts one, and a repository
URL without credentials in it.

The ref rules are `git check-ref-format`'s (https://git-scm.com/docs/git-check-ref-format),
with a one-level name allowed (a branch such as `main`) and, as `--branch` does, no leading
dash: the ref lands on the node's `git clone` command line. A URL with a password or token
in it would put the credential in the node's user-data and in every plan; a private repo is
reached with a deploy key instead.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def ref_problem(ref: str) -> str | None:
    """Why git would refuse `ref` as a branch or tag name, or None."""
    if not ref or ref == "@":
        return "is empty or '@'"
    if _FORBIDDEN.search(ref):
        return "holds a space, a control character or one of ~ ^ : ? * [ \\"
    if ref.startswith("-"):
        return "starts with '-' (git would read it as an option)"
    if ".." in ref or "@{" in ref or "//" in ref:
        return "holds '..', '@{' or '//'"
    if ref.startswith("/") or ref.endswith("/") or ref.endswith("."):
        return "starts or ends with '/', or ends with '.'"
    if any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")):
        return "has a part that starts with '.' or ends with '.lock'"
    return None


def url_problem(url: str) -> str | None:
    """Why `url` may not name the app's repository, or None."""
    if url.startswith("git@"):
        return None  # scp-like ssh: `git` is the account, not a credential
    parts = urlsplit(url)
    if parts.password is not None or (parts.scheme == "https" and parts.username):
        return (
            "holds credentials; use a public https:// URL or an ssh URL with a deploy key "
            "(a token in the URL would sit in the node's user-data and in every plan)"
        )
    if not parts.hostname:
        return "names no host"
    return None
