"""pyscale/settings/autoscale.py: the `autoscale.*` settings, their provider ranges and the
rules that tie them to the rest; OVHcloud refuses autoscale on VMs and says what scales there.
"""

from __future__ import annotations

from typing import Any

import pytest

from pyscale import capacity, settings
from pyscale.settings import autoscale

PROJECT = "0123456789abcdef0123456789abcdef"
# A DigitalOcean prod stack as a Droplet autoscale pool needs it: a key, no droplet backups.
POOL = {
    "cloud": "digitalocean",
    "domain": "app.example.com",
    "sshKeys": ["3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45"],
    "backups": False,
}
OVH_K8S = {
    "cloud": "ovh",
    "ovhServiceName": PROJECT,
    "platform": "kubernetes",
    "tls": "managed",
    "domain": "app.example.com",
    "backups": False,
    "monitoring": {"node": False},
    "kubernetes": {"image": "registry.example.com/team/app:1.4.2"},
}


def parse(raw: dict[str, Any], stack: str = "prod") -> settings.Settings:
    return settings.parse(stack, raw)


def refused(raw: dict[str, Any], stack: str = "prod") -> dict[str, str]:
    """Each refused key and its message."""
    with pytest.raises(settings.SettingsError) as caught:
        settings.parse(stack, raw)
    return {p.key: str(p) for p in caught.value.problems}


def with_pool(**autoscale_keys: Any) -> dict[str, Any]:
    return {**POOL, "autoscale": {"enabled": True, **autoscale_keys}}


def test_off_by_default_and_every_bound_left_to_the_plan() -> None:
    off = parse({"cloud": "digitalocean", "domain": "app.example.com"}).autoscale
    assert not off.enabled
    on = parse(with_pool()).autoscale
    assert on.enabled
    assert (on.min_nodes, on.max_nodes, on.peak_concurrency) == (None, None, None)
    assert (on.cpu_target, on.memory_target, on.cooldown_minutes) == (None, None, None)


def test_the_values_set_are_read() -> None:
    chosen = parse(with_pool(minNodes=3, maxNodes=9, peakConcurrency="80000", cpuTarget=0.6,
                             memoryTarget="0.8", cooldownMinutes=17)).autoscale  # fmt: skip
    assert (chosen.min_nodes, chosen.max_nodes, chosen.peak_concurrency) == (3, 9, 80_000)
    assert (chosen.cpu_target, chosen.memory_target, chosen.cooldown_minutes) == (0.6, 0.8, 17)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("minNodes", 1, "a whole number from 2 to 500"),
        ("minNodes", 501, "a whole number from 2 to 500"),
        ("maxNodes", 1001, "a whole number from 2 to 1000"),
        ("cpuTarget", 0.04, "a number from 0.05 to 1"),
        ("memoryTarget", 1.5, "a number from 0.05 to 1"),
        ("cooldownMinutes", 4, "a whole number from 5 to 20"),
        ("cooldownMinutes", 21, "a whole number from 5 to 20"),
    ],
)
def test_the_providers_ranges_name_key_value_and_what_is_allowed(
    key: str, value: Any, allowed: str
) -> None:
    found = refused(with_pool(**{key: value}))
    assert list(found) == [f"autoscale.{key}"]
    assert f"pyscale:autoscale.{key} = {value!r}" in found[f"autoscale.{key}"]
    assert allowed in found[f"autoscale.{key}"]


def test_a_fixed_node_count_is_refused_with_autoscale() -> None:
    found = refused({**with_pool(), "nodeCount": 4})
    assert list(found) == ["nodeCount"]
    assert "remove nodeCount" in found["nodeCount"]
    assert "autoscale.minNodes and autoscale.maxNodes" in found["nodeCount"]


def test_dev_single_node_cannot_autoscale() -> None:
    found = refused({**with_pool(), "domain": "dev.example.com"}, stack="dev")
    assert "nodeCount" in found
    assert "single-node topology" in found["nodeCount"]


def test_bounds_in_order_and_peak_above_baseline() -> None:
    found = refused({**with_pool(minNodes=6, maxNodes=4, peakConcurrency=10_000),
                     "targetConcurrency": 20_000})  # fmt: skip
    assert set(found) == {"autoscale.minNodes", "autoscale.peakConcurrency"}
    assert "must not exceed autoscale.maxNodes (4)" in found["autoscale.minNodes"]
    assert "below targetConcurrency (20,000)" in found["autoscale.peakConcurrency"]


def test_a_pool_takes_no_rollout_batch_size() -> None:
    found = refused({**with_pool(), "rollout": {"batchSize": 2}})
    assert list(found) == ["rollout.batchSize"]
    assert "replaces its own members" in found["rollout.batchSize"]


def test_the_health_timeout_must_fit_the_cooldown() -> None:
    """DigitalOcean destroys the replaced member once the cooldown has passed, healthy or
    not: a new member may not be given longer than that to turn healthy."""
    explicit = refused({**with_pool(cooldownMinutes=10), "rollout": {"healthTimeoutSeconds": 900}})
    assert list(explicit) == ["rollout.healthTimeoutSeconds"]
    message = explicit["rollout.healthTimeoutSeconds"]
    assert "cooldown (10 min)" in message and "600 s or less" in message
    assert "raise autoscale.cooldownMinutes (at most 20)" in message
    # Unset, the cooldown follows the timeout, up to the provider's 20 minutes.
    longest = refused({**with_pool(), "rollout": {"healthTimeoutSeconds": 1500}})
    message = longest["rollout.healthTimeoutSeconds"]
    assert "cooldown (20 min)" in message and "1200 s or less" in message
    assert "raise autoscale.cooldownMinutes" not in message
    assert parse({**with_pool(), "rollout": {"healthTimeoutSeconds": 1200}}).autoscale.enabled


def test_the_cooldown_defaults_to_the_health_timeout_in_whole_minutes() -> None:
    assert autoscale.cooldown_minutes(None, 900) == 15
    assert autoscale.cooldown_minutes(None, 61) == 5  # the provider's shortest
    assert autoscale.cooldown_minutes(None, 7200) == 20  # its longest: a rule refuses this
    assert autoscale.cooldown_minutes(7, 900) == 7


def test_keys_without_autoscale_are_refused_not_ignored() -> None:
    raw = {**POOL, "autoscale": {"minNodes": 3, "cpuTarget": 0.5}}
    found = refused(raw)
    assert set(found) == {"autoscale.minNodes", "autoscale.cpuTarget"}
    assert all("set autoscale.enabled: true" in m for m in found.values())


def test_memory_target_is_for_droplet_pools_only() -> None:
    raw = {**OVH_K8S, "autoscale": {"enabled": True, "memoryTarget": 0.8}}
    found = refused(raw, stack="prod-k8s-ovh")
    assert list(found) == ["autoscale.memoryTarget"]
    assert "HorizontalPodAutoscaler scales on CPU" in found["autoscale.memoryTarget"]


def test_ovh_vms_refuse_autoscale_and_name_node_pool_autoscaling() -> None:
    raw = {"cloud": "ovh", "ovhServiceName": PROJECT, "tls": "certificate",
           "certificateName": "pyscale-prod", "autoscale": {"enabled": True}}  # fmt: skip
    found = refused(raw, stack="prod-ovh")
    assert list(found) == ["autoscale.enabled"]
    message = found["autoscale.enabled"]
    assert "pyscale:autoscale.enabled = True" in message
    assert "no instance autoscaling" in message
    assert "Managed Kubernetes node-pool autoscaling" in message
    assert "set platform: kubernetes" in message
    assert "public-cloud-roadmap/issues/62" in message


def test_ovh_kubernetes_autoscales() -> None:
    chosen = parse({**OVH_K8S, "autoscale": {"enabled": True}}, stack="prod-k8s-ovh")
    assert chosen.on_kubernetes and chosen.autoscale.enabled


def test_refused_before_anything_is_registered() -> None:
    """The program parses the settings first: a refused autoscale never reaches a plan."""
    raw = {"cloud": "ovh", "ovhServiceName": PROJECT, "tls": "certificate",
           "certificateName": "pyscale-prod", "autoscale": {"enabled": True}}  # fmt: skip
    with pytest.raises(settings.SettingsError):
        capacity.plan(settings.parse("prod-ovh", raw))


def test_a_droplet_pool_needs_ssh_keys_and_takes_no_backups() -> None:
    raw = {"cloud": "digitalocean", "domain": "app.example.com", "autoscale": {"enabled": True}}
    found = refused(raw)
    assert set(found) == {"sshKeys", "backups"}
    assert "need SSH keys" in found["sshKeys"]
    assert "no backups option" in found["backups"]
    # On Kubernetes the node pool needs neither (DOKS manages its nodes' keys).
    k8s = {**raw, "platform": "kubernetes", "backups": False, "monitoring": {"node": False},
           "kubernetes": {"image": "registry.example.com/team/app:1.4.2"}}  # fmt: skip
    assert parse(k8s, stack="prod-k8s").autoscale.enabled


def test_the_default_cpu_target_is_the_plans_ceiling() -> None:
    assert autoscale.DEFAULT_CPU_TARGET == capacity.CPU_UTILISATION_CEILING
