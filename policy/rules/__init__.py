"""pyscale's safety rules, as Pulumi CrossGuard policies.

The same `Policy` objects run in two places:
- `pulumi preview/up --policy-pack policy` (policy/__main__.py serves them over gRPC), and
- `pyscale plan` (policy/offline.py calls `policy.validate` directly on the
  registrations the mock engine recorded), so a violation fails the pull request before any
  cloud credential is involved.

This package imports nothing from the repository, and its modules import each other only
relatively: the Pulumi CLI runs the pack from policy/ in its own virtualenv
(policy/requirements.txt), where this package is the top-level `rules` and neither
`components` nor `policy` exists; tests and `pyscale plan` import it as `policy.rules`.

Layout: `tokens` (resource types), `reading` (unknowns, the `Res` view), `ingress`
(firewall rules of every cloud), one module per rule family (`network`, `load_balancer`,
`data_stores`, `secrets`, `capacity`), `crossguard` (bodies wrapped as policies), and here
the table of rules with their names and enforcement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pulumi_policy import Policy

from .capacity import check_capacity_consistent, check_prod_node_redundancy
from .crossguard import ADVISORY, MANDATORY, resource_policy, stack_policy
from .data_stores import check_data_stores_private, check_prod_database_protected
from .load_balancer import check_http_health_check, check_load_balancer_https
from .network import (
    check_monitoring_not_public,
    check_nodes_in_private_network,
    check_ssh_not_public,
    check_ssh_not_public_across_rules,
    check_web_through_load_balancer,
)
from .secrets import check_no_plaintext_secrets, plaintext_config
from .tokens import (
    DO_DATABASE,
    DO_DATABASE_FIREWALL,
    DO_DATABASE_REPLICA,
    DO_DROPLET,
    DO_FIREWALL,
    DO_LOAD_BALANCER,
    DO_VPC,
    OS_SECGROUP_RULE,
    OVH_DATABASE,
    OVH_DATABASE_IP_RESTRICTION,
    OVH_INSTANCE,
    OVH_L7_POLICY,
    OVH_LISTENER,
    OVH_LOAD_BALANCER,
    OVH_POOL,
    OVH_PRIVATE_NETWORK,
    OVH_SECURITY_GROUP,
    STACK,
)

__all__ = [
    "ADVISORY",
    "DO_DATABASE",
    "DO_DATABASE_FIREWALL",
    "DO_DATABASE_REPLICA",
    "DO_DROPLET",
    "DO_FIREWALL",
    "DO_LOAD_BALANCER",
    "DO_VPC",
    "MANDATORY",
    "OS_SECGROUP_RULE",
    "OVH_DATABASE",
    "OVH_DATABASE_IP_RESTRICTION",
    "OVH_INSTANCE",
    "OVH_L7_POLICY",
    "OVH_LISTENER",
    "OVH_LOAD_BALANCER",
    "OVH_POOL",
    "OVH_PRIVATE_NETWORK",
    "OVH_SECURITY_GROUP",
    "POLICIES",
    "RULES",
    "STACK",
    "Rule",
    "by_name",
    "plaintext_config",
]


@dataclass(frozen=True)
class Rule:
    """A policy and what it is for, for docs and tests."""

    policy: Policy
    covers: str = field(compare=False)


RULES: tuple[Rule, ...] = (
    Rule(resource_policy("ssh-not-public", MANDATORY, check_ssh_not_public),
         "nodes not reachable on 22 from 0.0.0.0/0 or ::/0"),
    Rule(resource_policy("monitoring-not-public", MANDATORY, check_monitoring_not_public),
         "Grafana, Prometheus, Alertmanager and the metrics ports never open to the internet"),
    Rule(stack_policy("ssh-not-public-across-rules", MANDATORY,
                      check_ssh_not_public_across_rules),
         "the same, through several OpenStack rules of one security group"),
    Rule(stack_policy("web-through-load-balancer", MANDATORY, check_web_through_load_balancer),
         "HTTP(S) to nodes only via the load balancer, except single-node dev"),
    Rule(stack_policy("load-balancer-https", MANDATORY, check_load_balancer_https),
         "load balancer: HTTPS with certificate, HTTP->HTTPS redirect, health check"),
    Rule(stack_policy("load-balancer-http-health-check", ADVISORY, check_http_health_check),
         "health check probes an HTTP path, not just the TCP port"),
    Rule(stack_policy("data-stores-private", MANDATORY, check_data_stores_private),
         "PostgreSQL and Valkey firewalled / IP-restricted to the nodes, never public"),
    Rule(stack_policy("prod-database-protected", MANDATORY, check_prod_database_protected),
         "prod PostgreSQL: protect, at least one read replica, backups kept"),
    Rule(stack_policy("nodes-in-private-network", MANDATORY, check_nodes_in_private_network),
         "every node in the stack's VPC / private network"),
    Rule(stack_policy("no-plaintext-secrets", MANDATORY, check_no_plaintext_secrets),
         "no credential in a plain input or stack output"),
    Rule(stack_policy("capacity-consistent", MANDATORY, check_capacity_consistent),
         "node count and size match the WebStack's capacity plan"),
    Rule(stack_policy("prod-node-redundancy", ADVISORY, check_prod_node_redundancy),
         "prod runs two or more nodes (N+1)"),
)  # fmt: skip

POLICIES: list[Policy] = [rule.policy for rule in RULES]


def by_name(name: str) -> Policy:
    """The policy called `name` (tests and docs address rules by name)."""
    return next(p for p in POLICIES if p.name == name)
