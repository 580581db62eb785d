"""Guardrails against a determined mistake (issue 16): address sets judged by what they
cover, an environment the stack's name decides, provider config as an allow-list, strict
parsing, secrets, and the edge's per-client limits and private demo routes. Each member
found is a case here: the canonical form accepted, every other spelling refused with the
canonical one shown.
The stack-level proof (a hostile stack file registers nothing) is in
tests/stacks/test_hostile.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from pyscale import capacity, render, settings, urls
from pyscale.clouds.base import EXAMPLE_CA
from pyscale.settings import addresses

DOMAIN = {"domain": "app.example.com"}


def refusal(stack: str, raw: dict) -> settings.Problem:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse(stack, {**DOMAIN, **raw})
    (problem,) = caught.value.problems
    return problem


# --- 1. address sets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "entries",
    [["198.51.100.0/24"], ["198.51.100.7/32", "203.0.113.0/24"], ["2001:db8::/48"], []],
)
def test_canonical_ssh_networks_are_accepted(entries: list[str]) -> None:
    assert settings.parse("prod", {**DOMAIN, "sshAllowCidrs": entries}).ssh_allow_cidrs == tuple(
        entries
    )


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ("198.51.100.1/24", "write 198.51.100.0/24"),  # host bits set
        ("198.51.100.0/255.255.255.0", "write 198.51.100.0/24"),  # netmask notation
        ("198.51.100.0/0.0.0.255", "write 198.51.100.0/24"),  # hostmask notation
        ("198.51.100.7", "write 198.51.100.7/32"),  # no prefix length
        ("198.51.100.0/024", "write 198.51.100.0/24"),  # leading zero in the prefix
        ("0198.51.100.0/24", "write 198.51.100.0/24 if that is the network meant"),  # octal?
        ("2001:DB8::/48", "write 2001:db8::/48"),  # upper case
        ("2001:0db8:0000::/48", "write 2001:db8::/48"),  # zeros not compressed
        ("198.51.100.0/24\n", "not a network in CIDR form"),  # trailing newline
        (" 198.51.100.0/24", "not a network in CIDR form"),
        ("198.51.100.0/33", "not a network in CIDR form"),
        ("example.com/24", "not a network in CIDR form"),
    ],
)
def test_other_spellings_are_refused_showing_the_canonical_one(entry: str, shown: str) -> None:
    problem = refusal("prod", {"sshAllowCidrs": [entry]})
    assert problem.key == "sshAllowCidrs" and problem.value == entry
    assert shown in problem.allowed


@pytest.mark.parametrize(
    "entries",
    [
        ["0.0.0.0/0"],
        ["::/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        ["::ffff:0:0/96"],  # every IPv4 address, IPv4-mapped
        ["::/1", "8000::/1"],
    ],
)
def test_a_set_that_covers_the_internet_is_refused(entries: list[str]) -> None:
    problem = refusal("prod", {"sshAllowCidrs": entries})
    assert problem.key == "sshAllowCidrs" and problem.value == entries
    assert "the whole internet" in problem.allowed


def test_overlapping_entries_are_refused() -> None:
    problem = refusal("prod", {"sshAllowCidrs": ["198.51.100.0/24", "198.51.100.128/25"]})
    assert "overlapping entries (198.51.100.0/24 and 198.51.100.128/25)" in problem.allowed
    problem = refusal("prod", {"sshAllowCidrs": ["198.51.100.0/24", "198.51.100.0/24"]})
    assert "overlapping" in problem.allowed


def test_the_union_is_judged_across_families() -> None:
    """An IPv4-mapped IPv6 range is the IPv4 range it maps (its /96 prefix counts off)."""
    mapped = addresses.as_ipv4(addresses.canonical("::ffff:0:0/97")[0])
    assert str(mapped) == "0.0.0.0/1"
    halves = [addresses.canonical(v)[0] for v in ("::ffff:0:0/97", "128.0.0.0/1")]
    assert addresses.covered_families(halves) == ["0.0.0.0/0"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("10.110.0.1/20", "write 10.110.0.0/20"),
        ("10.110.0.0/255.255.240.0", "write 10.110.0.0/20"),
        ("010.110.0.0/20", "write 10.110.0.0/20 if that is the network meant"),
        ("10.244.0.0/20", "overlaps 10.244.0.0/16"),  # DigitalOcean's Kubernetes range
        ("10.240.0.0/13", "has a /13 prefix"),
        ("100.64.0.0/16", "is not inside 10.0.0.0/8"),
    ],
)
def test_vpc_range_variants_are_refused(value: str, shown: str) -> None:
    problem = refusal("prod", {"vpcCidr": value})
    assert problem.key == "vpcCidr" and shown in problem.allowed


# --- 2. the environment -----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "prod-ovh", "production-eu", "PRD", "live"])
def test_a_prod_stack_cannot_say_it_is_staging(stack: str) -> None:
    problem = refusal(stack, {"environment": "staging"})
    assert problem.key == "environment" and problem.value == "staging"
    assert "is a prod stack by its name" in problem.allowed


@pytest.mark.parametrize(("stack", "expected"), [("production-eu", "prod"), ("stg", "staging"),
                                                 ("node20k", "dev")])  # fmt: skip
def test_the_name_decides_the_environment(stack: str, expected: str) -> None:
    assert settings.parse(stack, DOMAIN).environment == expected


def test_a_stack_whose_name_claims_nothing_may_choose() -> None:
    assert settings.parse("node20k", {**DOMAIN, "environment": "prod"}).environment == "prod"


@pytest.mark.parametrize(
    ("raw", "key", "says"),
    [
        ({"tls": "off"}, "tls", "plaintext"),
        ({"nodeCount": 1, "tls": "certificate", "certificateName": "c"}, "nodeCount",
         "no redundancy"),
    ],
)  # fmt: skip
def test_prod_refuses_plaintext_and_a_single_node(raw: dict, key: str, says: str) -> None:
    problem = refusal("prod", raw)
    assert problem.key == key and says in problem.allowed
    # The same settings are a staging stack's to choose.
    settings.parse("staging", {**DOMAIN, **raw})


# --- 3. provider configuration ----------------------------------------------------------

PROD = {"pyscale:domain": "app.example.com"}


def foreign_refusal(config: dict, secret_keys: tuple[str, ...] = ()) -> settings.Problem:
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_pulumi_config("prod", {**PROD, **config}, secret_keys)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("config", "secret"),
    [
        ({"digitalocean:token": "x"}, ("digitalocean:token",)),
        ({"digitalocean:apiEndpoint": "https://api.digitalocean.com"}, ()),
        ({"digitalocean:requestsPerSecond": "10"}, ()),
        ({"ovh:endpoint": "ovh-ca", "ovh:applicationKey": "ak",
          "ovh:applicationSecret": "s", "ovh:consumerKey": "c"},
         ("ovh:applicationSecret", "ovh:consumerKey")),
    ],
)  # fmt: skip
def test_provider_keys_known_to_be_safe_are_accepted(config: dict, secret: tuple) -> None:
    settings.from_pulumi_config("prod", {**PROD, **config}, secret)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("digitalocean:apiEndpoint", "https://attacker.example", "another endpoint would"),
        ("digitalocean:apiEndpoint", "https://api.digitalocean.com.attacker.example", "one of"),
        ("digitalocean:apiEndpoint", "http://api.digitalocean.com", "one of"),
        ("ovh:endpoint", "https://eu.api.ovh.com/1.0", "must be one of ovh-eu, ovh-ca, ovh-us"),
        ("ovh:endpoint", "kimsufi-eu", "must be one of"),
        ("digitalocean:spacesEndpoint", "https://example.net", "knows to be safe"),
        ("ovh:httpHeaders", '{"X": "y"}', "knows to be safe"),
        ("digitalocean:token", "dop_v1_plain", "credential in plain text"),
        ("ovh:consumerKey", "plain", "credential in plain text"),
        ("pyscal:nodeCount", "9", "did you mean pyscale:nodeCount?"),
        ("PyScale:nodeCount", "9", "did you mean pyscale:nodeCount?"),
        ("pyscale-:nodeCount", "9", "did you mean pyscale:nodeCount?"),
        ("aws:region", "eu-west-1", "pyscale reads no `aws:` config"),
    ],
)
def test_other_provider_config_is_refused(key: str, value: str, says: str) -> None:
    problem = foreign_refusal({key: value})
    assert problem.key == key and says in problem.allowed
    assert "dop_v1_plain" not in str(problem) and problem.value != "plain"


def test_every_problem_is_listed_together() -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_pulumi_config("prod", {"pyscal:nodeCount": "9", "pyscale:tls": "off"})
    assert [p.key for p in caught.value.problems] == ["pyscal:nodeCount", "tls"]


# --- 4. strict parsing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"domain": "app.example.com\n"}, "domain"),  # `$` matched before the newline
        ({"database": {"maintenanceHour": "03:00\n"}}, "database.maintenanceHour"),
        ({"app": {"repo": "https://github.com/o/r.git", "module": "pkg.wsgi:app\n"}},
         "app.module"),
        ({"domain": ["app.example.com"]}, "domain"),  # a list where a string belongs
        ({"domain": {"name": "app.example.com"}}, "domain"),
        ({"database": ["db-s-4vcpu-8gb"]}, "database"),
    ],
)  # fmt: skip
def test_whole_values_of_the_right_type_only(raw: dict, key: str) -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse("staging", {**DOMAIN, **raw})
    assert key in [p.key for p in caught.value.problems]


@pytest.mark.parametrize("ref", ["main", "release/1.2", "v2.0.1", "feature/x-y_z", "2024"])
def test_git_refs_git_accepts_are_accepted(ref: str) -> None:
    assert settings.parse("staging", {**DOMAIN, "app": {"ref": ref}}).app.ref == ref


@pytest.mark.parametrize(
    "ref",
    ["--upload-pack=touch /tmp/x", "-b", "a..b", "a b", "a\tb", "x.lock", "rel/x.lock",
     ".hidden", "rel/.hidden", "x@{1}", "@", "x/", "/x", "a//b", "x.", "a~1", "a^", "a:b",
     "a?", "a*", "a[", "a\\b", "main\n", ""],
)  # fmt: skip
def test_git_refs_git_refuses_are_refused(ref: str) -> None:
    problem = refusal("staging", {"app": {"ref": ref}})
    assert problem.key == "app.ref"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/example/app.git", True),
        ("git@github.com:example/app.git", True),
        ("ssh://git@github.com/example/app.git", True),
        ("https://oauth2:ghp_token@github.com/example/app.git", False),
        ("https://ghp_token@github.com/example/app.git", False),
        ("ssh://git:password@github.com/example/app.git", False),
    ],
)
def test_git_credentials_never_ride_in_the_url(url: str, ok: bool) -> None:
    raw = {**DOMAIN, "app": {"repo": url, "module": "pkg.wsgi:app"}}
    if ok:
        assert settings.parse("staging", raw).app.repo == url
    else:
        problem = refusal("staging", {"app": {"repo": url, "module": "pkg.wsgi:app"}})
        assert problem.key == "app.repo" and "holds credentials" in problem.allowed


def stack_file(tmp_path, body: str) -> settings.Settings:
    (tmp_path / "Pulumi.staging.yaml").write_text("config:\n" + body)
    return settings.load("staging", tmp_path)


def file_refusal(tmp_path, body: str) -> settings.Problem:
    """The one problem a stack file with `body` is refused for."""
    with pytest.raises(settings.SettingsError) as caught:
        stack_file(tmp_path, body)
    (problem,) = caught.value.problems
    return problem


def test_a_stack_file_is_read_as_yaml_1_2(tmp_path) -> None:
    """PyYAML alone (YAML 1.1) reads `03:00` as 180 and `no` as False; Pulumi does not."""
    parsed = stack_file(tmp_path, "  pyscale:domain: app.example.com\n"
                                  "  pyscale:database:\n    maintenanceHour: 03:00\n")  # fmt: skip
    assert parsed.database.maintenance_hour == "03:00"
    problem = file_refusal(tmp_path, "  pyscale:domain: app.example.com\n  pyscale:backups: no\n")
    assert (problem.key, problem.value) == ("backups", "no")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("  pyscale:nodeCount: 2\n  pyscale:nodeCount: 3\n", "is given twice (also on line 2)"),
        ("  pyscale:sshKeys: &k [a]\n  pyscale:alerts: {emails: *k}\n", "take no aliases"),
        ("  pyscale:nodeCount: [\n", "is not valid YAML"),
    ],
)
def test_a_stack_file_that_cannot_mean_one_thing_is_refused(tmp_path, body: str,
                                                            says: str) -> None:  # fmt: skip
    problem = file_refusal(tmp_path, body)
    assert problem.key.startswith("Pulumi.staging.yaml:") and says in problem.allowed


# --- 5. secrets (the settings' part) ----------------------------------------------------

SLACK = "https://hooks.slack.com/services/T0/B0/x"


def test_a_slack_webhook_must_be_a_secret() -> None:
    config = {**PROD, "pyscale:alertSlackUrl": SLACK}
    settings.from_pulumi_config("prod", config, ["pyscale:alertSlackUrl"])
    problem = foreign_refusal({"pyscale:alertSlackUrl": SLACK})
    assert problem.key == "alertSlackUrl" and "secret given in plain text" in problem.allowed
    assert SLACK not in str(problem)


def test_a_slack_webhook_of_another_shape_is_refused_unshown() -> None:
    problem = foreign_refusal({"pyscale:alertSlackUrl": "https://attacker.example/x"},
                              ("pyscale:alertSlackUrl",))  # fmt: skip
    assert problem.key == "alertSlackUrl" and "attacker" not in str(problem)


def test_a_config_section_that_is_not_a_mapping_is_named(tmp_path) -> None:
    problem = file_refusal(tmp_path, "  - pyscale:nodeCount\n")
    assert (problem.key, problem.value) == ("Pulumi.staging.yaml:config", "list")


@pytest.mark.parametrize(
    ("uri", "verified"),
    [
        ("postgresql://u:p@db.example.internal:25061/pool?sslmode=require",
         "postgresql://u:p@db.example.internal:25061/pool?sslmode=verify-full"
         "&sslrootcert=/etc/pyscale/provider-ca.pem"),
        ("postgres://u@h:1/d?sslmode=disable&sslrootcert=/tmp/evil.pem&connect_timeout=5",
         "postgres://u@h:1/d?connect_timeout=5&sslmode=verify-full"
         "&sslrootcert=/etc/pyscale/provider-ca.pem"),
        ("rediss://default:p@cache.example.internal:25061/0?ssl_cert_reqs=none",
         "rediss://default:p@cache.example.internal:25061/0"
         "?ssl_ca_certs=/etc/pyscale/provider-ca.pem"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),  # a local node's plain one
    ],
)  # fmt: skip
def test_urls_verify_the_server_against_the_ca_file(uri: str, verified: str) -> None:
    assert urls.verify_server(uri, render.NODE.provider_ca) == verified


def test_rewriting_a_url_keeps_its_other_parameters_as_libpq_reads_them() -> None:
    uri = "postgresql://u@h:1/d?options=-c%20search_path%3Dx&application_name=&sslmode=require"
    verified = urls.verify_server(uri, "/etc/pyscale/provider ca.pem")
    assert verified == (
        "postgresql://u@h:1/d?options=-c%20search_path%3Dx&application_name="
        "&sslmode=verify-full&sslrootcert=/etc/pyscale/provider%20ca.pem"
    )
    cache = urls.verify_server("rediss://h:1/0?ssl_check_hostname=false", "/ca.pem")
    assert cache == "rediss://h:1/0?ssl_ca_certs=/ca.pem"  # the host name is always checked


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_node_verifies_its_data_stores_with_the_clouds_ca(stack: str) -> None:
    parsed = settings.parse(stack, DOMAIN)
    plan = capacity.plan(parsed)
    node = render.node(plan, parsed, render.placeholder_secrets(plan))
    ca = node.file(render.NODE.provider_ca)
    assert (ca.content, ca.permissions, ca.owner) == (EXAMPLE_CA, "0644", "root:root")
    env = node.file("/etc/pyscale/env").content
    urls_in_env = 1 + plan.database.read_replicas  # the primary's, and one per replica
    assert env.count("sslmode=verify-full&sslrootcert=/etc/pyscale/provider-ca.pem") == urls_in_env
    assert "sslmode=require" not in env
    assert "?ssl_ca_certs=/etc/pyscale/provider-ca.pem" in env


def test_without_a_ca_the_urls_are_used_as_given() -> None:
    parsed = settings.parse("staging", DOMAIN)
    plan = capacity.plan(parsed)
    secrets = dataclasses.replace(render.PLACEHOLDER_SECRETS, provider_ca="")
    node = render.node(plan, parsed, secrets)
    assert "sslmode=require" in node.file("/etc/pyscale/env").content
    assert render.NODE.provider_ca not in [f.path for f in node.files]


def test_a_ca_that_is_not_a_pem_certificate_is_refused() -> None:
    parsed = settings.parse("staging", DOMAIN)
    plan = capacity.plan(parsed)
    secrets = dataclasses.replace(render.PLACEHOLDER_SECRETS, provider_ca="not a certificate")
    with pytest.raises(ValueError, match="not a PEM certificate"):
        render.node(plan, parsed, secrets)


# --- 6. the edge (the settings' and the rendering's part; tests/node/test_edge.py serves) --


def site(raw: dict, stack: str = "prod") -> str:
    """The node's Nginx site and locations for a stack, as rendered."""
    parsed = settings.parse(stack, {**DOMAIN, **raw})
    files = render.node(capacity.plan(parsed), parsed, render.PLACEHOLDER_SECRETS).files
    return "\n".join(
        f.content for f in files if f.path.endswith(("conf.d/pyscale.conf", "locations.conf"))
    )


def test_a_default_limit_never_rounds_down_to_no_limit() -> None:
    heavy = settings.parse("dev", {**DOMAIN, "workload": {"cpuMs": 200}, "tls": "off"})
    edge = capacity.plan(heavy, throughput_holds=False).edge
    assert edge.client_rate == 1 and edge.client_concurrency >= 1


def test_each_client_gets_a_tenth_of_a_node_by_default() -> None:
    parsed = settings.parse("prod", DOMAIN)
    plan = capacity.plan(parsed)
    rps = capacity.throughput.node_rps_ceiling(plan.vcpus, parsed.workload.cpu_ms)
    assert plan.edge.client_concurrency == plan.per_node_concurrency // 10
    assert (plan.edge.client_rate, plan.edge.client_burst) == (rps // 10, rps // 10)
    text = site({})
    assert f"limit_conn pyscale_clients {plan.edge.client_concurrency};" in text
    assert f"rate={plan.edge.client_rate}r/s;" in text
    assert f"limit_req zone=pyscale_rate burst={plan.edge.client_burst} nodelay;" in text
    assert "limit_req_status 429;" in text and "limit_conn_status 429;" in text


def test_the_limits_follow_the_settings_and_zero_turns_one_off() -> None:
    text = site({"edge": {"clientConcurrency": 50, "clientRate": 0,
                          "exemptCidrs": ["198.51.100.0/24", "2001:db8::/48"]}})  # fmt: skip
    assert "limit_conn pyscale_clients 50;" in text
    assert "limit_req" not in text.replace("limit_req_status", "").replace(
        "limit_req_log_level", ""
    )
    assert "    198.51.100.0/24 exempt;\n    2001:db8::/48 exempt;" in text


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        (["198.51.100.1/24"], "write 198.51.100.0/24"),
        (["::ffff:c633:6400/120"], "IPv4-mapped IPv6 network, which Nginx never matches; "
                                   "write 198.51.100.0/24"),
        (["::ffff:198.51.100.0/120"], "IPv4-mapped IPv6 network, which Nginx never matches; "
                                      "write 198.51.100.0/24"),
        (["0.0.0.0/1", "128.0.0.0/1"], "cover 0.0.0.0/0, every client"),
        (["::/1", "8000::/1"], "cover 0.0.0.0/0 and ::/0, every client"),  # ::/1 maps IPv4
        (["198.51.100.0/24", "198.51.100.128/25"], "overlapping entries"),
        (["10.110.4.0/24"], "is inside 10.110.0.0/20 (the VPC or loopback)"),
        (["127.0.0.0/24"], "is inside 127.0.0.0/8"),
        (["::1/128"], "is inside ::1/128"),
    ],
)  # fmt: skip
def test_exempt_networks_that_mean_something_else_are_refused(entries: list, says: str) -> None:
    problem = refusal("prod", {"edge": {"exemptCidrs": entries}})
    assert problem.key == "edge.exemptCidrs" and says in problem.allowed


@pytest.mark.parametrize("value", [-1, "many", 1.5, [3]])
def test_a_client_limit_is_a_whole_number(value: object) -> None:
    assert refusal("prod", {"edge": {"clientConcurrency": value}}).key == "edge.clientConcurrency"


@pytest.mark.parametrize(
    ("stack", "raw", "private"),
    [
        ("prod", {}, True),
        ("staging", {}, False),
        ("dev", {"tls": "off"}, False),
        ("prod", {"app": {"repo": "https://github.com/example/app.git",
                          "module": "app:application"}}, False),
    ],
)  # fmt: skip
def test_the_demo_routes_answer_the_private_network_only_in_prod(
    stack: str, raw: dict, private: bool
) -> None:
    text = site(raw, stack)
    guarded = [f"location = {route} {{\n    if ($pyscale_network != private)"
               for route in render.NODE.demo_private_routes]  # fmt: skip
    assert all((g in text) is private for g in guarded), text
