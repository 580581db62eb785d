"""pyscale/settings per cloud: a setting the stack's cloud does not apply is refused, naming
the key, the value, the cloud and what to do; what a cloud requires, derives or limits comes
from its entry in pyscale/clouds, never from a branch on its name in pyscale/settings."""

import ast
from pathlib import Path
from typing import Any

import pytest

from pyscale import clouds, settings
from pyscale.settings import declarations
from pyscale.settings.spec import honoured_by

SETTINGS_DIR = Path(settings.__file__).parent
PROJECT = "0123456789abcdef0123456789abcdef"
BASE = {
    "ovh": {
        "cloud": "ovh",
        "ovhServiceName": PROJECT,
        "tls": "certificate",
        "certificateName": "pyscale-prod",
    },
    "digitalocean": {"cloud": "digitalocean", "domain": "app.example.com"},
}
SLACK_URL = "https://hooks.slack.com/services/T0/B0/x"
DO_TOKEN = "dop_v1_" + "0f" * 32

# Settings each cloud's wiring leaves unused (components/<cloud>/): refused when set, even to
# the value the default would give.
IGNORED = [
    ("ovh", {"database": {"maintenanceDay": "monday"}}, "database.maintenanceDay", "monday"),
    ("ovh", {"database": {"standbyNodes": 1}}, "database.standbyNodes", 1),
    ("ovh", {"database": {"replicaRegion": "GRA11"}}, "database.replicaRegion", "GRA11"),
    ("ovh", {"cache": {"evictionPolicy": "allkeys-lru"}}, "cache.evictionPolicy", "allkeys-lru"),
    ("digitalocean", {"ovhServiceName": PROJECT}, "ovhServiceName", PROJECT),
    ("digitalocean", {"database": {"ovhPlan": "business"}}, "database.ovhPlan", "business"),
]  # fmt: skip


def problems(raw: dict, stack: str = "prod") -> list[settings.Problem]:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse(stack, raw)
    return caught.value.problems


def merged(cloud: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {**BASE[cloud], **extra}


@pytest.mark.parametrize(("cloud", "extra", "key", "value"), IGNORED)
def test_setting_the_cloud_ignores_is_refused(cloud: str, extra: dict, key: str, value) -> None:
    found = problems(merged(cloud, extra))
    assert [(p.key, p.value) for p in found] == [(key, value)]
    message = str(found[0])
    title = clouds.get(cloud).title
    assert f"pyscale:{key} = {value!r}" in message
    assert f"{title} (pyscale:cloud: {cloud}) does not apply this setting" in message
    assert "remove" in message or "instead" in message, message


@pytest.mark.parametrize(("cloud", "extra", "key", "value"), IGNORED)
def test_what_one_cloud_ignores_another_applies(cloud: str, extra: dict, key: str, value) -> None:
    assert cloud not in honoured_by(key)
    assert honoured_by(key), f"{key} is applied by no cloud: drop it or wire it"


def test_a_secret_the_cloud_ignores_is_refused_without_showing_it() -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse("prod", merged("ovh", {"monitoringToken": DO_TOKEN}))
    assert [(p.key, p.value) for p in caught.value.problems] == [("monitoringToken", "[secret]")]
    assert "OVHcloud" in str(caught.value)
    assert DO_TOKEN not in str(caught.value)


@pytest.mark.parametrize("cloud", ["digitalocean", "ovh"])
def test_the_secret_is_accepted_where_it_is_applied_and_never_kept(cloud: str) -> None:
    parsed = settings.parse("prod", merged(cloud, {"alertSlackUrl": SLACK_URL}))
    assert SLACK_URL not in repr(parsed)


@pytest.mark.parametrize("alerts", [{"emails": ["oncall@example.com"]}, {"slackChannel": "#ops"}])
def test_ovh_alerts_need_the_monitoring_node(alerts: dict) -> None:
    """OVHcloud's provider alerts only on spending: without the monitoring node, alerts
    would go nowhere, so they are refused rather than dropped."""
    raw = merged("ovh", {"alerts": alerts, "monitoring": {"node": False}})
    found = problems(raw)
    assert [p.key for p in found] == ["alerts.emails"]
    assert "monitoring.node: true" in str(found[0])


@pytest.mark.parametrize("cloud", ["digitalocean", "ovh"])
def test_a_monitoring_node_needs_a_relay_to_email(cloud: str) -> None:
    raw = merged(cloud, {"alerts": {"emails": ["oncall@example.com"]}})
    found = problems(raw)
    assert [p.key for p in found] == ["alerts.smtpSmarthost"]
    assert "SMTP relay" in str(found[0])
    relay = {"emails": ["oncall@example.com"], "smtpSmarthost": "smtp.example.com:587"}
    assert [p.key for p in problems(merged(cloud, {"alerts": relay}))] == ["alerts.smtpFrom"]
    sender = relay | {"smtpFrom": "alerts@example.com"}
    assert settings.parse("prod", merged(cloud, {"alerts": sender})).alerts.smtp_from == (
        "alerts@example.com"
    )
    # Without the node (DigitalOcean's own alerts e-mail them), no relay is needed.
    if cloud == "digitalocean":
        alone = {"alerts": {"emails": ["oncall@example.com"]}, "monitoring": {"node": False}}
        assert settings.parse("prod", merged(cloud, alone)).monitoring.node is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("smtpSmarthost", "smtp.example.com"),
        ("smtpSmarthost", "smtp.example.com:587\n"),
        ("smtpFrom", "alerts"),
    ],
)
def test_a_misshapen_relay_setting_is_refused(key: str, value: str) -> None:
    found = problems(merged("digitalocean", {"alerts": {key: value}}))
    assert [(p.key, p.value) for p in found] == [(f"alerts.{key}", value)]


def test_admin_networks_may_not_cover_the_internet() -> None:
    halves = {"monitoring": {"adminCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}}
    found = problems(merged("digitalocean", halves))
    assert [p.key for p in found] == ["monitoring.adminCidrs"]
    assert "Prometheus has no login" in str(found[0])


def test_an_ignored_setting_left_unset_keeps_its_default() -> None:
    parsed = settings.parse("prod", BASE["ovh"])
    assert parsed.database.maintenance_day == "sunday" and parsed.database.standby_nodes == 1


@pytest.mark.parametrize(("given", "expected"), [(True, True), ("false", False), (None, True)])
def test_ovh_applies_backups(given: object, expected: bool) -> None:
    """OVHcloud instances get a backup workflow each (components/ovh/nodes.py): the setting
    is read on OVHcloud like on DigitalOcean, and prod takes them by default."""
    raw = BASE["ovh"] if given is None else merged("ovh", {"backups": given})
    assert settings.parse("prod", raw).backups is expected
    assert "ovh" in honoured_by("backups")


def test_ovh_takes_one_ssh_key_pair() -> None:
    found = problems(merged("ovh", {"sshKeys": ["ops-2025", "ops-backup"]}))
    assert [(p.key, p.value) for p in found] == [("sshKeys", ["ops-2025", "ops-backup"])]
    assert "OVHcloud" in found[0].allowed and "one key" in found[0].allowed
    assert settings.parse("prod", merged("ovh", {"sshKeys": ["ops"]})).ssh_keys == ("ops",)


def test_digitalocean_puts_every_ssh_key_on_the_droplets() -> None:
    parsed = settings.parse("prod", merged("digitalocean", {"sshKeys": ["a", "b", "c"]}))
    assert parsed.ssh_keys == ("a", "b", "c")


def test_ovh_project_id_is_checked() -> None:
    found = problems({**BASE["ovh"], "ovhServiceName": "my-project"})
    assert [(p.key, p.value) for p in found] == [("ovhServiceName", "my-project")]
    assert "32 hex" in found[0].allowed


def test_ovh_requires_its_project_id_naming_the_cloud() -> None:
    found = problems({"cloud": "ovh", "tls": "off"}, "staging")
    assert [(p.key, p.value) for p in found] == [("ovhServiceName", None)]
    assert "required on OVHcloud" in found[0].allowed


def test_managed_tls_on_ovh_vms_says_what_to_set_instead() -> None:
    """prod's default tls (managed) is cert-manager on OVHcloud: Kubernetes only."""
    found = problems({"cloud": "ovh", "ovhServiceName": PROJECT, "domain": "a.example.com"})
    assert [(p.key, p.value) for p in found] == [("tls", "managed")]
    assert "on VMs use 'certificate'" in found[0].allowed
    assert "needs platform: kubernetes" in found[0].allowed


def test_tls_modes_come_from_the_cloud() -> None:
    for name in clouds.NAMES:
        offered = clouds.get(name).tls_modes
        assert set(offered) <= set(settings.TLS_MODES), name
        for mode in set(settings.TLS_MODES) - set(offered):
            found = problems(merged(name, {"tls": mode}))
            assert [p.key for p in found] == ["tls"], (name, mode)


def test_every_ignored_or_required_key_is_declared() -> None:
    """A misspelt key in a cloud's rules would refuse nothing."""
    known = set(declarations.BY_KEY) | {g.name for g in declarations.GROUPS}
    for name in clouds.NAMES:
        rules = clouds.get(name).settings
        named = [*rules.ignored, *rules.required, *(d.key for d in rules.derived_defaults)]
        named += [key for rule in rules.rules for key in (rule.key, *rule.needs)]
        assert set(named) <= known, (name, set(named) - known)


def test_a_cloud_rule_reading_a_refused_setting_is_skipped() -> None:
    """One mistake, one message: a bad plan is not also blamed for the replicas."""
    found = problems(merged("ovh", {"database": {"ovhPlan": "gold", "readReplicas": 2}}))
    assert [p.key for p in found] == ["database.ovhPlan"]


def test_no_branch_on_a_cloud_name_in_pyscale_settings() -> None:
    """Cloud knowledge lives in pyscale/clouds: no `x == "ovh"` (or `in ("ovh", ...)`)."""
    for path in sorted(SETTINGS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                literals = [
                    n.value
                    for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                ]
                assert not set(literals) & set(clouds.NAMES), f"{path.name}:{node.lineno}"
