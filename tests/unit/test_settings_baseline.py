"""The declaration-driven parser gives the same Settings as the hand-written one it replaced.

tests/unit/test_settings_baseline.json was written by the hand-written parser (before
pyscale/settings was split) for every shipped stack file, the bench stacks and a minimal
stack per cloud and environment; any change in a parsed value fails here. A setting added
since is recorded with its value (nodeImage: debian-13; workload.*, app.accessLog,
rollout.*, edge.*, monitoring.*, alerts.smtp*, alerts.errorPercent, platform, app.interface,
kubernetes.*, autoscale.*).
"""

import dataclasses
import json
from pathlib import Path

import pytest

from pyscale import settings

REPO = Path(__file__).resolve().parents[2]
BASELINE = json.loads((Path(__file__).with_name("test_settings_baseline.json")).read_text())


def as_json(parsed: settings.Settings) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(parsed)))


@pytest.mark.parametrize("name", sorted(BASELINE))
def test_same_settings_as_before(name: str) -> None:
    expected = BASELINE[name]
    if name.startswith("parse:"):
        parsed = settings.parse(expected["stack"], expected["raw"])
        expected = expected["settings"]
    else:
        path = REPO / name
        parsed = settings.load(path.name[len("Pulumi.") : -len(".yaml")], path.parent)
    assert as_json(parsed) == expected


def test_every_shipped_stack_is_in_the_baseline() -> None:
    shipped = {p.relative_to(REPO).as_posix() for p in REPO.glob("Pulumi.*.yaml")}
    shipped |= {p.relative_to(REPO).as_posix() for p in REPO.glob("bench/stacks/Pulumi.*.yaml")}
    assert shipped <= set(BASELINE), shipped - set(BASELINE)
