"""Every input the program registers, checked against the providers before a cloud sees it
(pyscale/offline/conformance.py): the input schema derived from the installed SDKs, and each
cloud's table of provider rules (enums, ranges, region availability) with their sources.

The shipped stacks and a set of variants must conform; doctored registrations show the check
names what the providers would refuse (an unknown input, LFU eviction on DigitalOcean,
PostgreSQL 14, PostgreSQL in EU-WEST-PAR, ...); and `pyscale plan` refuses a program whose
wiring drifted from a provider rule.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest

from pyscale import capacity, cli, clouds, offline, settings
from pyscale.offline import conformance

SHIPPED = ("dev", "staging", "prod", "prod-ovh", "prod-k8s", "prod-k8s-ovh", "prod-autoscale")
# name: (shipped stack, `pyscale:` keys changed, dotted for a group's key)
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "do-backups-off": ("prod", {"backups": "false"}),
    "do-no-replicas": ("prod", {"database.readReplicas": 0}),
    "do-replica-in-nyc2": ("prod", {"database.replicaRegion": "nyc2"}),
    "do-volatile-ttl": ("prod", {"cache.evictionPolicy": "volatile-ttl"}),
    "do-postgres-15": ("prod", {"database.version": "15"}),
    "do-session-pool": ("staging", {"database.poolMode": "session"}),
    "do-certificate": ("prod", {"tls": "certificate", "certificateName": "pyscale-prod"}),
    "do-fifty-nodes": (
        "prod",
        {"nodeCount": "50", "nodeSize": "s-2vcpu-4gb", "monitoring.node": False},
    ),
    "do-debian-12": ("prod", {"nodeImage": "debian-12"}),
    "do-singapore": ("staging", {"region": "sgp1"}),
    "do-100k": ("prod", {"targetConcurrency": "100000"}),
    "do-pool-on-memory": ("prod-autoscale", {"autoscale.memoryTarget": "0.8"}),
    "ovh-valkey-7": ("prod-ovh", {"cache.version": "7"}),
    "ovh-backups-off": ("prod-ovh", {"backups": "false"}),
    "ovh-beauharnois": ("prod-ovh", {"region": "BHS5"}),
    "ovh-business": ("prod-ovh", {"database.ovhPlan": "business"}),
    "ovh-60k": ("prod-ovh", {"targetConcurrency": "60000"}),
    "ovh-postgres-16": ("prod-ovh", {"database.version": "16"}),
}


def variant(stack: str, changes: dict[str, Any]) -> offline.Run:
    """An offline run of `stack` with `changes` (a group's keys dotted) as config overrides."""
    config, _ = settings.stack_config(stack, offline.REPO)
    overrides: dict[str, str] = {}
    for key, value in changes.items():
        group, _, name = key.rpartition(".")
        if group:
            full = f"pyscale:{group}"
            document = json.loads(overrides.get(full) or config[full])
            overrides[full] = json.dumps(document | {name: value})
        else:
            overrides[f"pyscale:{key}"] = str(value)
    return offline.run(stack, overrides=overrides)


@pytest.fixture(scope="module")
def runs() -> dict[str, offline.Run]:
    found = {stack: offline.run(stack) for stack in SHIPPED}
    found |= {name: variant(*case) for name, case in VARIANTS.items()}
    return found


def test_schema_covers_every_sdk_resource() -> None:
    """The schema is derived, not listed: every resource type each SDK registers, each with
    its inputs and their types (the counts are a floor, the SDKs only grow)."""
    for package, floor in (("digitalocean", 80), ("ovh", 150)):
        types = conformance.resource_types(package)
        assert len(types) >= floor, package
        for token, args in types.items():
            assert token.startswith(f"{package}:"), token
            assert conformance.pulumi_types.is_input_type(args), token


@pytest.mark.parametrize("name", [*SHIPPED, *VARIANTS])
def test_every_registration_conforms(runs: dict[str, offline.Run], name: str) -> None:
    run = runs[name]
    provider_resources = [r for r in run.resources if r.type.partition(":")[0] in conformance.SDKS]
    assert provider_resources, name
    assert conformance.check(run.resources, run.settings.cloud) == []


def test_variants_are_what_they_say(runs: dict[str, offline.Run]) -> None:
    """Each variant really changed the stack (a variant equal to its base checks nothing)."""
    for name, (stack, _) in VARIANTS.items():
        changed = [r.inputs for r in runs[name].resources]
        assert changed != [r.inputs for r in runs[stack].resources], name


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_rules_name_real_inputs(cloud: str) -> None:
    """A rule on a type or input the SDK does not have would never fire: each names a real
    resource type, a real input of it, and the inputs that select it."""
    for rule in clouds.get(cloud).provider_rules:
        args = conformance.resource_types(rule.type.partition(":")[0])[rule.type]
        inputs = conformance.pulumi_types.input_type_types(args)
        assert rule.path.split(".")[0].removesuffix("[]") in inputs, rule
        assert set(rule.when) <= set(inputs), rule
        assert rule.allowed or rule.minimum is not None or rule.maximum is not None, rule
        assert rule.fact.source, rule


def doctored(run: offline.Run, type_token: str, change: Any, engine: str | None = None) -> list:
    """The run's registrations with one resource of `type_token` changed by `change(inputs)`."""
    resources = [copy.deepcopy(r) for r in run.resources]
    index = next(
        i
        for i, r in enumerate(resources)
        if r.type == type_token
        and not offline.in_monitor(r)  # a web node, not the monitoring node
        and (engine is None or r.inputs.get("engine") == engine)
    )
    inputs = copy.deepcopy(resources[index].inputs)
    change(inputs)
    resources[index] = dataclasses.replace(resources[index], inputs=inputs)
    return resources


def setter(path: str, value: Any) -> Any:
    def change(inputs: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = inputs
        for part in parents:
            key, _, index = part.partition("[")
            target = target[key] if not index else target[key][int(index.rstrip("]"))]
        target[last] = value

    return change


def remover(key: str) -> Any:
    return lambda inputs: inputs.pop(key)


DROPLET = "digitalocean:index/droplet:Droplet"
CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster"
VALKEY_CONFIG = "digitalocean:index/databaseValkeyConfig:DatabaseValkeyConfig"
LB = "digitalocean:index/loadBalancer:LoadBalancer"
OVH_DATABASE = "ovh:CloudProject/database:Database"
OVH_LB = "ovh:index/cloudLoadbalancer:CloudLoadbalancer"

# name: (stack, type, engine, change, the finding's input path, words its text must hold)
DOCTORED = {
    "unknown input": ("prod", DROPLET, None, setter("sizeSlug", "c-16"), "inputs.sizeSlug",
                      ("unknown input",)),
    "wrong type": ("prod", LB, None, setter("sizeUnit", "6"), "inputs.sizeUnit",
                   ("expects an integer",)),
    "nested wrong type": ("prod", DROPLET, None, setter("backupPolicy.hour", "4"),
                          "inputs.backupPolicy.hour", ("expects an integer",)),
    "missing required": ("prod", DROPLET, None, remover("image"), "inputs.image",
                         ("required input missing",)),
    "LFU on DigitalOcean": ("prod", VALKEY_CONFIG, None,
                            setter("valkeyMaxmemoryPolicy", "allkeys-lfu"),
                            "inputs.valkeyMaxmemoryPolicy", ("allkeys-lfu", "PR #1505")),
    "PostgreSQL 14 on DigitalOcean": ("prod", CLUSTER, "pg", setter("version", "14"),
                                      "inputs.version", ("'14'", "version_availability.pg")),
    "Valkey 7 on DigitalOcean": ("prod", CLUSTER, "valkey", setter("version", "7"),
                                 "inputs.version", ("'7'", "options.valkey.versions")),
    "PostgreSQL in nyc2's Valkey": ("prod", CLUSTER, "valkey", setter("region", "nyc2"),
                                    "inputs.region", ("'nyc2'", "options.valkey.regions")),
    "too many size units": ("prod", LB, None, setter("sizeUnit", 101), "inputs.sizeUnit",
                            ("maximum 100",)),
    "backup window": ("prod", DROPLET, None, setter("backupPolicy.hour", 5),
                      "inputs.backupPolicy.hour", ("droplet_backup_policy.yml",)),
    "PostgreSQL in EU-WEST-PAR": ("prod-ovh", OVH_DATABASE, "postgresql",
                                  setter("nodes[0].region", "EU-WEST-PAR"),
                                  "inputs.nodes[0].region", ("'EU-WEST-PAR'", "no managed")),
    "PostgreSQL 14 on OVHcloud": ("prod-ovh", OVH_DATABASE, "postgresql",
                                  setter("version", "14"), "inputs.version",
                                  ("'14'", "lifecycle_policy")),
    "OVH flavor in lower case": ("prod-ovh", OVH_LB, None, setter("flavorName", "small"),
                                 "inputs.flavorName", ("'small'", "SMALL")),
}  # fmt: skip


@pytest.mark.parametrize("name", DOCTORED)
def test_doctored_registration_is_named(runs: dict[str, offline.Run], name: str) -> None:
    stack, type_token, engine, change, path, words = DOCTORED[name]
    run = runs[stack]
    findings = conformance.check(doctored(run, type_token, change, engine), run.settings.cloud)
    assert [f.path for f in findings] == [path], findings
    (finding,) = findings
    assert f"{type_token}::" in finding.urn
    for word in words:
        assert word in str(finding), (word, str(finding))


def test_every_doctoring_at_once_is_each_named(runs: dict[str, offline.Run]) -> None:
    """One run holding several mistakes gets one finding for each, not just the first."""
    run = runs["prod"]
    wanted = ("LFU on DigitalOcean", "PostgreSQL 14 on DigitalOcean", "too many size units")
    for name in wanted:
        _, type_token, engine, change, _, _ = DOCTORED[name]
        run = dataclasses.replace(run, resources=doctored(run, type_token, change, engine))
    findings = conformance.check(run.resources, "digitalocean")
    assert sorted(f.path for f in findings) == sorted(DOCTORED[name][4] for name in wanted)


def test_plan_refuses_wiring_that_drifts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program edit the settings cannot see (the droplet backup window moved off the
    provider's 4-hour grid) stops `pyscale plan` with the input, the value and the source."""
    import pulumi_digitalocean as do

    from components.digitalocean import nodes

    moved = do.DropletBackupPolicyArgs(plan="weekly", weekday="SAT", hour=5)
    monkeypatch.setattr(nodes, "BACKUP_POLICY", moved)
    assert cli.main(["plan", "--stack", "prod"]) == 2
    err = capsys.readouterr().err
    assert "backupPolicy.hour: 5 is not one the provider takes (0, 4, 8, 12, 16, 20)" in err
    assert "droplet_backup_policy.yml" in err
    nodes = capacity.plan(settings.load("prod", offline.REPO)).nodes
    assert err.count("digitalocean:index/droplet:Droplet::") == nodes  # every node, each named
