"""Existing stacks are moved, never replaced, by a refactor.

tests/stacks/urns/<stack>.txt lists every URN a shipped stack had before the refactor of
issue 12, computed the engine's way (pyscale.offline.engine). Each must still be the URN of
a resource the program registers, or be named by one's alias: otherwise `pulumi up` deletes
that resource and creates another (pyscale.diff.urns).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from pyscale import cli, diff
from pyscale.offline import Run
from pyscale.rollout.plan import GATE_TYPE

REPO = Path(__file__).resolve().parents[2]
BASELINES = Path(__file__).parent / "urns"
SHIPPED = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
PART_PREFIX = "pyscale:"  # the program's own component types: pyscale:<cloud>:<Part>


def baseline(stack: str) -> list[str]:
    """The stack's URNs from before the refactor; a stack without them cannot be checked."""
    path = BASELINES / f"{stack}.txt"
    if not path.exists():
        pytest.fail(
            f"no URN baseline for stack {stack!r}: write {path.relative_to(REPO)} from the "
            "program as it is deployed (before changing it), one URN a line:\n"
            f"  .venv/bin/pyscale plan --stack {stack} --json | .venv/bin/python -c "
            '\'import json, sys; print(*sorted(r["urn"] for r in json.load(sys.stdin)'
            f'["resources"]), sep="\\n")\' > {path.relative_to(REPO)}'
        )
    return path.read_text().split()


def test_every_shipped_stack_is_checked() -> None:
    assert {"dev", "staging", "prod", "prod-ovh"} <= set(SHIPPED)


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_baseline_urn_is_kept(stack_run: Callable[[str], Run], stack: str) -> None:
    lost = diff.unaccounted(baseline(stack), stack_run(stack).resources)
    assert lost == [], f"{stack}: pulumi up would replace these resources: {lost}"


@pytest.mark.parametrize("stack", SHIPPED)
def test_each_baseline_urn_answers_to_one_resource(
    stack_run: Callable[[str], Run], stack: str
) -> None:
    """One resource per old URN (two would be an engine error), and every alias is a URN the
    stack had, or the URN the same resource had before the move (a node the baseline did not
    count yet: the capacity plan may add one); a mistyped alias would protect nothing."""
    old = set(baseline(stack))
    resources = stack_run(stack).resources
    types = {r.urn: r.type for r in resources}
    answers = Counter(urn for r in resources for urn in {r.urn, *r.aliases} if urn in old)
    assert [urn for urn, n in answers.items() if n > 1] == []
    for r in resources:
        before = r.urn.replace(f"${types.get(r.parent, '')}$", "$")
        ours = {a for a in r.aliases if not _kind_alias(a, r.urn)}
        assert ours <= old | {before}, f"{r.urn}: alias to no earlier URN: {r.aliases}"


def _kind_alias(alias: str, urn: str) -> bool:
    """pulumi-kubernetes aliases a kind to its older API groups itself (a Deployment to
    apps/v1beta1, extensions/v1beta1): the same name, another kubernetes: type."""
    kind = alias.split("::")[2].rpartition("$")[2]
    return (
        kind.startswith("kubernetes:")
        and alias.rpartition("::")[2] == urn.rpartition("::")[2]
        and kind.rpartition(":")[2] == urn.split("::")[2].rpartition(":")[2]
    )


def test_a_missing_alias_is_named(stack_run: Callable[[str], Run]) -> None:
    """The check can fail: the prod registrations with the PostgreSQL cluster's alias removed
    lose exactly the cluster's old URN."""
    resources = stack_run("prod").resources
    cluster = next(r for r in resources if r.name == "pyscale-prod-pg")
    (old_urn,) = cluster.aliases
    without = [dataclasses.replace(r, aliases=()) if r is cluster else r for r in resources]
    assert diff.unaccounted(baseline("prod"), without) == [old_urn]


def test_unaccounted_reads_urns_and_aliases() -> None:
    @dataclasses.dataclass(frozen=True)
    class Resource:
        urn: str
        aliases: tuple[str, ...] = ()

    kept, moved, lost = "urn:a", "urn:b", "urn:c"
    resources = [Resource(kept), Resource("urn:b2", aliases=(moved,))]
    assert diff.unaccounted([lost, moved, kept], resources) == [lost]
    assert diff.unaccounted([], resources) == []


def test_a_stack_without_a_baseline_says_how_to_make_one() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"pyscale plan --stack qa --json"):
        baseline("qa")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_plan_json_lists_the_aliases_of_moved_resources(
    capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    """`pyscale plan --json` shows each moved DigitalOcean resource's alias, and the alias is
    its URN before the move: the same URN without its part's type."""
    assert cli.main(["plan", "--stack", stack, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["resources"]
    old = set(baseline(stack))
    # Parts, health gates, the load balancer's and databases' alerts and the monitoring
    # node (with its tag) are new since the baseline, not moved: they alias nothing.
    moved = [
        r
        for r in rows
        if r["urn"] not in old
        and not r["type"].startswith(PART_PREFIX)
        and r["type"] != GATE_TYPE
        and not re.search(r"-alert-(lb|db)-|-monitor-|-tag-monitor$", r["name"])
    ]
    assert moved, f"{stack}: no resource moved into a part"
    for row in moved:
        part = next(r for r in rows if r["urn"] == row["parent"])
        assert row["aliases"] == [row["urn"].replace(f"${part['type']}$", "$")], row["urn"]
    # Only nodes the plan added since the baseline alias a URN it does not hold.
    new = [row["type"] for row in moved if row["aliases"][0] not in old]
    assert set(new) <= {"digitalocean:index/droplet:Droplet"}, stack
