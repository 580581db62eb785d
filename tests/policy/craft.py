"""Hand-built policy arguments, shaped like what the engine sends for pyscale's resources.

Property names are the providers' camelCase input names (pulumi_digitalocean, pulumi_ovh),
the names the engine and CrossGuard see. Each `good_*` stack is a minimal compliant
topology; tests break one thing in a copy and expect exactly that rule to fire.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
)

from policy import rules

PROJECT = "pyscale"


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


@dataclass
class R:
    """A resource to hand to a policy; `deps` are names of other resources in the stack."""

    type: str
    name: str
    props: dict[str, Any]
    protect: bool = False
    deps: tuple[str, ...] = ()
    stack: str = "prod"

    @property
    def urn(self) -> str:
        return urn(self.stack, self.type, self.name)


def _options(r: R) -> PolicyResourceOptions:
    return PolicyResourceOptions(r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(r: R) -> ResourceValidationArgs:
    return ResourceValidationArgs(r.type, r.props, r.urn, r.name, _options(r), None)


def stack_args(resources: list[R]) -> StackValidationArgs:
    built = {
        r.name: PolicyResource(r.type, r.props, r.urn, r.name, _options(r), None, None, [], {})
        for r in resources
    }
    for r in resources:
        built[r.name].dependencies = [built[d] for d in r.deps]
    return StackValidationArgs(list(built.values()))


def violations(policy_name: str, resources: list[R]) -> list[tuple[str, str | None]]:
    """(message, urn) for every violation `policy_name` reports, via its own `validate`."""
    policy = rules.by_name(policy_name)
    found: list[tuple[str, str | None]] = []
    if isinstance(policy, ResourceValidationPolicy):
        for r in resources:
            policy.validate(resource_args(r), lambda m, _u=None, u=r.urn: found.append((m, u)))
    else:
        policy.validate(stack_args(resources), lambda m, u=None: found.append((m, u)))
    return found


def find(resources: list[R], name: str) -> R:
    return next(r for r in resources if r.name == name)


def edited(resources: list[R], name: str, **props: Any) -> list[R]:
    """A deep copy of the stack with `name`'s props updated (None deletes a prop)."""
    out = copy.deepcopy(resources)
    target = find(out, name)
    for key, value in props.items():
        if value is None:
            target.props.pop(key, None)
        else:
            target.props[key] = value
    return out


def webstack(cloud: str, environment: str, count: int, size: str, stack: str) -> R:
    return R(
        f"pyscale:{cloud}:WebStack",
        f"pyscale-{stack}",
        {"cloud": cloud, "environment": environment, "nodeCount": count, "nodeSize": size},
        stack=stack,
    )


def good_digitalocean(environment: str = "prod", nodes: int = 3) -> list[R]:
    """A DigitalOcean stack the way components/digitalocean builds one."""
    s = environment
    web_tag = f"pyscale-{s}-web"
    drops = [
        R(
            rules.DO_DROPLET,
            f"pyscale-{s}-node-{i}",
            {
                "size": "c-16",
                "region": "fra1",
                "image": "ubuntu-24-04-x64",
                "vpcUuid": "vpc-uuid",
                "tags": [web_tag],
                "userData": Secret("#cloud-config\n# DATABASE_URL=postgresql://u:p@db:25060/app"),
            },
            deps=(f"pyscale-{s}-vpc",),
            stack=s,
        )
        for i in range(1, nodes + 1)
    ]
    return [
        webstack("digitalocean", environment, nodes, "c-16", s),
        R(
            rules.DO_VPC,
            f"pyscale-{s}-vpc",
            {"region": "fra1", "ipRange": "10.110.0.0/20"},
            stack=s,
        ),
        *drops,
        R(
            rules.DO_FIREWALL,
            f"pyscale-{s}-firewall",
            {
                "tags": [web_tag],
                "inboundRules": [
                    {"protocol": "tcp", "portRange": "80", "sourceLoadBalancerUids": ["lb-uid"]},
                    {"protocol": "tcp", "portRange": "22", "sourceAddresses": ["198.51.100.0/24"]},
                    {"protocol": "tcp", "portRange": "9100", "sourceAddresses": ["10.110.0.0/20"]},
                ],
                "outboundRules": [
                    {
                        "protocol": "tcp",
                        "portRange": "1-65535",
                        "destinationAddresses": ["0.0.0.0/0", "::/0"],
                    },
                ],
            },
            stack=s,
        ),
        R(
            rules.DO_LOAD_BALANCER,
            f"pyscale-{s}-lb",
            {
                "vpcUuid": "vpc-uuid",
                "dropletTag": web_tag,
                "redirectHttpToHttps": True,
                "forwardingRules": [
                    {
                        "entryProtocol": "https",
                        "entryPort": 443,
                        "targetProtocol": "http",
                        "targetPort": 80,
                        "certificateName": "pyscale-le",
                    },
                    {
                        "entryProtocol": "http",
                        "entryPort": 80,
                        "targetProtocol": "http",
                        "targetPort": 80,
                    },
                ],
                "healthcheck": {"protocol": "http", "port": 80, "path": "/healthz"},
            },
            deps=(f"pyscale-{s}-vpc",),
            stack=s,
        ),
        R(
            rules.DO_DATABASE,
            f"pyscale-{s}-pg",
            {
                "engine": "pg",
                "version": "17",
                "size": "db-s-4vcpu-8gb",
                "nodeCount": 2,
                "privateNetworkUuid": "vpc-uuid",
            },
            protect=environment == "prod",
            deps=(f"pyscale-{s}-vpc",),
            stack=s,
        ),
        R(
            rules.DO_DATABASE_REPLICA,
            f"pyscale-{s}-pg-replica-1",
            {"clusterId": "pg-id", "size": "db-s-4vcpu-8gb", "privateNetworkUuid": "vpc-uuid"},
            deps=(f"pyscale-{s}-pg",),
            stack=s,
        ),
        R(
            rules.DO_DATABASE,
            f"pyscale-{s}-valkey",
            {"engine": "valkey", "size": "db-s-2vcpu-4gb", "privateNetworkUuid": "vpc-uuid"},
            deps=(f"pyscale-{s}-vpc",),
            stack=s,
        ),
        *(
            R(
                rules.DO_DATABASE_FIREWALL,
                f"{guarded}-firewall",
                {"clusterId": "id", "rules": [{"type": "tag", "value": web_tag}]},
                deps=(guarded,),
                stack=s,
            )
            for guarded in (f"pyscale-{s}-pg", f"pyscale-{s}-pg-replica-1", f"pyscale-{s}-valkey")
        ),
    ]


def good_dev() -> list[R]:
    """dev: one droplet facing the internet itself, no load balancer, no replica."""
    resources = [
        r
        for r in good_digitalocean("dev", nodes=1)
        if r.type not in (rules.DO_LOAD_BALANCER, rules.DO_DATABASE_REPLICA)
        and r.name != "pyscale-dev-pg-replica-1-firewall"
    ]
    return edited(
        resources,
        "pyscale-dev-firewall",
        inboundRules=[
            {"protocol": "tcp", "portRange": "80", "sourceAddresses": ["0.0.0.0/0", "::/0"]},
            {"protocol": "tcp", "portRange": "443", "sourceAddresses": ["0.0.0.0/0", "::/0"]},
        ],
    )


def good_ovh() -> list[R]:
    """An OVHcloud stack the way components/ovh builds one."""
    s, subnet = "prod-ovh", "10.110.0.0/20"
    net = "pyscale-prod-ovh-net-vrack"
    nodes = [
        R(
            rules.OVH_INSTANCE,
            f"pyscale-prod-ovh-node-{i}",
            {
                "flavorId": "flavor-uuid",
                "region": "GRA11",
                "userData": Secret("#cloud-config"),
                "networks": [
                    {"networkId": "net-id", "subnetId": "subnet-id"},
                    {"autoAssignPublicIp": True},
                ],
            },
            deps=(net, "pyscale-prod-ovh-node-sg"),
            stack=s,
        )
        for i in (1, 2, 3)
    ]
    listener_http = "pyscale-prod-ovh-lb-http"
    return [
        webstack("ovh", "prod", 3, "c3-32", s),
        R(rules.OVH_PRIVATE_NETWORK, net, {"region": "GRA11"}, stack=s),
        R(
            rules.OVH_SECURITY_GROUP,
            "pyscale-prod-ovh-node-sg",
            {
                "rules": [
                    {
                        "direction": "INGRESS",
                        "protocol": "TCP",
                        "portRangeMin": 80,
                        "portRangeMax": 80,
                        "remoteIpPrefix": subnet,
                    },
                ]
            },
            stack=s,
        ),
        *nodes,
        R(rules.OVH_LOAD_BALANCER, "pyscale-prod-ovh-lb-lb", {"flavorName": "XL"}, stack=s),
        R(
            rules.OVH_LISTENER,
            "pyscale-prod-ovh-lb-https",
            {
                "protocol": "TERMINATED_HTTPS",
                "protocolPort": 443,
                "defaultTlsContainerRef": "https://key-manager.example/containers/1",
            },
            deps=("pyscale-prod-ovh-lb-lb",),
            stack=s,
        ),
        R(
            rules.OVH_LISTENER,
            listener_http,
            {"protocol": "HTTP", "protocolPort": 80},
            deps=("pyscale-prod-ovh-lb-lb",),
            stack=s,
        ),
        R(
            rules.OVH_L7_POLICY,
            "pyscale-prod-ovh-lb-http-redirect",
            {
                "action": "REDIRECT_PREFIX",
                "redirectPrefix": "https://app.example.com",
                "redirectHttpCode": 301,
            },
            deps=(listener_http,),
            stack=s,
        ),
        R(
            rules.OVH_POOL,
            "pyscale-prod-ovh-lb-web-pool",
            {"protocol": "HTTP", "healthMonitor": {"type": "HTTP", "urlPath": "/healthz"}},
            stack=s,
        ),
        R(
            rules.OVH_DATABASE,
            "pyscale-prod-ovh-db-postgresql",
            {
                "engine": "postgresql",
                "plan": "enterprise",
                "flavor": "db1-15",
                "deletionProtection": True,
                "nodes": [{"region": "GRA"}] * 3,
                "ipRestrictions": [{"ip": subnet}],
            },
            protect=True,
            deps=(net,),
            stack=s,
        ),
        R(
            rules.OVH_DATABASE,
            "pyscale-prod-ovh-cache-valkey",
            {
                "engine": "valkey",
                "plan": "essential",
                "nodes": [{"region": "GRA"}],
                "ipRestrictions": [{"ip": subnet}],
            },
            deps=(net,),
            stack=s,
        ),
    ]


def outputs_resource(stack: str, values: Mapping[str, Any]) -> R:
    """The root stack resource, whose properties are the stack's exports."""
    return R(rules.STACK, f"{PROJECT}-{stack}", dict(values), stack=stack)
