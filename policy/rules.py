"""pyscale's safety rules, as Pulumi CrossGuard policies.

The same `Policy` objects run in two places:
- `pulumi preview/up --policy-pack policy` (policy/__main__.py serves them over gRPC), and
- `pyscale plan` (policy/offline.py calls `policy.validate` directly on the
  registrations the mock engine recorded), so a violation fails the pull request before any
  cloud credential is involved.

This module imports nothing from the repository: the Pulumi CLI runs the pack from this
directory in its own virtualenv (policy/requirements.txt), where `components` does not exist.

Inputs are read through `_plain`, which turns the SDK's unknown-checking proxies into plain
dicts and lists. During `pulumi preview` an input computed from another resource's output
(an id, a tag name) is not known yet; the proxy would raise on access and the SDK would skip
the whole policy with an advisory "can't run during preview". Reading each value once and
mapping unknowns to `UNKNOWN` lets a rule decide per value instead: an unknown never proves a
violation, and never proves compliance where the rule needs the value.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy

# --- resource type tokens (as the engine and policies see them) --------------------------
DO_DROPLET = "digitalocean:index/droplet:Droplet"
DO_FIREWALL = "digitalocean:index/firewall:Firewall"
DO_LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
DO_DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
DO_DATABASE_REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica"
DO_DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
DO_VPC = "digitalocean:index/vpc:Vpc"
OVH_INSTANCE = "ovh:index/cloudInstance:CloudInstance"
OVH_SECURITY_GROUP = "ovh:index/cloudSecurityGroup:CloudSecurityGroup"
OVH_LOAD_BALANCER = "ovh:index/cloudLoadbalancer:CloudLoadbalancer"
OVH_LISTENER = "ovh:index/cloudLoadbalancerListener:CloudLoadbalancerListener"
OVH_POOL = "ovh:index/cloudLoadbalancerPool:CloudLoadbalancerPool"
OVH_L7_POLICY = "ovh:index/cloudLoadbalancerL7policy:CloudLoadbalancerL7policy"
OVH_LEGACY_LOAD_BALANCER = "ovh:CloudProject/loadBalancer:LoadBalancer"
OVH_DATABASE = "ovh:CloudProject/database:Database"
OVH_DATABASE_IP_RESTRICTION = "ovh:CloudProjectDatabase/ipRestriction:IpRestriction"
OVH_PRIVATE_NETWORK = "ovh:index/cloudNetworkPrivateVrack:CloudNetworkPrivateVrack"
OVH_PRIVATE_SUBNET = "ovh:index/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet"
OVH_LEGACY_PRIVATE_NETWORK = "ovh:CloudProject/networkPrivate:NetworkPrivate"
OS_INSTANCE = "openstack:compute/instance:Instance"
OS_SECGROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule"
OS_NETWORK = "openstack:networking/network:Network"
STACK = "pulumi:pulumi:Stack"
WEBSTACK_SUFFIX = ":WebStack"  # pyscale:digitalocean:WebStack, pyscale:ovh:WebStack

NODE_TYPES = frozenset({DO_DROPLET, OVH_INSTANCE, OS_INSTANCE})
LOAD_BALANCER_TYPES = frozenset({DO_LOAD_BALANCER, OVH_LOAD_BALANCER, OVH_LEGACY_LOAD_BALANCER})
PRIVATE_NETWORK_TYPES = {
    DO_DROPLET: frozenset({DO_VPC}),
    OVH_INSTANCE: frozenset({OVH_PRIVATE_NETWORK, OVH_PRIVATE_SUBNET, OVH_LEGACY_PRIVATE_NETWORK}),
    OS_INSTANCE: frozenset({OS_NETWORK}),
}
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
SSH_PORT = 22
WEB_PORTS = (80, 443)


class _Unknown:
    """A value the engine does not know yet (preview, computed from another resource)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()
_UNKNOWN_SENTINELS = frozenset(
    {
        _proxy.UNKNOWN_BOOLEAN_VALUE,
        _proxy.UNKNOWN_NUMBER_VALUE,
        _proxy.UNKNOWN_STRING_VALUE,
        _proxy.UNKNOWN_ARRAY_VALUE,
        _proxy.UNKNOWN_ASSET_VALUE,
        _proxy.UNKNOWN_ARCHIVE_VALUE,
        _proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def _plain(value: Any) -> Any:
    """Plain dicts/lists from the SDK's proxies; unknowns become UNKNOWN; Secret kept."""
    if isinstance(value, Secret):
        return Secret(_plain(value.value))
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = _plain(value[key])
            except _proxy.UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(_plain(value[index]))
            except _proxy.UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def _reveal(value: Any) -> Any:
    """The value with every Secret marker removed, for rules that read content."""
    if isinstance(value, Secret):
        return _reveal(value.value)
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


@dataclass(frozen=True)
class Res:
    """One resource as the rules read it.

    `raw` keeps Secret markers (for the secrets rule); `props` is the same without them.
    """

    type: str
    name: str
    urn: str
    raw: dict[str, Any]
    protect: bool | None = None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    props: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "props", _reveal(self.raw))

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


def _from_args(args: ResourceValidationArgs) -> Res:
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        raw=_plain(args.props),
        protect=args.opts.protect if args.opts is not None else None,
        parent=args.opts.parent if args.opts is not None else None,
    )


def _from_resource(resource: PolicyResource) -> Res:
    return Res(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        raw=_plain(resource.props),
        protect=resource.opts.protect if resource.opts is not None else None,
        parent=resource.parent.urn if resource.parent is not None else resource.opts.parent,
        dependencies=tuple(d.urn for d in resource.dependencies),
    )


# --- small readers ----------------------------------------------------------------------


def _is_public_source(cidr: Any) -> bool:
    """True for 0.0.0.0/0, ::/0 and any other address outside private/documentation ranges.

    An address we cannot parse (a name, UNKNOWN) is not proof of exposure.
    """
    if not isinstance(cidr, str):
        return False
    if cidr in ANYWHERE:
        return True
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return not (network.is_private or network.is_loopback or network.is_link_local)


def _port_range_covers(port_range: Any, port: int) -> bool:
    """DigitalOcean `portRange`: "22", "1-65535", "all" (or absent for all ports)."""
    if port_range is None or port_range == "" or port_range == "all":
        return True
    if not isinstance(port_range, str | int):
        return False  # UNKNOWN: cannot prove exposure
    text = str(port_range)
    low, _, high = text.partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


def _min_max_covers(low: Any, high: Any, port: int) -> bool:
    """OpenStack/OVH `portRangeMin`/`portRangeMax`; both absent means every port."""
    if low in (None, 0) and high in (None, 0):
        return True
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return False
    return int(low) <= port <= int(high)


@dataclass(frozen=True)
class Ingress:
    """One inbound rule, whatever the cloud: which ports, from where."""

    owner: Res
    protocol: str
    covers: Callable[[int], bool]
    sources: tuple[Any, ...]  # CIDRs; also non-address sources (load balancer, tag)
    addresses_only: bool  # False when the rule names a load balancer/tag/droplet


def _ingress_rules(res: Res) -> list[Ingress]:
    """Inbound rules of a DigitalOcean firewall, OVH security group or OpenStack rule."""
    rules: list[Ingress] = []
    if res.type == DO_FIREWALL:
        for rule in res.get("inboundRules") or []:
            if not isinstance(rule, dict):
                continue
            addresses = tuple(rule.get("sourceAddresses") or ())
            others = any(
                rule.get(k)
                for k in ("sourceLoadBalancerUids", "sourceTags", "sourceDropletIds")
                if k in rule
            )
            port_range = rule.get("portRange")
            rules.append(
                Ingress(
                    res,
                    str(rule.get("protocol", "")).lower(),
                    lambda port, pr=port_range: _port_range_covers(pr, port),
                    addresses,
                    not others,
                )
            )
    elif res.type == OVH_SECURITY_GROUP:
        for rule in res.get("rules") or []:
            if isinstance(rule, dict) and str(rule.get("direction", "")).upper() == "INGRESS":
                rules.append(_openstack_ingress(res, rule))
    elif res.type == OS_SECGROUP_RULE and str(res.get("direction", "")).lower() == "ingress":
        rules.append(_openstack_ingress(res, res.props))
    return rules


def _openstack_ingress(res: Res, rule: dict[str, Any]) -> Ingress:
    """OpenStack semantics: no protocol = any protocol, no remote prefix = anywhere."""
    low, high = rule.get("portRangeMin"), rule.get("portRangeMax")
    remote = rule.get("remoteIpPrefix")
    group = rule.get("remoteGroupId")
    sources = (remote,) if remote else (() if group else ("0.0.0.0/0",))
    return Ingress(
        res,
        str(rule.get("protocol") or "any").lower(),
        lambda port: _min_max_covers(low, high, port),
        sources,
        not group,
    )


def _tcp(rule: Ingress) -> bool:
    return rule.protocol in ("tcp", "any", "")


def _webstack(resources: Iterable[Res]) -> Res | None:
    return next((r for r in resources if r.type.endswith(WEBSTACK_SUFFIX)), None)


def _single_node_topology(resources: list[Res]) -> bool:
    """dev: one node, no load balancer, Nginx faces the internet itself."""
    stack = _webstack(resources)
    no_balancer = not any(r.type in LOAD_BALANCER_TYPES for r in resources)
    nodes = sum(r.type in NODE_TYPES for r in resources)
    declared = stack.get("nodeCount") if stack is not None else None
    return no_balancer and nodes <= 1 and declared in (None, 1)


# --- rule bodies: Res -> messages -------------------------------------------------------
Finding = tuple[str, str | None]  # message, urn (None: the stack as a whole)


def _at(res: Res, message: str) -> Finding:
    return (f"{res.name}: {message}", res.urn)


def check_ssh_not_public(res: Res) -> list[str]:
    """Port 22 open to the whole internet is the first thing scanners find."""
    return [
        f"{res.name}: inbound {rule.protocol} port {SSH_PORT} from "
        f"{', '.join(sorted(s for s in rule.sources if s in ANYWHERE))}; allow SSH from "
        "named CIDRs (pyscale:sshAllowCidrs) or use the provider's console"
        for rule in _ingress_rules(res)
        if _tcp(rule) and rule.covers(SSH_PORT) and any(s in ANYWHERE for s in rule.sources)
    ]


def check_web_through_load_balancer(resources: list[Res]) -> list[Finding]:
    """Behind a load balancer, a node answering the internet directly skips TLS and health."""
    if _single_node_topology(resources):
        return []
    findings: list[Finding] = []
    for res in resources:
        for rule in _ingress_rules(res):
            public = sorted(str(s) for s in rule.sources if _is_public_source(s))
            ports = "/".join(str(p) for p in WEB_PORTS if rule.covers(p))
            if _tcp(rule) and ports and public:
                findings.append(
                    _at(
                        res,
                        f"inbound port {ports} from {', '.join(public)}; with a load balancer, "
                        "web traffic reaches nodes only from it (DigitalOcean: "
                        "sourceLoadBalancerUids; OVHcloud: the private subnet)",
                    )
                )
    return findings


def _do_load_balancer_https(lb: Res) -> list[Finding]:
    findings: list[Finding] = []
    rules = [r for r in lb.get("forwardingRules") or [] if isinstance(r, dict)]
    https = [r for r in rules if str(r.get("entryProtocol", "")).lower() in ("https", "http2")]
    if not https:
        findings.append(_at(lb, "no forwarding rule with entryProtocol https"))
    for rule in https:
        if not (rule.get("certificateName") or rule.get("certificateId")):
            findings.append(_at(lb, f"HTTPS rule on {rule.get('entryPort')} has no certificate"))
    if lb.get("redirectHttpToHttps") not in (True, UNKNOWN):
        findings.append(_at(lb, "redirectHttpToHttps is not true"))
    if not lb.get("healthcheck"):
        findings.append(_at(lb, "no healthcheck; a dead node keeps receiving traffic"))
    return findings


def _ovh_load_balancer_https(lb: Res, resources: list[Res]) -> list[Finding]:
    listeners = [r for r in resources if r.type == OVH_LISTENER]
    redirects = [
        r
        for r in resources
        if r.type == OVH_L7_POLICY
        and r.get("action") in ("REDIRECT_PREFIX", "REDIRECT_TO_URL")
        and str(r.get("redirectPrefix") or r.get("redirectUrl") or "").startswith("https://")
    ]
    findings: list[Finding] = []
    if not any(r.get("protocol") in ("TERMINATED_HTTPS", "HTTPS") for r in listeners):
        findings.append(_at(lb, "no TERMINATED_HTTPS listener"))
    for listener in (r for r in listeners if r.get("protocol") == "HTTP"):
        if not any(listener.urn in p.dependencies for p in redirects):
            findings.append(_at(listener, "HTTP listener without an L7 redirect to https://"))
    for pool in (r for r in resources if r.type == OVH_POOL):
        if not pool.get("healthMonitor"):
            findings.append(_at(pool, "pool without healthMonitor"))
    return findings


def check_load_balancer_https(resources: list[Res]) -> list[Finding]:
    """The balancer terminates TLS, sends plain HTTP to HTTPS, and checks node health."""
    findings: list[Finding] = []
    for lb in resources:
        if lb.type == DO_LOAD_BALANCER:
            findings += _do_load_balancer_https(lb)
        elif lb.type == OVH_LOAD_BALANCER:
            findings += _ovh_load_balancer_https(lb, resources)
    return findings


def check_http_health_check(resources: list[Res]) -> list[Finding]:
    """A TCP check only proves the port is open; /healthz proves Nginx and Gunicorn answer."""
    findings: list[Finding] = []
    for res in resources:
        if res.type == DO_LOAD_BALANCER:
            check, kind, path = res.get("healthcheck"), "protocol", "path"
        elif res.type == OVH_POOL:
            check, kind, path = res.get("healthMonitor"), "type", "urlPath"
        else:
            continue
        if isinstance(check, dict) and (
            str(check.get(kind, "")).lower() not in ("http", "https") or not check.get(path)
        ):
            findings.append(
                _at(res, f"health check is {check.get(kind)} without {path}; probe /healthz")
            )
    return findings


def check_data_stores_private(resources: list[Res]) -> list[Finding]:
    """Managed PostgreSQL and Valkey answer only the nodes, never the internet."""
    findings: list[Finding] = []
    firewalls = [r for r in resources if r.type == DO_DATABASE_FIREWALL]
    for store in (r for r in resources if r.type in (DO_DATABASE, DO_DATABASE_REPLICA)):
        if not any(store.urn in f.dependencies for f in firewalls):
            findings.append(
                _at(store, "no DatabaseFirewall; without trusted sources it accepts any client")
            )
        if store.type == DO_DATABASE and not store.get("privateNetworkUuid"):
            findings.append(_at(store, "not in the stack's VPC (privateNetworkUuid)"))
    for firewall in firewalls:
        for rule in firewall.get("rules") or []:
            if (
                isinstance(rule, dict)
                and rule.get("type") == "ip_addr"
                and _is_public_source(rule.get("value"))
            ):
                findings.append(
                    _at(firewall, f"trusts public {rule.get('value')}; trust the nodes' tag")
                )
    for store in (r for r in resources if r.type == OVH_DATABASE):
        restrictions = [r for r in store.get("ipRestrictions") or [] if isinstance(r, dict)]
        if not restrictions:
            findings.append(_at(store, "no ipRestrictions; restrict it to the private subnet"))
        for restriction in restrictions:
            if _is_public_source(restriction.get("ip")):
                findings.append(_at(store, f"ipRestrictions allows {restriction.get('ip')}"))
    for restriction in (r for r in resources if r.type == OVH_DATABASE_IP_RESTRICTION):
        if _is_public_source(restriction.get("ip")):
            findings.append(_at(restriction, f"allows {restriction.get('ip')}"))
    return findings


def check_prod_database_protected(resources: list[Res]) -> list[Finding]:
    """Production data survives a mistaken `pulumi destroy` and a lost primary."""
    stack = _webstack(resources)
    if stack is None or stack.get("environment") != "prod":
        return []
    findings: list[Finding] = []
    for db in (r for r in resources if r.type == DO_DATABASE and r.get("engine") == "pg"):
        if db.protect is False:
            findings.append(_at(db, "prod PostgreSQL without protect=True"))
        if not any(r.type == DO_DATABASE_REPLICA and db.urn in r.dependencies for r in resources):
            findings.append(_at(db, "prod PostgreSQL without a read replica"))
    for db in (r for r in resources if r.type == OVH_DATABASE and r.get("engine") == "postgresql"):
        if db.protect is False and db.get("deletionProtection") is not True:
            findings.append(_at(db, "prod PostgreSQL without protect=True or deletionProtection"))
        nodes = db.get("nodes")
        if db.get("plan") == "essential" or (isinstance(nodes, list) and len(nodes) < 2):
            findings.append(
                _at(db, f"prod PostgreSQL on plan {db.get('plan')} has no replica node")
            )
        if db.get("backupRegions") == []:
            findings.append(_at(db, "backupRegions is empty: no copy of the backups"))
    return findings


def check_nodes_in_private_network(resources: list[Res]) -> list[Finding]:
    """Nodes reach the database and cache over the private network, never the internet."""
    findings: list[Finding] = []
    by_urn = {r.urn: r for r in resources}
    for node in (r for r in resources if r.type in NODE_TYPES):
        wanted = PRIVATE_NETWORK_TYPES[node.type]
        if not any(by_urn[d].type in wanted for d in node.dependencies if d in by_urn):
            kinds = " or ".join(sorted(t.split(":")[-1] for t in wanted))
            findings.append(_at(node, f"not attached to a {kinds} of this stack"))
        if node.type == DO_DROPLET and not node.get("vpcUuid"):
            findings.append(_at(node, "no vpcUuid; the droplet lands in the default VPC"))
    return findings


_SECRET_NAME = re.compile(r"password|passwd|secret|private_?key|token|api_?key|credential", re.I)
_CREDENTIAL_URI = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def _exposed(value: Any, path: str, name_hint: bool = False) -> list[str]:
    """Paths of values that hold a credential and are not marked secret."""
    if isinstance(value, Secret) or value is UNKNOWN or value is None:
        return []
    if isinstance(value, dict):
        return [
            p
            for k, v in value.items()
            for p in _exposed(v, f"{path}.{k}" if path else k, bool(_SECRET_NAME.search(k)))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _exposed(v, f"{path}[{i}]", name_hint)]
    credential = isinstance(value, str) and (
        _CREDENTIAL_URI.search(value) or _PRIVATE_KEY.search(value)
    )
    return [path] if credential or (name_hint and isinstance(value, str) and value) else []


def check_no_plaintext_secrets(resources: list[Res]) -> list[Finding]:
    """A credential in a plain input or export lands unencrypted in the state and the logs."""
    return [
        _at(
            res,
            f"{'stack output' if res.type == STACK else 'input'} {path} holds a credential in "
            "plain text; wrap it in pulumi.Output.secret or set it with `config set --secret`",
        )
        for res in resources
        for path in _exposed(res.raw, "")
    ]


def plaintext_config(config: Mapping[str, Any], secret_keys: Iterable[str]) -> list[str]:
    """Stack config keys holding a credential without `--secret`.

    Offline `plan` only: CrossGuard never sees the stack's config.
    """
    secret = set(secret_keys)
    return sorted(
        key
        for key, value in config.items()
        if key not in secret and _exposed({key.split(":")[-1]: _config_value(value)}, "")
    )


def _config_value(value: Any) -> Any:
    """Config strings may hold JSON objects (structured config); read them as such."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def check_capacity_consistent(resources: list[Res]) -> list[Finding]:
    """The nodes created are the nodes the capacity plan sized the whole chain for."""
    nodes = [r for r in resources if r.type in NODE_TYPES]
    stack = _webstack(resources)
    if stack is None:
        return [("nodes exist but no WebStack declares nodeCount/nodeSize", None)] if nodes else []
    count, size = stack.get("nodeCount"), stack.get("nodeSize")
    findings: list[Finding] = []
    if isinstance(count, int | float) and len(nodes) != int(count):
        findings.append(
            _at(stack, f"capacity plan says {int(count)} nodes, the stack creates {len(nodes)}")
        )
    for node in nodes:
        # OVHcloud instances carry a flavorId (a UUID looked up from the name): only
        # DigitalOcean droplets name their size, so only they are compared.
        actual = node.get("size") if node.type == DO_DROPLET else None
        if isinstance(actual, str) and isinstance(size, str) and actual != size:
            findings.append(_at(node, f"size {actual}, the capacity plan sized {size}"))
    return findings


def check_prod_node_redundancy(resources: list[Res]) -> list[Finding]:
    """One prod node means any reboot is an outage; the plan's N+1 needs two or more."""
    stack = _webstack(resources)
    if stack is None or stack.get("environment") != "prod":
        return []
    count = stack.get("nodeCount")
    if isinstance(count, int | float) and count < 2:
        return [_at(stack, f"prod runs {int(count)} node; one failure is an outage")]
    return []


# --- policies ---------------------------------------------------------------------------


def _resource_policy(
    name: str, level: EnforcementLevel, body: Callable[[Res], list[str]]
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in body(_from_args(args)):
            report(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=(body.__doc__ or name).strip(),
        validate=validate,
        enforcement_level=level,
    )


def _stack_policy(
    name: str, level: EnforcementLevel, body: Callable[[list[Res]], list[Finding]]
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in body([_from_resource(r) for r in args.resources]):
            report(message, urn)

    return StackValidationPolicy(
        name=name,
        description=(body.__doc__ or name).strip(),
        validate=validate,
        enforcement_level=level,
    )


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Rule:
    """A policy and what it is for, for docs and tests."""

    policy: Policy
    covers: str = field(compare=False)


RULES: tuple[Rule, ...] = (
    Rule(_resource_policy("ssh-not-public", MANDATORY, check_ssh_not_public),
         "nodes not reachable on 22 from 0.0.0.0/0 or ::/0"),
    Rule(_stack_policy("web-through-load-balancer", MANDATORY, check_web_through_load_balancer),
         "HTTP(S) to nodes only via the load balancer, except single-node dev"),
    Rule(_stack_policy("load-balancer-https", MANDATORY, check_load_balancer_https),
         "load balancer: HTTPS with certificate, HTTP->HTTPS redirect, health check"),
    Rule(_stack_policy("load-balancer-http-health-check", ADVISORY, check_http_health_check),
         "health check probes an HTTP path, not just the TCP port"),
    Rule(_stack_policy("data-stores-private", MANDATORY, check_data_stores_private),
         "PostgreSQL and Valkey firewalled / IP-restricted to the nodes, never public"),
    Rule(_stack_policy("prod-database-protected", MANDATORY, check_prod_database_protected),
         "prod PostgreSQL: protect, at least one read replica, backups kept"),
    Rule(_stack_policy("nodes-in-private-network", MANDATORY, check_nodes_in_private_network),
         "every node in the stack's VPC / private network"),
    Rule(_stack_policy("no-plaintext-secrets", MANDATORY, check_no_plaintext_secrets),
         "no credential in a plain input or stack output"),
    Rule(_stack_policy("capacity-consistent", MANDATORY, check_capacity_consistent),
         "node count and size match the WebStack's capacity plan"),
    Rule(_stack_policy("prod-node-redundancy", ADVISORY, check_prod_node_redundancy),
         "prod runs two or more nodes (N+1)"),
)  # fmt: skip

POLICIES: list[Policy] = [rule.policy for rule in RULES]


def by_name(name: str) -> Policy:
    """The policy called `name` (tests and docs address rules by name)."""
    return next(p for p in POLICIES if p.name == name)
