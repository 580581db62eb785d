"""The one mock engine, held to a contract: pyscale.offline.Mocks, serving each cloud's
answers from pyscale/clouds/<cloud>/mocks.py, is the only `pulumi.runtime.Mocks` there is
(`pyscale plan` and every stack test use it), so what it answers must look like the cloud.

Every resource type the program registers, in every shipped stack and in the variants that
take other branches (one node without TLS, an uploaded certificate, OVHcloud's essential
plan), gets: a non-empty id, unique within its type; addresses that parse as IPv4 in the
documentation or private ranges; URIs with a scheme, a host and a port; ports a socket can
have; and a password wherever the provider returns one. The checks read only what the
mocks add to a resource (inputs pass through, and are the program's to get right). A type or
an invoke the mocks do not know fails loudly instead of getting made-up answers.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pytest

from pyscale import clouds, offline
from pyscale.offline import Registered
from tests.stacks.variants import run_as

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO.glob("Pulumi.*.yaml"))
# Variants that take branches the shipped stacks do not: (stack file, stack it runs as,
# config overrides). A prod stack refuses one node and plaintext, so that variant runs the
# prod-ovh file as a staging stack.
VARIANTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "dev, tls off": ("dev", "dev", {"pyscale:tls": "off"}),
    # One node for prod's 50,000: requests that wait 10 s (5,000 req/s) fit its CPU.
    "prod-ovh as staging, one node, tls off": (
        "prod-ovh",
        "staging-ovh",
        {
            "pyscale:environment": "staging",
            # Alerts on OVHcloud go through the monitoring node, off by default in staging.
            "pyscale:monitoring": '{"node": true}',
            "pyscale:nodeCount": "1",
            "pyscale:tls": "off",
            "pyscale:workload": '{"latencyMs": 10000}',
        },
    ),
    "prod, uploaded certificate": (
        "prod",
        "prod",
        {"pyscale:tls": "certificate", "pyscale:certificateName": "pyscale-prod-2025"},
    ),
    "prod-ovh, essential plan": (
        "prod-ovh",
        "prod-ovh",
        {"pyscale:database": '{"size": "db1-15", "ovhPlan": "essential"}'},
    ),
}
CASES = [*SHIPPED, *VARIANTS]
# Where the providers return a password (their schemas' `password` outputs).
PASSWORDS = {
    "digitalocean:index/databaseCluster:DatabaseCluster",
    "digitalocean:index/databaseReplica:DatabaseReplica",
    "digitalocean:index/databaseUser:DatabaseUser",
    "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    "ovh:CloudProjectDatabase/postgresSqlUser:PostgresSqlUser",
    "ovh:index/cloudProjectDatabaseValkeyUser:CloudProjectDatabaseValkeyUser",
}
# RFC 5737 documentation ranges (public addresses) and RFC 1918 private ones.
ALLOWED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
              "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)  # fmt: skip


@cache
def run(case: str) -> offline.Run:
    source, name, overrides = VARIANTS.get(case, (case, case, {}))
    return run_as(source, name, overrides)


def custom(r: offline.Run) -> list[Registered]:
    return [x for x in r.resources if x.custom and not x.type.startswith("pulumi:providers:")]


def answered(resource: Registered) -> dict[str, Any]:
    """What the mocks added to a resource: outputs that are not its inputs passed through."""
    return {
        key: value
        for key, value in resource.outputs.items()
        if key not in resource.inputs or resource.inputs[key] != value
    }


def fields(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every field in nested outputs, leaves and branches alike."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else key
            yield here, key, inner
            yield from fields(inner, here)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from fields(inner, f"{path}[{index}]")


def kind(key: str) -> str | None:
    """What a field holds, judged by its name as the providers spell them."""
    name = key.lower()
    if name == "ip" or name.endswith("ip") or name.startswith("ipv4address"):
        return "ip"
    if name.endswith("uri"):
        return "uri"
    if name.endswith("port"):
        return "port"
    return None


def field_problem(key: str, value: Any) -> str | None:
    """What is wrong with one field; None when it looks right."""
    match kind(key):
        case "ip":
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                return f"{value!r} is not an IP address"
            if address.version != 4 or not any(address in n for n in ALLOWED_NETWORKS):
                return f"{value} is not IPv4 in a documentation or private range"
        case "uri":
            try:
                parts = urlsplit(value)
                port = parts.port
            except (TypeError, ValueError) as error:
                return f"{value!r} does not parse as a URI: {error}"
            if not (parts.scheme and parts.hostname and "." in parts.hostname and port):
                return f"{value!r} lacks a scheme, a DNS host or a port"
        case "port":
            if not (type(value) is int and 1 <= value <= 65535):
                return f"{value!r} is not a port"
    return None


def problems(resource: Registered) -> list[str]:
    """Every way the mocks' answer for `resource` falls short of the contract."""
    found = []
    if not isinstance(resource.id, str) or not resource.id:
        found.append("empty id")
    for path, key, value in fields(answered(resource)):
        problem = field_problem(key, value)
        if problem:
            found.append(f"{path}: {problem}")
    password = resource.outputs.get("password")
    if resource.type in PASSWORDS and not (isinstance(password, str) and password):
        found.append("no password, where the provider returns one")
    return [f"{resource.urn}: {p}" for p in found]


@pytest.mark.parametrize("case", CASES)
def test_every_registered_type_gets_realistic_outputs(case: str) -> None:
    resources = custom(run(case))
    assert resources, case
    assert [p for r in resources for p in problems(r)] == []


@pytest.mark.parametrize("case", CASES)
def test_ids_are_unique_within_a_type(case: str) -> None:
    ids = Counter((r.type, r.id) for r in custom(run(case)))
    assert [key for key, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("case", ["prod", "prod-ovh"])
def test_the_contract_reads_addresses_uris_and_ports(case: str) -> None:
    """The field checks are not vacuous: each cloud's answers hold every kind they judge."""
    kinds = {kind(key) for r in custom(run(case)) for _, key, _ in fields(answered(r))}
    assert kinds >= {"ip", "uri", "port"}


def test_the_contract_covers_every_password_type() -> None:
    """The password table is not vacuous: the program registers each of its types."""
    used = {r.type for case in CASES for r in custom(run(case))}
    assert used >= PASSWORDS


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("droplet", "ipv4Address", "8.8.8.8"),
        ("droplet", "ipv4Address", "2001:db8::1"),
        ("database cluster", "privateUri", "postgresql://doadmin:x@host.example/defaultdb"),
        ("database cluster", "privateUri", "postgresql://pyscale-pool:25061?sslmode=require"),
        ("database cluster", "port", 0),
        ("database cluster", "port", "25060"),
        ("database cluster", "password", ""),
        ("database cluster", "id", ""),
    ],
)
def test_an_unrealistic_answer_fails_the_contract(name: str, key: str, value: Any) -> None:
    """The contract can fail: one doctored field of a real answer breaks it."""
    r = run("prod")
    kind = {"droplet": "droplet:Droplet", "database cluster": "databaseCluster:DatabaseCluster"}
    resource = next(x for x in custom(r) if x.type.endswith(kind[name]))
    assert problems(resource) == []
    if key == "id":
        doctored = dataclasses.replace(resource, id=value)
    else:
        doctored = dataclasses.replace(resource, outputs={**resource.outputs, key: value})
    assert problems(doctored), f"{key} = {value!r} passed"


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_an_unknown_resource_type_fails_loudly(cloud: str) -> None:
    args = pulumi.runtime.MockResourceArgs(
        typ=f"{cloud}:index/unknown:Unknown", name="x", inputs={}, custom=True
    )
    with pytest.raises(offline.UnknownToMocks, match=f"{cloud}:index/unknown:Unknown"):
        offline.Mocks(cloud).new_resource(args)


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_an_unknown_invoke_fails_loudly(cloud: str) -> None:
    args = pulumi.runtime.MockCallArgs(
        token=f"{cloud}:index/getUnknown:getUnknown", args={}, provider=""
    )
    with pytest.raises(offline.UnknownToMocks, match=f"{cloud}:index/getUnknown:getUnknown"):
        offline.Mocks(cloud).call(args)
