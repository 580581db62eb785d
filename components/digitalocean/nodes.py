"""The nodes: `plan.nodes` droplets in the VPC (or, with autoscale, a Droplet autoscale pool
between the plan's bounds), and the cloud firewall on them.

Every node boots the image of `pyscale:nodeImage` (the catalog's slug, Debian 13 unless the
stack says otherwise) from the same rendered user-data (pyscale/render/), which holds the
database and cache URIs and is therefore a secret. DigitalOcean cannot change a droplet's
user-data in place: a new bootstrap replaces the nodes. Replacement is Pulumi's default,
create-before-destroy (never `delete_before_replace`), and gated (components/gate.py): nodes
are replaced `rollout.batchSize` at a time, and an old droplet drains and stops only once
the load balancer reports its successor healthy.

With `backups` on, every droplet is backed up on an explicit policy, weekly (BACKUP_POLICY):
without one DigitalOcean backs up daily, at 30% of the droplet's price instead of 20%
(Droplet.backupPolicy; docs.digitalocean.com/products/backups/details/pricing), and the
estimate prices the plan requested here (pyscale/clouds/digitalocean/pricing.py). The
provider refuses a policy on a droplet without backups, so it is set only with them; a
changed policy is applied in place (ChangeBackupPolicy), not by replacement.

The cloud firewall applies to the web tag. Web ports are open only to the load balancer
(or to anyone in the single-node topology, where Nginx faces the internet), SSH only to
`sshAllowCidrs` (no rule at all by default), the Prometheus exporters and the app's metrics
only to the VPC.

With autoscale (a fleet that scales itself, on VMs) DigitalOcean creates and destroys the
members between the plan's bounds, scaling on their average CPU (and memory, when
autoscale.memoryTarget is set).

Each member is what a fixed node is: the same size, image, region, VPC, SSH keys and tags
(the stack's and the web tag), booted from the same rendered user-data, which holds the
database and cache URIs and stays a Pulumi secret in the pool's template. Everything else
finds the members by the web tag, as it finds fixed nodes: the load balancer targets it
(loadbalancer.py), the cloud firewall below applies to it, the databases' trusted
sources admit it (database.py), DigitalOcean's alerts watch it (monitoring.py) and the
monitoring node discovers it (pyscale/clouds/digitalocean/discovery.py). The droplet agent
is installed on every member: the pool scales on the utilisation it reports.

What the pool changes: a new user-data (or size, image) is an in-place update of the pool's
template, not a replacement of nodes by Pulumi. DigitalOcean then replaces the members
itself, booting new ones and destroying the old ones once the cooldown has passed (a
CONFIGURATION_CHANGE event), and a member leaving the pool is shut down (it drains:
pyscale-drain) 60 s before it is destroyed. Pulumi's per-node health gates (components/
gate.py) cannot hold an old member back, so the plan makes the cloud's own pacing safe
instead (pyscale/capacity/autoscale.py, pyscale/settings/autoscale.py): the cooldown is at
least the time a new node has to turn healthy, old and new members together fit every
budget, and the drain fits the 60 s. docs/architecture.md, "A fleet that scales itself".

The members are not put in the stack's Project: the Project resource owns its resource list
(terraform-provider-digitalocean resource_project.go reads every URN in the project back and
moves the ones it does not list to the default project on the next update), and DigitalOcean,
not Pulumi, creates the members. They stay in the account's default project. Deleting the
pool deletes its members (the provider calls DELETE .../dangerous), and the pinned provider's
waiter does not know the API's `deleting` status: the `pulumi destroy` (or the update that
turns autoscale off) fails once although DigitalOcean completes the deletion
(terraform-provider-digitalocean#1605); run it again, it then reads the 404 and goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import moved
from components.digitalocean.network import Network
from components.gate import HealthGate, batch_dependencies
from pyscale import clouds, render
from pyscale.capacity import CapacityPlan
from pyscale.clouds.digitalocean.pricing import BACKUP_PLAN
from pyscale.settings import Settings

ANYWHERE = ("0.0.0.0/0", "::/0")
SSH_PORT = 22
# Weekly, on Saturday in the 4-hour window from 04:00 UTC (windows start at 0, 4, 8, 12, 16
# or 20: openapi droplet_backup_policy.yml): a quiet hour, and not the day of the databases'
# default maintenance window (Sunday 03:00), so the two never weigh on the stack together.
BACKUP_POLICY = do.DropletBackupPolicyArgs(plan=BACKUP_PLAN, weekday="SAT", hour=4)


@dataclass(frozen=True)
class NodesArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network
    user_data: pulumi.Input[str]  # secret: holds the database and cache URIs
    # None without a load balancer (single node): web ports are then open to the internet.
    load_balancer_id: pulumi.Input[str] | None


def inbound_rules(
    settings: Settings, load_balancer_id: pulumi.Input[str] | None
) -> list[do.FirewallInboundRuleArgs]:
    """Who may open a connection to a node. `load_balancer_id` is None without a load
    balancer (single node): web ports are then open to the internet."""
    rules = []
    for port in render.web_ports(settings):
        if load_balancer_id is None:
            source = {"source_addresses": list(ANYWHERE)}
        else:
            source = {"source_load_balancer_uids": [load_balancer_id]}
        rules.append(do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(port), **source))
    rules += ssh_rules(settings)
    for port in render.METRICS_PORTS.values():
        rules.append(
            do.FirewallInboundRuleArgs(
                protocol="tcp", port_range=str(port), source_addresses=[settings.vpc_cidr]
            )
        )
    return rules


def ssh_rules(settings: Settings) -> list[do.FirewallInboundRuleArgs]:
    """SSH from `sshAllowCidrs` only; no rule at all without them."""
    if not settings.ssh_allow_cidrs:
        return []
    sources = list(settings.ssh_allow_cidrs)
    return [do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(SSH_PORT),
                                       source_addresses=sources)]  # fmt: skip


def outbound_rules() -> list[do.FirewallOutboundRuleArgs]:
    """Everything out: package mirrors, git, Let's Encrypt, the databases, DNS, NTP."""
    return [
        do.FirewallOutboundRuleArgs(
            protocol=protocol, port_range="1-65535", destination_addresses=list(ANYWHERE)
        )
        for protocol in ("tcp", "udp")
    ] + [do.FirewallOutboundRuleArgs(protocol="icmp", destination_addresses=list(ANYWHERE))]


def pool_config(args: NodesArgs) -> do.DropletAutoscaleConfigArgs:
    """The pool's bounds, targets and cooldown, from the plan."""
    pool = args.plan.autoscale
    if pool is None:
        raise ValueError("a Droplet autoscale pool needs a plan with autoscale")
    return do.DropletAutoscaleConfigArgs(
        min_instances=pool.min_nodes,
        max_instances=pool.max_nodes,
        target_cpu_utilization=pool.cpu_target,
        target_memory_utilization=pool.memory_target,
        cooldown_minutes=pool.cooldown_minutes,
    )


def droplet_pool(part: pulumi.ComponentResource, args: NodesArgs) -> do.DropletAutoscale:
    """The pool, a child of `part` (the Nodes component)."""
    settings, network = args.settings, args.network
    prefix = settings.resource_prefix
    return do.DropletAutoscale(
        f"{prefix}-pool",
        name=f"{prefix}-web",
        config=pool_config(args),
        droplet_template=do.DropletAutoscaleDropletTemplateArgs(
            size=settings.node_size.name,
            region=settings.region,
            image=clouds.get(settings.cloud).catalog.images[settings.node_image],
            ssh_keys=list(settings.ssh_keys),
            vpc_uuid=network.vpc_id,
            tags=[network.tags.stack, network.tags.web],
            user_data=pulumi.Output.secret(args.user_data),
            # The agent reports the utilisation the pool scales on, and feeds the alerts.
            with_droplet_agent=True,
        ),
        opts=pulumi.ResourceOptions(parent=part),
    )


@pulumi.type_token("pyscale:digitalocean:Nodes")
class Nodes(pulumi.ComponentResource):
    """The droplets and the cloud firewall on their tag; children are named after the stack
    (settings.resource_prefix), as they were before this part existed."""

    public_ips: pulumi.Output[list[str]]  # in node order
    droplet_urns: list[pulumi.Output[str]]  # DigitalOcean's own URNs, for the Project

    def __init__(
        self, name: str, args: NodesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, network = args.settings, args.network
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        if args.plan.autoscale is not None:
            # The cloud creates and destroys the members: Pulumi knows none of them.
            droplet_pool(self, args)
            droplets: list[do.Droplet] = []
        else:
            droplets = self._droplets(args, child)
        do.Firewall(
            f"{prefix}-firewall",
            name=f"{prefix}-web",
            tags=[network.tags.web],
            inbound_rules=inbound_rules(settings, args.load_balancer_id),
            outbound_rules=outbound_rules(),
            opts=child,
        )
        self.public_ips = pulumi.Output.all(*(d.ipv4_address for d in droplets))
        self.droplet_urns = [d.droplet_urn for d in droplets]
        self.register_outputs({"public_ips": self.public_ips, "droplet_urns": self.droplet_urns})

    def _droplets(self, args: NodesArgs, child: pulumi.ResourceOptions) -> list[do.Droplet]:
        """`plan.nodes` droplets, each gated on the load balancer's health, batch by batch."""
        settings, network = args.settings, args.network
        prefix = settings.resource_prefix
        rollout = args.plan.rollout
        droplets: list[do.Droplet] = []
        gates: list[HealthGate] = []
        for index in range(1, args.plan.nodes + 1):
            node_name = f"{prefix}-node-{index}"
            # The batch before this node's must have passed its gates first.
            after = batch_dependencies(gates, index - 1, rollout.batch_size)
            droplet = do.Droplet(
                node_name,
                name=node_name,
                image=clouds.get(settings.cloud).catalog.images[settings.node_image],
                size=settings.node_size.name,
                region=settings.region,
                vpc_uuid=network.vpc_id,
                ssh_keys=list(settings.ssh_keys),
                # The metrics agent feeds the monitor alerts (monitoring.py).
                monitoring=True,
                backups=settings.backups,
                backup_policy=BACKUP_POLICY if settings.backups else None,
                tags=[network.tags.stack, network.tags.web],
                user_data=args.user_data,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=after)),
            )
            droplets.append(droplet)
            if args.load_balancer_id is not None and rollout.gated:
                gates.append(
                    HealthGate(
                        f"{node_name}-gate",
                        cloud=settings.cloud,
                        node_name=node_name,
                        node_id=droplet.id,
                        target={"load_balancer_id": args.load_balancer_id, "node_name": node_name},
                        rollout=rollout,
                        opts=pulumi.ResourceOptions(parent=self),
                    )
                )
        return droplets
