"""schema/stack.schema.json with the real validator (check-jsonschema, a subprocess): it accepts
every shipped stack file and refuses what the parser refuses, naming the key.

Each crafted stack is a shipped one with a few `pyscale:` keys changed, checked by both the
schema and the parser (pyscale.settings), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pyscale import settings
from pyscale.settings import reference

REPO = reference.REPO
SCHEMA = REPO / reference.SCHEMA
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
SHIPPED = sorted(REPO.glob("Pulumi.*.yaml")) + sorted(REPO.glob("bench/stacks/Pulumi.*.yaml"))
DROP = object()  # a change that removes the key
SECURE = {"secure": "v1:AAAA"}

# name: (shipped stack it starts from, `pyscale:` keys changed, nested keys changed)
REFUSED: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "unknown-key": ("prod", {"targetConcurency": 50000}, {}),
    "unknown-nested-key": ("prod", {}, {"database.replicas": 2}),
    "out-of-range": ("prod", {"targetConcurrency": 0}, {}),
    "size-of-the-other-cloud": ("prod-ovh", {"nodeSize": "c-16"}, {}),
    "region-of-the-other-cloud": ("prod", {"region": "GRA11"}, {}),
    "tls-no-cloud-has": ("prod-ovh", {"tls": "acme"}, {}),
    "ovh-monitoring-token": ("prod-ovh", {"monitoringToken": SECURE}, {}),
    "ovh-standby-nodes": ("prod-ovh", {}, {"database.standbyNodes": 1}),
    "ovh-maintenance-day": ("prod-ovh", {}, {"database.maintenanceDay": "monday"}),
    "ovh-replica-region": ("prod-ovh", {}, {"database.replicaRegion": "GRA11"}),
    "ovh-eviction-policy": ("prod-ovh", {}, {"cache.evictionPolicy": "allkeys-lru"}),
    "ovh-two-ssh-keys": ("prod-ovh", {"sshKeys": ["ops", "backup"]}, {}),
    "ovh-without-project": ("prod-ovh", {"ovhServiceName": DROP}, {}),
    "digitalocean-ovh-plan": ("prod", {}, {"database.ovhPlan": "business"}),
    "digitalocean-ovh-project": ("prod", {"ovhServiceName": "0123456789abcdef" * 2}, {}),
    # What the providers would refuse or not honour (docs/providers.md).
    "digitalocean-lfu": ("prod", {}, {"cache.evictionPolicy": "allkeys-lfu"}),
    "digitalocean-valkey-7": ("prod", {}, {"cache.version": "7"}),
    "digitalocean-postgres-14": ("prod", {}, {"database.version": 14}),
    "digitalocean-postgres-8vcpu": ("prod", {}, {"database.size": "db-s-8vcpu-32gb"}),
    "digitalocean-region-without-valkey": ("prod", {"region": "nyc2"}, {}),
    "digitalocean-past-trusted-sources": ("prod", {"nodeCount": 51}, {}),
    "ovh-postgres-in-paris": ("prod-ovh", {"region": "EU-WEST-PAR"}, {}),
    "ovh-postgres-14": ("prod-ovh", {}, {"database.version": "14"}),
}
ACCEPTED: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # `pulumi config set` writes scalars as strings.
    "config-set-strings": ("prod", {"targetConcurrency": "50000", "protect": "true"},
                           {"database.readReplicas": "2"}),
    "yaml-number-version": ("staging", {}, {"database.version": 16}),
    "secret-slack-url": ("prod", {"alertSlackUrl": SECURE}, {}),
    "ovh-slack-url": ("prod-ovh", {"alertSlackUrl": SECURE}, {}),
    "secret-monitoring-token": ("prod", {"monitoringToken": SECURE}, {}),
    "one-ssh-key-on-ovh": ("prod-ovh", {"sshKeys": ["ops"]}, {}),
    "backups-off-on-ovh": ("prod-ovh", {"backups": False}, {}),
    "valkey-7-on-ovh": ("prod-ovh", {}, {"cache.version": "7"}),
    "replica-in-nyc2": ("prod", {}, {"database.replicaRegion": "nyc2"}),
    "trusted-sources-full": ("prod", {"nodeCount": 49}, {}),
    "cloud-left-to-its-default": ("staging", {"cloud": DROP}, {}),
}  # fmt: skip
# The schema alone: a secret in clear text parses (the Pulumi wiring reads it), but a stack
# file must never hold it; the policy pack refuses it too (no-plaintext-secrets).
SCHEMA_ONLY = {"plain-slack-url": ("prod", {"alertSlackUrl": "https://hooks.slack.com/x"}, {})}


def crafted(directory: Path, name: str, case: tuple[str, dict, dict]) -> Path:
    stack, top, nested = case
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    config = document["config"]
    for key, value in top.items():
        if value is DROP:
            del config[f"pyscale:{key}"]
        else:
            config[f"pyscale:{key}"] = value
    for dotted, value in nested.items():
        group, _, key = dotted.partition(".")
        config.setdefault(f"pyscale:{group}", {})[key] = value
    config.update({"digitalocean:token": dict(SECURE), "pulumi:tags": {"team": "web"}})
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def check(*paths: Path, output: str = "text") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "-o", output, "--schemafile", str(SCHEMA), *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every crafted stack checked in one run: its schema errors (path and message) by name."""
    directory = tmp_path_factory.mktemp("stacks")
    cases = {**REFUSED, **ACCEPTED, **SCHEMA_ONLY}
    paths = {name: crafted(directory, name, case) for name, case in cases.items()}
    result = check(*paths.values(), output="json")
    report = json.loads(result.stdout)
    assert not report["parse_errors"], report["parse_errors"]
    errors: dict[str, list[str]] = {name: [] for name in cases}
    for error in report["errors"]:
        name = Path(error["filename"]).name[len("Pulumi.") : -len(".yaml")]
        errors[name].append(f"{error['path']}: {error['message']}")
    return errors


def parsed(name: str, case: tuple[str, dict, dict], directory: Path) -> settings.Settings:
    config, _ = settings.read_stack_file(crafted(directory, name, case))
    return settings.from_pulumi_config(name, config)


def test_every_shipped_stack_file_is_valid() -> None:
    assert len(SHIPPED) >= 4
    result = check(*SHIPPED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_shipped_stack_file_names_the_schema() -> None:
    for path in REPO.glob("Pulumi.*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=schema/stack.schema.json", path.name


def test_a_bad_stack_file_fails_the_command(tmp_path: Path) -> None:
    result = check(crafted(tmp_path, "unknown-key", REFUSED["unknown-key"]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pyscale:targetConcurency" in result.stdout


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_schema_and_parser_both_refuse(name: str, verdicts: dict, tmp_path: Path) -> None:
    _, top, nested = REFUSED[name]
    key = [*top, *(k.partition(".")[2] for k in nested)][0]
    assert any(key in error for error in verdicts[name]), (name, verdicts[name])
    with pytest.raises(settings.SettingsError) as caught:
        parsed(name, REFUSED[name], tmp_path)
    assert any(key in p.key for p in caught.value.problems), caught.value


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_schema_and_parser_both_accept(name: str, verdicts: dict, tmp_path: Path) -> None:
    assert verdicts[name] == []
    parsed(name, ACCEPTED[name], tmp_path)


def test_a_secret_in_clear_text_is_refused_by_the_schema(verdicts: dict) -> None:
    assert any("alertSlackUrl" in error for error in verdicts["plain-slack-url"])
