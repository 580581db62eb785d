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
secrets = pulumi.Config(settings.NAMESPACE)
monitor_secret = clouds.get(stack_settings.cloud).monitor_secret
token = secrets.get_secret(monitor_secret) if monitor_secret else None
if stack_settings.monitoring.node and monitor_secret and token is None:
    # A preview shows the node (with a placeholder); an update would start it blind.
    missing = settings.Problem(
        monitor_secret, None, "is required by the monitoring node (monitoring.node): set it "
        f"with `pulumi config set --secret {settings.NAMESPACE}:{monitor_secret} <token>`",
    )  # fmt: skip
    if not pulumi.runtime.is_dry_run():
        raise settings.SettingsError(pulumi.get_stack(), [missing])
    pulumi.log.warn(f"{missing}; `pulumi up` refuses to go on without it")
cloud = importlib.import_module(clouds.get(stack_settings.cloud).components)
web = cloud.WebStack(
    stack_settings.resource_prefix,
    WebStackArgs(
        settings=stack_settings,
        plan=plan,
        alert_slack_url=secrets.get_secret("alertSlackUrl"),
        alert_smtp_password=secrets.get_secret("alertSmtpPassword"),
        monitoring_token=token,
    ),
)
exports = web.export(pricing.estimate(stack_settings, plan))
