"""The rules that join settings on every cloud: TLS against the domain and the topology, a
certificate name for uploaded certificates, a repo for a custom WSGI module. Each cloud adds
its own (pyscale/clouds/<cloud>/settings_rules.py); both kinds run once every value is read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import SettingRule
from pyscale.settings import addresses
from pyscale.settings.autoscale import AUTOSCALE_RULES
from pyscale.settings.interface import DEMO_MODULES, INTERFACE_RULES
from pyscale.settings.platform import PLATFORM_RULES


def _tls_needs_domain(v: Mapping[str, Any]) -> str | None:
    if v["tls"] in ("managed", "node") and v["domain"] is None:
        return (
            "needs pyscale:domain (a certificate is issued for a name); "
            "set a domain or use tls: off"
        )
    return None


def _certificate_named(v: Mapping[str, Any]) -> str | None:
    if v["tls"] == "certificate" and not v["certificateName"]:
        return "must name an uploaded certificate when tls is 'certificate'"
    return None


def _node_tls_single_node(v: Mapping[str, Any]) -> str | None:
    # Behind a load balancer the Let's Encrypt HTTP-01 check may reach another node, and
    # every node would ask for its own certificate.
    if v["tls"] == "node" and v["nodeCount"] != 1:
        return (
            "terminating TLS on the nodes needs pyscale:nodeCount: 1; "
            "a cluster uses 'managed' (where the cloud offers it) or 'certificate'"
        )
    return None


def _managed_tls_load_balancer(v: Mapping[str, Any]) -> str | None:
    # On Kubernetes the gateway's load balancer is there whatever the node count.
    if v["tls"] == "managed" and v["nodeCount"] == 1 and v["platform"] == "vms":
        return "a single node has no load balancer to hold the certificate; use 'node' or 'off'"
    return None


def _prod_serves_tls(v: Mapping[str, Any]) -> str | None:
    if v["environment"] == "prod" and v["tls"] == "off":
        return "prod serves HTTPS: tls off would serve every request in plaintext"
    return None


def _prod_redundant(v: Mapping[str, Any]) -> str | None:
    if v["environment"] == "prod" and v["nodeCount"] is not None and v["nodeCount"] < 2:
        return (
            f"prod needs at least 2 nodes behind its load balancer (one may fail or be "
            f"replaced); {v['nodeCount']} has no redundancy: raise it or leave it to the plan"
        )
    return None


def _module_needs_repo(v: Mapping[str, Any]) -> str | None:
    # On Kubernetes the app comes in kubernetes.image, not from a repository.
    demo = DEMO_MODULES[v["app.interface"]]
    if v["app.repo"] is None and v["app.module"] != demo and v["platform"] == "vms":
        return f"needs pyscale:app.repo; without a repo the embedded demo app ({demo}) is deployed"
    return None


def _exempt_outside_private(v: Mapping[str, Any]) -> str | None:
    # Nginx labels a client by the most specific network it is in: a part of the VPC listed
    # here would stop being private (the demo routes would refuse the load balancer).
    private = (ipaddress.ip_network(v["vpcCidr"]), *addresses.LOOPBACK)
    for cidr in v["edge.exemptCidrs"]:
        network = ipaddress.ip_network(cidr)
        inside = next(
            (p for p in private if p.version == network.version and network.subnet_of(p)), None
        )
        if inside is not None:
            return (
                f"{cidr} is inside {inside} (the VPC or loopback), which the limits never "
                "count: leave it out"
            )
    return None


def _emails_need_relay(v: Mapping[str, Any]) -> str | None:
    if v["monitoring.node"] and v["alerts.emails"] and v["alerts.smtpSmarthost"] is None:
        return (
            "the monitoring node's Alertmanager e-mails alerts.emails through an SMTP relay: "
            "set alerts.smtpSmarthost and alerts.smtpFrom, or remove the addresses"
        )
    return None


def _relay_needs_sender(v: Mapping[str, Any]) -> str | None:
    if v["alerts.smtpSmarthost"] is not None and v["alerts.smtpFrom"] is None:
        return "an alert e-mail needs a sender: set alerts.smtpFrom"
    return None


RULES = (
    SettingRule("tls", ("domain",), "managed and node need a domain", _tls_needs_domain),
    SettingRule("certificateName", ("tls",), "required by tls: certificate", _certificate_named),
    SettingRule("tls", ("nodeCount",), "node needs nodeCount: 1", _node_tls_single_node),
    SettingRule(
        "tls",
        ("nodeCount", "platform"),
        "managed needs a load balancer (not nodeCount: 1 on vms)",
        _managed_tls_load_balancer,
    ),
    SettingRule(
        "app.module",
        ("app.repo", "platform", "app.interface"),
        "another module needs app.repo (vms)",
        _module_needs_repo,
    ),
    SettingRule("tls", ("environment",), "prod: never off", _prod_serves_tls),
    SettingRule("nodeCount", ("environment",), "prod: at least 2", _prod_redundant),
    SettingRule(
        "edge.exemptCidrs",
        ("vpcCidr",),
        "not inside the VPC or loopback (never counted)",
        _exempt_outside_private,
    ),
    SettingRule(
        "alerts.smtpSmarthost",
        ("monitoring.node", "alerts.emails"),
        "required by a monitoring node that e-mails alerts",
        _emails_need_relay,
    ),
    SettingRule(
        "alerts.smtpFrom", ("alerts.smtpSmarthost",), "required by it", _relay_needs_sender
    ),
    *PLATFORM_RULES,
    *AUTOSCALE_RULES,
    *INTERFACE_RULES,
)
