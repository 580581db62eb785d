"""Data stores: managed PostgreSQL and Valkey kept private, and prod data kept safe."""

from __future__ import annotations

from .ingress import is_public_source
from .reading import Finding, Res, at, webstack
from .tokens import (
    DO_DATABASE,
    DO_DATABASE_FIREWALL,
    DO_DATABASE_REPLICA,
    OVH_DATABASE,
    OVH_DATABASE_IP_RESTRICTION,
)


def check_data_stores_private(resources: list[Res]) -> list[Finding]:
    """Managed PostgreSQL and Valkey answer only the nodes, never the internet."""
    findings: list[Finding] = []
    firewalls = [r for r in resources if r.type == DO_DATABASE_FIREWALL]
    for store in (r for r in resources if r.type in (DO_DATABASE, DO_DATABASE_REPLICA)):
        if not any(store.urn in f.dependencies for f in firewalls):
            findings.append(
                at(store, "no DatabaseFirewall; without trusted sources it accepts any client")
            )
        if store.type == DO_DATABASE and not store.get("privateNetworkUuid"):
            findings.append(at(store, "not in the stack's VPC (privateNetworkUuid)"))
    for firewall in firewalls:
        for rule in firewall.get("rules") or []:
            if (
                isinstance(rule, dict)
                and rule.get("type") == "ip_addr"
                and is_public_source(rule.get("value"))
            ):
                findings.append(
                    at(firewall, f"trusts public {rule.get('value')}; trust the nodes' tag")
                )
    for store in (r for r in resources if r.type == OVH_DATABASE):
        restrictions = [r for r in store.get("ipRestrictions") or [] if isinstance(r, dict)]
        if not restrictions:
            findings.append(at(store, "no ipRestrictions; restrict it to the private subnet"))
        for restriction in restrictions:
            if is_public_source(restriction.get("ip")):
                findings.append(at(store, f"ipRestrictions allows {restriction.get('ip')}"))
    for restriction in (r for r in resources if r.type == OVH_DATABASE_IP_RESTRICTION):
        if is_public_source(restriction.get("ip")):
            findings.append(at(restriction, f"allows {restriction.get('ip')}"))
    return findings


def check_prod_database_protected(resources: list[Res]) -> list[Finding]:
    """Production data survives a mistaken `pulumi destroy` and a lost primary."""
    stack = webstack(resources)
    if stack is None or stack.get("environment") != "prod":
        return []
    findings: list[Finding] = []
    for db in (r for r in resources if r.type == DO_DATABASE and r.get("engine") == "pg"):
        if db.protect is False:
            findings.append(at(db, "prod PostgreSQL without protect=True"))
        if not any(r.type == DO_DATABASE_REPLICA and db.urn in r.dependencies for r in resources):
            findings.append(at(db, "prod PostgreSQL without a read replica"))
    for db in (r for r in resources if r.type == OVH_DATABASE and r.get("engine") == "postgresql"):
        if db.protect is False and db.get("deletionProtection") is not True:
            findings.append(at(db, "prod PostgreSQL without protect=True or deletionProtection"))
        nodes = db.get("nodes")
        if db.get("plan") == "essential" or (isinstance(nodes, list) and len(nodes) < 2):
            findings.append(at(db, f"prod PostgreSQL on plan {db.get('plan')} has no replica node"))
        if db.get("backupRegions") == []:
            findings.append(at(db, "backupRegions is empty: no copy of the backups"))
    return findings
