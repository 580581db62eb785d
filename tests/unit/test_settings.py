"""pyscale/settings: bad input is refused naming the key, the value and what is allowed."""

import ipaddress
from pathlib import Path

import pytest

from pyscale import settings

REPO = Path(__file__).resolve().parents[2]
OVH = {"cloud": "ovh", "ovhServiceName": "0123456789abcdef0123456789abcdef",
       "tls": "certificate", "certificateName": "pyscale-prod"}  # fmt: skip


def problems(stack: str, raw: dict) -> list[settings.Problem]:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse(stack, raw)
    return caught.value.problems


def only_problem(raw: dict, stack: str = "prod") -> settings.Problem:
    found = problems(stack, {"domain": "app.example.com", **raw})
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "prod-ovh"])
def test_shipped_stack_files_are_valid(stack: str) -> None:
    loaded = settings.load(stack, REPO)
    assert loaded.stack == stack
    assert loaded.environment == stack.split("-")[0]


def test_prod_stack_reads_the_file_values() -> None:
    prod = settings.load("prod", REPO)
    assert (prod.cloud, prod.region, prod.target_concurrency) == ("digitalocean", "fra1", 50_000)
    assert (prod.node_size.vcpus, prod.node_size.memory_gib) == (16, 32)
    assert prod.database.read_replicas == 2
    assert prod.protect is True
    assert prod.ssh_allow_cidrs == ()


def test_negative_target_concurrency_names_key_value_and_range() -> None:
    problem = only_problem({"targetConcurrency": "-5"})
    assert problem.key == "targetConcurrency"
    assert problem.value == "-5"
    assert "whole number from 1" in problem.allowed
    assert "pyscale:targetConcurrency = '-5'" in str(problem)


def test_wrong_type_is_refused() -> None:
    problem = only_problem({"targetConcurrency": "lots"})
    assert (problem.key, problem.value) == ("targetConcurrency", "lots")


def test_boolean_where_number_expected_is_refused() -> None:
    assert only_problem({"nodeCount": True}).key == "nodeCount"


def test_unknown_cloud_lists_the_clouds() -> None:
    problem = only_problem({"cloud": "aws"})
    assert problem.key == "cloud"
    assert "digitalocean, ovh" in problem.allowed


def test_unknown_node_size_lists_the_known_sizes() -> None:
    problem = only_problem({"nodeSize": "m-99"})
    assert problem.key == "nodeSize"
    assert problem.value == "m-99"
    assert "c-16" in problem.allowed and "s-2vcpu-4gb" in problem.allowed


def test_node_size_of_the_other_cloud_is_unknown() -> None:
    found = problems("prod", {**OVH, "nodeSize": "c-16"})
    assert [p.key for p in found] == ["nodeSize"]
    assert "c3-32" in found[0].allowed


def test_too_many_read_replicas() -> None:
    problem = only_problem({"database": {"readReplicas": 9}})
    assert problem.key == "database.readReplicas"
    assert "0 to 5" in problem.allowed


def test_replicas_beyond_the_ovh_plan_are_refused() -> None:
    found = problems("prod", {**OVH, "database": {"ovhPlan": "business", "readReplicas": 2}})
    assert [p.key for p in found] == ["database.readReplicas"]
    assert "business" in found[0].allowed


def test_ovh_replicas_follow_the_plan_when_unset() -> None:
    parsed = settings.parse("prod", {**OVH, "database": {"ovhPlan": "enterprise"}})
    assert parsed.database.read_replicas == 2


def test_misspelt_key_is_refused_not_ignored() -> None:
    problem = only_problem({"targetConcurency": 5})
    assert problem.key == "targetConcurency"
    assert "targetConcurrency" in problem.allowed


def test_misspelt_nested_key_is_refused() -> None:
    assert only_problem({"database": {"replicas": 1}}).key == "database.replicas"


def test_every_problem_is_reported_together() -> None:
    found = problems(
        "prod",
        {"targetConcurrency": "-5", "nodeSize": "m-99", "cloud": "digitalocean",
         "sshAllowCidrs": ["0.0.0.0/0", "10.0.0.1/8"]},
    )  # fmt: skip
    keys = {p.key for p in found}
    assert {"targetConcurrency", "nodeSize", "sshAllowCidrs", "tls"} <= keys
    message = str(settings.SettingsError("prod", found))
    assert "Pulumi.prod.yaml" in message and message.count("\n  - ") == len(found)


def test_ssh_cidr_must_be_a_network() -> None:
    problem = only_problem({"sshAllowCidrs": ["10.0.0.1/8"]})
    assert problem.key == "sshAllowCidrs" and problem.value == "10.0.0.1/8"


def test_ssh_cidrs_arrive_json_encoded_from_the_engine() -> None:
    parsed = settings.parse(
        "prod", {"domain": "a.example.com", "sshAllowCidrs": '["198.51.100.0/24"]'}
    )
    assert parsed.ssh_allow_cidrs == ("198.51.100.0/24",)


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("8.8.8.0/24", "not inside 10.0.0.0/8"),
        ("100.64.0.0/20", "not inside 10.0.0.0/8"),  # shared address space, not RFC 1918
        ("10.0.0.0/8", "has a /8 prefix"),
        ("10.110.0.0/29", "has a /29 prefix"),
        ("10.110.0.1/20", "must be an RFC 1918"),  # host bits set
        ("fd00::/48", "not inside 10.0.0.0/8"),
    ],
)
def test_vpc_cidr_outside_what_the_clouds_take_is_refused(cidr: str, why: str) -> None:
    problem = only_problem({"vpcCidr": cidr})
    assert (problem.key, problem.value) == ("vpcCidr", cidr)
    assert why in problem.allowed
    assert "/16 to /28" in problem.allowed


def test_each_environment_defaults_to_its_own_vpc_range() -> None:
    ranges = {
        env: settings.parse(env, {"domain": "a.example.com"}).vpc_cidr
        for env in ("dev", "staging", "prod")
    }
    assert len(set(ranges.values())) == 3, ranges


def test_shipped_stacks_of_one_cloud_have_disjoint_vpc_ranges() -> None:
    """DigitalOcean refuses a VPC whose range overlaps another in the same account, so the
    second stack's `pulumi up` would fail if two shipped stacks shared one."""
    stacks = [settings.load(name, REPO) for name in settings.stack_names(REPO)]
    assert len(stacks) >= 4
    for a in stacks:
        for b in stacks:
            if a.stack < b.stack and a.cloud == b.cloud:
                overlap = ipaddress.ip_network(a.vpc_cidr).overlaps(
                    ipaddress.ip_network(b.vpc_cidr)
                )
                assert not overlap, (a.stack, a.vpc_cidr, b.stack, b.vpc_cidr)


def test_managed_tls_needs_a_domain() -> None:
    found = problems("prod", {"tls": "managed"})
    assert [(p.key, p.value) for p in found] == [("tls", "managed")]


def test_managed_tls_is_not_offered_by_ovh() -> None:
    found = problems("prod", {**OVH, "tls": "managed", "domain": "a.example.com"})
    assert [p.key for p in found] == ["tls"]
    assert "OVHcloud" in found[0].allowed


def test_certificate_mode_needs_a_certificate_name() -> None:
    assert only_problem({"tls": "certificate"}).key == "certificateName"


def test_ovh_needs_its_project_id() -> None:
    found = problems("staging", {"cloud": "ovh", "tls": "off"})
    assert [p.key for p in found] == ["ovhServiceName"]


def test_custom_module_without_repo_is_refused() -> None:
    assert only_problem({"app": {"module": "myapp.wsgi:app"}}).key == "app.module"


def test_custom_app_from_git() -> None:
    parsed = settings.parse(
        "prod",
        {"domain": "a.example.com",
         "app": {"repo": "https://github.com/example/app.git", "ref": "v1.2.0",
                 "module": "myapp.wsgi:application"}},
    )  # fmt: skip
    assert not parsed.app.is_demo
    assert parsed.app.ref == "v1.2.0"


def test_defaults_follow_the_environment() -> None:
    dev = settings.parse("dev", {"domain": "dev.example.com"})
    prod = settings.parse("prod", {"domain": "app.example.com"})
    assert dev.single_node and dev.tls == "node" and not dev.protect
    assert prod.node_count is None and prod.protect and prod.database.read_replicas == 2


def test_database_version_may_be_a_yaml_number() -> None:
    parsed = settings.parse("prod", {"domain": "a.example.com", "database": {"version": 16}})
    assert parsed.database.version == "16"


def test_encrypted_values_stay_secret_offline(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  pyscale:alertSlackUrl:\n    secure: v1:abc\n  pyscale:nodeCount: 2\n"
    )
    config, secret_keys = settings.read_stack_file(tmp_path / "Pulumi.x.yaml")
    assert config == {"pyscale:alertSlackUrl": "[secret]", "pyscale:nodeCount": "2"}
    assert secret_keys == ["pyscale:alertSlackUrl"]


def test_missing_stack_file_lists_the_stacks() -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.load("qa", REPO)
    assert "prod-ovh" in str(caught.value) and "Pulumi.qa.yaml" in str(caught.value)


def test_ovh_refuses_an_eviction_policy_it_cannot_apply() -> None:
    found = problems("prod", {**OVH, "cache": {"evictionPolicy": "allkeys-lru"}})
    assert [p.key for p in found] == ["cache.evictionPolicy"]
    assert "maxmemory-policy" in found[0].allowed


def test_ovh_region_without_managed_databases_is_refused() -> None:
    found = problems("prod", {**OVH, "region": "RBX-A"})
    assert [p.key for p in found] == ["region"]


def test_tls_on_the_nodes_needs_a_single_node() -> None:
    found = problems("prod", {"domain": "a.example.com", "tls": "node"})
    assert [p.key for p in found] == ["tls"]
    assert "nodeCount: 1" in found[0].allowed


def test_standby_nodes_need_a_2_gb_database_on_digitalocean() -> None:
    problem = only_problem({"database": {"size": "db-s-1vcpu-1gb", "standbyNodes": 1}})
    assert (problem.key, problem.value) == ("database.standbyNodes", 1)
    assert "at least 2 GB" in problem.allowed
