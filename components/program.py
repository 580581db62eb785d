"""The Pulumi program: stack config -> settings -> capacity plan -> WebStack -> exports.

Kept importable (and apart from `__main__.py`) so that the offline runner and the tests
run exactly what `pulumi up` runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components import capacity, pricing, settings


@dataclass(frozen=True)
class Exports:
    """What the program decided and exported: the offline runner and tests read it."""

    settings: settings.Settings
    plan: capacity.CapacityPlan
    values: dict[str, Any]


def _engine_config() -> dict[str, Any]:
    # The engine hands config over in the environment (PULUMI_CONFIG); the mock runtime
    # sets it in-process. Either way this is the complete map, so unknown keys are caught.
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def main() -> Exports:
    """Validate everything first: a bad setting or a chain that cannot hold raises before
    a single resource is registered."""
    stack = pulumi.get_stack()
    stack_settings = settings.from_pulumi_config(stack, _engine_config())
    plan = capacity.plan(stack_settings)
    estimate = pricing.estimate(stack_settings, plan)

    cloud = importlib.import_module(f"components.{stack_settings.cloud}")
    web = cloud.WebStack(
        stack_settings.resource_prefix,
        cloud.WebStackArgs(
            settings=stack_settings,
            plan=plan,
            alert_slack_url=pulumi.Config(settings.NAMESPACE).get_secret("alertSlackUrl"),
        ),
    )
    values: dict[str, Any] = {
        "url": web.url,
        "load_balancer_ip": web.load_balancer_ip,
        "node_ips": web.node_ips,
        "database_primary_uri": web.database_primary_uri,
        "database_read_uris": web.database_read_uris,
        "cache_uri": web.cache_uri,
        "capacity": plan.to_dict(),
        "monthly_cost_estimate": estimate.to_dict(),
    }
    for name, value in values.items():
        pulumi.export(name, value)
    return Exports(stack_settings, plan, values)
