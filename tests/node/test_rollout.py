"""`python -m bench.rollout`, short: real nodes replaced under load behind HAProxy through the
gate's own provider. A normal rollout replaces every node with no failed request; new nodes
that never become healthy abort it with no failed request and every old node serving; and
the baseline (old nodes stopped without draining) fails requests, so the first two can."""

from __future__ import annotations

import json

import pytest

from bench import rollout

ARGS = ["--nodes", "2", "--duration", "15", "--health-timeout", "12", "--json"]


def rehearse(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert rollout.main([*ARGS, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def events(result: dict, node: str) -> list[str]:
    return [e["event"] for e in result["timeline"] if e["node"] == node]


def test_a_rollout_replaces_every_node_without_a_failed_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = rehearse(capsys)
    assert result["requests"] > 1000
    assert result["errors"] == 0, result["outcomes"]
    assert (result["replaced"], result["aborted"]) == (2, False)
    for index in (1, 2):
        assert events(result, f"old-{index}") == ["started", "healthy", "draining", "gone"]
        assert events(result, f"new-{index}") == ["started", "healthy"]
    # One at a time: the second new node starts only once the first old one is gone.
    times = {(e["node"], e["event"]): e["t"] for e in result["timeline"]}
    assert times[("new-2", "started")] >= times[("old-1", "gone")]
    assert times[("old-1", "draining")] >= times[("new-1", "healthy")]


def test_new_nodes_that_never_pass_abort_the_rollout_with_the_old_ones_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = rehearse(capsys, "--break-new")
    assert result["errors"] == 0, result["outcomes"]
    assert (result["replaced"], result["aborted"]) == (0, True)
    assert "not healthy behind the load balancer within 12 s" in result["abort_reason"]
    assert events(result, "old-1") == ["started", "healthy"]  # never drained
    assert "new-2" not in {e["node"] for e in result["timeline"]}  # the next batch never ran


def test_without_the_drain_a_rollout_fails_requests(capsys: pytest.CaptureFixture[str]) -> None:
    result = rehearse(capsys, "--abrupt")
    assert result["replaced"] == 2
    assert result["errors"] > 0, result["outcomes"]
