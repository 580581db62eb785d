"""The config keys outside `pyscale:` that a stack may hold: an allow-list per provider.

Provider config decides where the provider sends its credentials: a stack file that sets
`digitalocean:apiEndpoint` or `ovh:endpoint` to another host hands it the API token. So only
the keys pyscale knows to be safe are accepted, endpoints only as the providers document
them, credentials only as Pulumi secrets, and any other namespace is refused (a near-miss
of `pyscale`, such as `pyscal:` or `PyScale:`, is named as one: its settings would otherwise
be ignored and their defaults used).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pyscale.settings.errors import NAMESPACE, Problem
from pyscale.settings.parse import SECRET_SHOWN


@dataclass(frozen=True)
class ProviderKey:
    """One accepted provider key: a credential (only as a secret) or a value from a list."""

    credential: bool = False
    values: tuple[str, ...] | None = None  # the accepted values; None: any
    source: str = ""  # where the accepted values are documented


DIGITALOCEAN_API = "https://api.digitalocean.com"
# go-ovh's endpoint names for the three OVHcloud APIs that have Public Cloud projects
# (github.com/ovh/go-ovh ovh/configuration.go; terraform-provider-ovh docs "endpoint").
OVH_ENDPOINTS = ("ovh-eu", "ovh-ca", "ovh-us")

ALLOWED: dict[str, dict[str, ProviderKey]] = {
    "digitalocean": {
        "token": ProviderKey(credential=True),
        "apiEndpoint": ProviderKey(
            values=(DIGITALOCEAN_API,),
            source="the provider's default (pulumi_digitalocean config apiEndpoint)",
        ),
        "httpRetryMax": ProviderKey(),
        "httpRetryWaitMin": ProviderKey(),
        "httpRetryWaitMax": ProviderKey(),
        "requestsPerSecond": ProviderKey(),
    },
    "ovh": {
        "endpoint": ProviderKey(values=OVH_ENDPOINTS, source="go-ovh's endpoint names"),
        "applicationKey": ProviderKey(),
        "applicationSecret": ProviderKey(credential=True),
        "consumerKey": ProviderKey(credential=True),
        "clientId": ProviderKey(),
        "clientSecret": ProviderKey(credential=True),
        "accessToken": ProviderKey(credential=True),
        "apiRateLimit": ProviderKey(),
    },
    # Pulumi's own: stack tags (https://www.pulumi.com/docs/iac/concepts/stacks/#stack-tags).
    "pulumi": {"tags": ProviderKey()},
}
KNOWN_NAMESPACES = (NAMESPACE, *ALLOWED)


def problems(config: Mapping[str, Any], secret_keys: Collection[str] | None) -> list[Problem]:
    """Every key of the engine's config map outside `pyscale:` that is not accepted.
    `secret_keys` None: secrecy unknown (an offline read of encrypted values), not checked."""
    found = []
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            continue
        shown = SECRET_SHOWN if secret_keys is not None and key in secret_keys else config[key]
        if namespace not in ALLOWED:
            close = difflib.get_close_matches(namespace.lower(), KNOWN_NAMESPACES, n=1)
            hint = f"; did you mean {close[0]}:{name}?" if close else ""
            found.append(Problem(key, shown, f"pyscale reads no `{namespace}:` config{hint} "
                                 f"(known namespaces: {', '.join(KNOWN_NAMESPACES)})"))  # fmt: skip
            continue
        rule = ALLOWED[namespace].get(name)
        if rule is None:
            known = ", ".join(f"{namespace}:{k}" for k in ALLOWED[namespace])
            found.append(Problem(key, shown, f"is not a {namespace} provider key pyscale knows "
                                 f"to be safe; accepted: {known}"))  # fmt: skip
        elif rule.credential and secret_keys is not None and key not in secret_keys:
            found.append(Problem(key, "[not shown]", "is a credential in plain text; set it "
                                 f"with `pulumi config set --secret {key}`"))  # fmt: skip
        elif rule.values is not None and config[key] not in rule.values:
            found.append(Problem(key, shown, f"must be one of {', '.join(rule.values)} "
                                 f"({rule.source}): another endpoint would receive the "
                                 "credentials"))  # fmt: skip
    return found


def schema_properties() -> dict[str, dict[str, Any]]:
    """JSON Schema for the accepted foreign keys: endpoints from their lists, credentials
    only as `secure:` values (what `pulumi config set --secret` writes)."""
    found: dict[str, dict[str, Any]] = {}
    for namespace, keys in ALLOWED.items():
        for name, rule in keys.items():
            if rule.credential:
                found[f"{namespace}:{name}"] = {
                    "type": "object", "required": ["secure"], "additionalProperties": False,
                    "properties": {"secure": {"type": "string"}},
                }  # fmt: skip
            elif rule.values is not None:
                found[f"{namespace}:{name}"] = {"enum": list(rule.values)}
            else:
                found[f"{namespace}:{name}"] = {}
    return found
