"""Keep secret markers when the CrossGuard server reads resource properties.

The engine sends every property to a policy pack with its secret marker
(sdk/go/common/resource/plugin/analyzer_plugin.go: `MarshalOptions{KeepSecrets: true}`), but
pulumi-policy 1.21.0 deserializes `Analyze`/`AnalyzeStack` requests with
`deserialize_properties(..., proxy_secrets=False)`, which drops the marker: a policy cannot
tell `Output.secret(uri)` from a plain `uri`. The `no-plaintext-secrets` rule needs exactly
that difference, so the pack's entry point swaps in a deserializer that wraps secret values
in `pulumi_policy.Secret` (the SDK's own marker type), the shape `policy.offline` also
builds. Only policy/__main__.py calls `keep_secret_markers()`; importing this module changes
nothing.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import Secret
from pulumi_policy import deserialize as _sdk
from pulumi_policy import policy as _server


def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """`deserialize_properties` that wraps secrets in `Secret` instead of unwrapping them.

    `proxy_secrets` is accepted for signature compatibility; secrets are always kept.
    """
    return {key: _value(value) for key, value in props.items()}


def _value(value: Any) -> Any:
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        signature = value.get(_sdk.SPECIAL_SIG_KEY)
        if signature == _sdk.SPECIAL_SECRET_SIG:
            return Secret(_value(value["value"]))
        if signature is not None:
            return _sdk._deserialize_property(value)  # assets and archives, as the SDK reads them
        return {key: _value(v) for key, v in value.items()}
    return value


def keep_secret_markers() -> None:
    """Make the policy server (pulumi_policy.policy) use `deserialize`."""
    _server.deserialize_properties = deserialize
