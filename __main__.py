"""pyscale: `pulumi up --stack <env>`.

Stack config -> settings -> capacity plan -> the cloud's WebStack -> exports. A bad setting or
a chain that cannot hold raises before a single resource is registered. The offline engine
(pyscale.offline) runs this same file under mocks, and reads `exports`.
"""

import importlib

import pulumi
from pulumi.runtime import config as engine

from components.webstack import WebStackArgs
from pyscale import capacity, clouds, pricing, settings

# The engine hands config over in the environment (PULUMI_CONFIG); the mock engine sets it
# in-process. Either way this is the complete map, so unknown keys are caught.
config = {**engine.get_config_env(), **engine.CONFIG.get()}
stack_settings = settings.from_pulumi_config(
    pulumi.get_stack(), config, [key for key in config if engine.is_config_secret(key)]
)
plan = capacity.plan(stack_settings)
cloud = importlib.import_module(clouds.get(stack_settings.cloud).components)
web = cloud.WebStack(
    stack_settings.resource_prefix,
    WebStackArgs(
        settings=stack_settings,
        plan=plan,
        alert_slack_url=pulumi.Config(settings.NAMESPACE).get_secret("alertSlackUrl"),
    ),
)
exports = web.export(pricing.estimate(stack_settings, plan))
