"""What the account needs before `pulumi up` (pyscale/prerequisites.py and each cloud's):
listed for every shipped stack, following the settings, each with how to do it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyscale import capacity, clouds, prerequisites, settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ("dev", "staging", "prod", "prod-ovh")


def needed(stack: str, **raw: object) -> list[prerequisites.Prerequisite]:
    found = settings.load(stack, REPO) if not raw else settings.parse(stack, raw)
    return prerequisites.for_stack(found, capacity.plan(found))


def about(found: list[prerequisites.Prerequisite], words: str) -> prerequisites.Prerequisite:
    (match,) = [p for p in found if words in p.what]
    return match


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_stack_lists_a_state_backend_credentials_and_quota(stack: str) -> None:
    found = needed(stack)
    assert found[0].what.startswith(f"the Pulumi CLI {prerequisites.PULUMI_VERSION}")
    assert f"pulumi stack init {stack}" in found[0].how
    assert all(p.what and p.why and p.how and p.when for p in found)
    assert len({p.what for p in found}) == len(found)
    plan_settings = settings.load(stack, REPO)
    plan = capacity.plan(plan_settings)
    quota = [p for p in found if "limit" in p.what or "quota" in p.what]
    # The web nodes and, where the stack runs one, the monitoring node.
    machines = plan.nodes + int(plan_settings.monitoring.node)
    assert len(quota) == 1 and str(machines) in quota[0].what


def test_pulumi_version_is_the_one_the_workflows_pin() -> None:
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    pinned = {w.name for w in workflows if prerequisites.PULUMI_VERSION in w.read_text()}
    assert pinned, "no workflow pins the Pulumi CLI version the plan names"


def test_digitalocean_alert_emails_are_flagged_with_the_provider_rule() -> None:
    """Alert addresses must be verified in the team (providers.md D1): pyscale cannot see
    that, so every address is listed, with the rule's source."""
    found = about(needed("prod"), "alert e-mail")
    assert "oncall@example.com" in found.what
    fact = clouds.get("digitalocean").settings.unchecked["alerts.emails"]
    assert fact.what in found.why and fact.source in found.why
    staging = needed("staging", domain="s.example.com", alerts={"emails": []})
    assert not [p for p in staging if "alert e-mail" in p.what]


def test_digitalocean_default_vpc_and_managed_certificate_dns() -> None:
    found = needed("prod")
    vpc = about(found, "a VPC in fra1")
    assert "D9" in vpc.why and "doctl vpcs list" in vpc.how
    assert "app.pyscale.example.com" in about(found, "the DNS of").what
    certificate = needed("prod", domain="a.example.com", tls="certificate",
                         certificateName="uploaded")  # fmt: skip
    assert "'uploaded'" in about(certificate, "certificate named").what
    assert not [p for p in certificate if "the DNS of" in p.what]


def test_ovh_vrack_is_named_with_its_check() -> None:
    found = needed("prod-ovh")
    project = settings.load("prod-ovh", REPO).ovh_service_name
    vrack = about(found, "attached to a vRack")
    assert f"GET /cloud/project/{project}/vrack" in vrack.how
    assert "O2" in vrack.why
    assert "'pyscale-prod'" in about(found, "CERTIFICATE container").what


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_every_unchecked_setting_reaches_the_prerequisites(cloud: str) -> None:
    """A provider rule pyscale cannot check from here (SettingsRules.unchecked) must be read
    by an operator: the prerequisites of a stack that sets the key quote its fact."""
    stack = "prod" if cloud == "digitalocean" else "prod-ovh"
    text = " ".join(p.why for p in needed(stack))
    for key, fact in clouds.get(cloud).settings.unchecked.items():
        assert fact.what in text, key
