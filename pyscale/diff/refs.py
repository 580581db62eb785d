"""`pyscale diff BASE_REF HEAD_REF`: the pull request's plan comment, made on this machine.

Each ref is exported from git into a temporary directory (`.` is the working tree as it is)
and planned there by that tree's own program (`python -m pyscale plan --json`), as the
pull-request workflow plans the base and head commits; the sections are then rendered the
way the comment shows them.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from pyscale.diff import plans
from pyscale.diff.markdown import COMMENT_LIMIT, code

WORKING_TREE = "."


class RefError(ValueError):
    """A ref git cannot resolve, or a tree with no stack to plan."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def export(repo: Path, ref: str, into: Path) -> Path:
    """The tree of `ref` under `into` (the working tree itself for `.`)."""
    if ref == WORKING_TREE:
        return repo
    resolved = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        raise RefError(f"{ref!r} is not a commit git can find in {repo}")
    archive = _git(repo, "archive", "--format=tar", resolved.stdout.decode().strip())
    if archive.returncode != 0:
        raise RefError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    tree = into / "tree"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as members:
        members.extractall(tree, filter="data")
    return tree


def stacks(tree: Path) -> list[str]:
    """The stacks a tree has a Pulumi.<stack>.yaml for, as the workflows read them."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in tree.glob("Pulumi.*.yaml"))


def plan_at(tree: Path, stack: str) -> dict | None:
    """The tree's own `plan --json` for `stack`; None when it has no such stack or its plan
    fails (shown as "no base plan", as in the pull request)."""
    if not (tree / f"Pulumi.{stack}.yaml").exists():
        return None
    done = subprocess.run(
        [sys.executable, "-m", "pyscale", "plan", "--stack", stack, "--json"],
        cwd=tree, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return json.loads(done.stdout) if done.stdout.strip() else None


def comment(repo: Path, base_ref: str, head_ref: str, only: str | None = None) -> str:
    """The plan comment for `head_ref` against `base_ref`, one section per stack."""
    with tempfile.TemporaryDirectory(prefix="pyscale-diff-") as tmp:
        base_dir, head_dir = Path(tmp, "base"), Path(tmp, "head")
        base_dir.mkdir()
        head_dir.mkdir()
        base_tree = export(repo, base_ref, base_dir)
        head_tree = export(repo, head_ref, head_dir)
        names = [only] if only else stacks(head_tree)
        if not names:
            raise RefError(f"{head_ref!r} has no Pulumi.<stack>.yaml to plan")
        sections = []
        share = (COMMENT_LIMIT - 1_000) // len(names)  # the comment holds every stack
        for stack in names:
            head = plan_at(head_tree, stack)
            if head is None:
                sections.append(f"### {code(stack)}\n\n**plan failed** at {code(head_ref)}.\n")
                continue
            base = plan_at(base_tree, stack)
            sections.append(
                plans.render(
                    plans.Plan.from_json(base) if base else None,
                    plans.Plan.from_json(head),
                    limit=share,
                    where="Run `pyscale plan --stack <stack> --json` for the whole plan.",
                )
            )
    title = f"## pyscale plan: {code(head_ref)} against {code(base_ref)}"
    return "\n\n".join([title, *(s.strip() for s in sections)]) + "\n"
