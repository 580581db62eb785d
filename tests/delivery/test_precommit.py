"""The pre-commit hooks (ruff, ruff format, yamllint, shellcheck) pass on the repository.

The hooks are `repo: local` with `language: system`, so this runs offline with the pinned
tools, over every tracked file, the same way a developer's commit runs them.
"""

from __future__ import annotations

import subprocess

import yaml

from tests.delivery.conftest import REPO, VENV_BIN

HOOKS = {"ruff", "ruff-format", "yamllint", "shellcheck"}


def test_hooks_are_local_system_hooks() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    assert set(hooks) == HOOKS
    assert {hook["language"] for hook in hooks.values()} == {"system"}


def test_pre_commit_passes_on_the_repository() -> None:
    result = subprocess.run(
        [VENV_BIN / "pre-commit", "run", "--all-files", "--show-diff-on-failure", "--color=never"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for hook in ("ruff check", "ruff format", "yamllint", "shellcheck"):
        assert f"{hook}..." in output, output
