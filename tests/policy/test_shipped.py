"""The policy pack over the shipped stacks, as `pyscale plan` runs it.

Every rule passes on dev, staging, prod, prod-ovh and prod-autoscale; a doctored registration
of the real program (one edit) makes exactly the matching rule fire against that resource, and
`plan` exits non-zero on a stack file that breaks a mandatory rule.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from policy import offline as policy_offline
from policy import rules
from pyscale import cli, offline, settings

STACKS = ("dev", "staging", "prod", "prod-ovh", "prod-autoscale")
DROPLET_POOL = "digitalocean:index/dropletAutoscale:DropletAutoscale"
REPO = Path(__file__).resolve().parents[2]

Shipped = Callable[[str], offline.Run]


def verdicts(run: offline.Run, resources: list[offline.Registered] | None = None):
    return policy_offline.evaluate(
        run.resources if resources is None else resources,
        run.outputs,
        run.config,
    )


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("policy", [p.name for p in rules.POLICIES])
def test_shipped_stack_passes(stack_run: Shipped, stack: str, policy: str) -> None:
    found = [v for v in verdicts(stack_run(stack)) if v.policy == policy]
    assert found == [], found


def doctor(run: offline.Run, name: str, **changes) -> tuple[list[offline.Registered], str]:
    """A copy of the registrations with `name` changed: `inputs` keys or dataclass fields."""
    resources = copy.deepcopy(run.resources)
    index = next(i for i, r in enumerate(resources) if r.name == name and r.custom)
    target = resources[index]
    fields = {k: v for k, v in changes.items() if k in {f.name for f in dataclasses.fields(target)}}
    inputs = {**target.inputs, **{k: v for k, v in changes.items() if k not in fields}}
    resources[index] = dataclasses.replace(target, inputs=inputs, **fields)
    return resources, target.urn


def only(run: offline.Run, resources: list[offline.Registered], policy: str, urn: str) -> None:
    found = verdicts(run, resources)
    assert found, f"{policy} did not fire"
    assert {(v.policy, v.resource) for v in found} == {(policy, urn)}, found


def test_ssh_from_anywhere_on_the_prod_firewall(stack_run: Shipped) -> None:
    run = stack_run("prod")
    firewall = next(r for r in run.resources if r.type == rules.DO_FIREWALL)
    opened = [*firewall.inputs["inboundRules"],
              {"protocol": "tcp", "portRange": "22", "sourceAddresses": ["0.0.0.0/0"]}]  # fmt: skip
    resources, urn = doctor(run, firewall.name, inboundRules=opened)
    only(run, resources, "ssh-not-public", urn)


def test_prod_database_without_protect(stack_run: Shipped) -> None:
    run = stack_run("prod")
    resources, urn = doctor(run, "pyscale-prod-pg", protect=False)
    only(run, resources, "prod-database-protected", urn)


def test_user_data_no_longer_secret(stack_run: Shipped) -> None:
    run = stack_run("staging")
    resources, urn = doctor(run, "pyscale-staging-node-2", secret_inputs=frozenset())
    only(run, resources, "no-plaintext-secrets", urn)


def test_ovh_database_opened_to_the_internet(stack_run: Shipped) -> None:
    run = stack_run("prod-ovh")
    resources, urn = doctor(run, "pyscale-prod-ovh-cache-valkey",
                            ipRestrictions=[{"ip": "0.0.0.0/0"}])  # fmt: skip
    only(run, resources, "data-stores-private", urn)


def test_droplet_dropped_out_of_the_vpc(stack_run: Shipped) -> None:
    run = stack_run("prod")
    node = next(r for r in run.resources if r.type == rules.DO_DROPLET)
    vpc = next(r.urn for r in run.resources if r.type == rules.DO_VPC)
    options = {**node.options, "dependencies": [d for d in node.options["dependencies"]
                                                if d != vpc]}  # fmt: skip
    resources, urn = doctor(run, node.name, options=options, vpcUuid="")
    only(run, resources, "nodes-in-private-network", urn)


def test_pool_user_data_no_longer_secret(stack_run: Shipped) -> None:
    run = stack_run("prod-autoscale")
    pool = next(r for r in run.resources if r.type == DROPLET_POOL)
    resources, urn = doctor(run, pool.name, secret_inputs=frozenset())
    only(run, resources, "no-plaintext-secrets", urn)


def test_pool_dropped_out_of_the_vpc(stack_run: Shipped) -> None:
    run = stack_run("prod-autoscale")
    pool = next(r for r in run.resources if r.type == DROPLET_POOL)
    vpc = next(r.urn for r in run.resources if r.type == rules.DO_VPC)
    options = {**pool.options, "dependencies": [d for d in pool.options["dependencies"]
                                                if d != vpc]}  # fmt: skip
    template = {**pool.inputs["dropletTemplate"], "vpcUuid": ""}
    resources, urn = doctor(run, pool.name, options=options, dropletTemplate=template)
    only(run, resources, "nodes-in-private-network", urn)


@pytest.mark.parametrize("bound", ["minInstances", "maxInstances"])
def test_pool_bounds_off_the_plan(stack_run: Shipped, bound: str) -> None:
    """The pool's bounds are the plan's: its maximum is what every budget was checked at."""
    run = stack_run("prod-autoscale")
    pool = next(r for r in run.resources if r.type == DROPLET_POOL)
    config = {**pool.inputs["config"], bound: pool.inputs["config"][bound] + 1}
    resources, _ = doctor(run, pool.name, config=config)
    stack = next(r.urn for r in run.resources if r.type.endswith(":WebStack"))
    found = verdicts(run, resources)
    assert [(v.policy, v.resource) for v in found] == [("capacity-consistent", stack)], found


def test_plain_secret_export(stack_run: Shipped) -> None:
    run = stack_run("prod-ovh")
    outputs = {**run.outputs, "cache_uri": (run.outputs["cache_uri"][0], False)}
    found = policy_offline.evaluate(run.resources, outputs)
    assert [(v.policy, v.resource.split("::")[-1]) for v in found] == [
        ("no-plaintext-secrets", "pyscale-prod-ovh")
    ]
    assert "cache_uri" in found[0].message


def test_plain_secret_in_stack_config(stack_run: Shipped) -> None:
    run = stack_run("dev")
    values, secret_keys = settings.stack_config("dev", offline.REPO)
    leaked = {**values, "pyscale:alertSlackUrl": "https://hooks.slack.com/services/T/B/x",
              "pyscale:adminToken": "s3cr3t"}  # fmt: skip
    found = policy_offline.evaluate(run.resources, run.outputs, (leaked, secret_keys))
    assert [(v.policy, v.enforcement, v.resource) for v in found] == [
        ("no-plaintext-secrets", "mandatory", "pyscale:adminToken")
    ]


def test_violation_fields_for_the_plan_json(stack_run: Shipped) -> None:
    run = stack_run("prod")
    resources, urn = doctor(run, "pyscale-prod-lb", redirectHttpToHttps=False)
    (violation,) = verdicts(run, resources)
    assert vars(violation) == {
        "policy": "load-balancer-https",
        "enforcement": "mandatory",
        "resource": urn,
        "message": "pyscale-prod-lb: redirectHttpToHttps is not true",
    }


def test_plan_exits_non_zero_on_a_mandatory_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting the parser accepts but a mandatory policy refuses (SSH from everywhere is
    now refused before any policy runs: tests/unit/test_guardrails.py)."""
    text = (REPO / "Pulumi.prod.yaml").read_text()
    assert "pyscale:protect: true" in text
    (tmp_path / "Pulumi.prod.yaml").write_text(
        text.replace("pyscale:protect: true", "pyscale:protect: false")
    )
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    code = cli.main(["--stack-dir", str(tmp_path), "plan", "--stack", "prod"])
    out = capsys.readouterr().out
    assert code != 0
    assert "[mandatory] prod-database-protected" in out and "pyscale-prod-pg" in out
