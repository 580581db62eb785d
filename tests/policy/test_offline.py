"""policy/offline.py on its own: the registration shapes it reads and what it reports."""

from __future__ import annotations

from types import SimpleNamespace

from policy import offline, rules

STACK = "urn:pulumi:prod::pyscale::"


def registration(type_: str, name: str, **fields) -> SimpleNamespace:
    return SimpleNamespace(type=type_, name=name, urn=f"{STACK}{type_}::{name}", **fields)


def test_contract_shape_props_parent_urn_dependencies() -> None:
    """The documented duck type: `.props`, `.parent_urn`, `.protect`, `.dependencies`."""
    webstack = registration(
        "pyscale:digitalocean:WebStack", "pyscale-prod",
        props={"environment": "prod", "nodeCount": 1, "nodeSize": "c-16"}, protect=None,
    )  # fmt: skip
    vpc = registration(rules.DO_VPC, "vpc", props={}, parent_urn=webstack.urn)
    droplet = registration(
        rules.DO_DROPLET, "node-1", props={"size": "c-16", "vpcUuid": "v"},
        parent_urn=webstack.urn, protect=False, dependencies=[vpc.urn],
    )  # fmt: skip
    found = offline.evaluate([webstack, vpc, droplet])
    assert [(v.policy, v.enforcement, v.resource) for v in found] == [
        ("prod-node-redundancy", "advisory", webstack.urn)
    ]


def test_recorder_shape_inputs_secret_inputs_options() -> None:
    """pyscale.offline.Registered: `.inputs`, `.secret_inputs`, `.options["dependencies"]`."""
    stack = registration(
        "pyscale:digitalocean:WebStack", "pyscale-staging",
        inputs={"environment": "staging", "nodeCount": 1, "nodeSize": "c-4"},
        secret_inputs=frozenset(), parent="", protect=False, options={"dependencies": []},
    )  # fmt: skip
    node = registration(
        rules.DO_DROPLET, "node-1",
        inputs={"size": "c-4", "vpcUuid": "", "userData": "DATABASE_URL=postgresql://u:p@h/db"},
        secret_inputs=frozenset({"userData"}), parent=stack.urn, protect=False,
        options={"dependencies": []},
    )  # fmt: skip
    found = offline.evaluate([stack, node])
    assert {v.policy for v in found} == {"nodes-in-private-network"}
    exposed = offline.evaluate([stack, SimpleNamespace(**{**vars(node), "secret_inputs": set()})])
    assert "no-plaintext-secrets" in {v.policy for v in exposed}


def test_providers_are_not_policy_subjects() -> None:
    provider = registration(
        "pulumi:providers:digitalocean", "default", inputs={"token": "dop_v1_secret"}
    )
    assert offline.evaluate([provider]) == []


def test_stack_wide_findings_name_the_stack() -> None:
    orphan = registration(rules.DO_DROPLET, "node-1", props={"size": "c-4", "vpcUuid": "v"})
    found = [v for v in offline.evaluate([orphan]) if v.policy == "capacity-consistent"]
    assert [v.resource for v in found] == ["prod"]
