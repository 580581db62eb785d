"""Resource type tokens, as the engine and CrossGuard name pyscale's resources.

Rules match resources by these strings; the groups say which types play one role (a node,
a load balancer, the private network a node must join) on either cloud.
"""

from __future__ import annotations

DO_DROPLET = "digitalocean:index/droplet:Droplet"
# A Droplet autoscale pool: nodes the cloud creates (autoscale.enabled on VMs).
DO_DROPLET_AUTOSCALE = "digitalocean:index/dropletAutoscale:DropletAutoscale"
DO_FIREWALL = "digitalocean:index/firewall:Firewall"
DO_LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer"
DO_DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
DO_DATABASE_REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica"
DO_DATABASE_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
DO_VPC = "digitalocean:index/vpc:Vpc"
DO_KUBERNETES = "digitalocean:index/kubernetesCluster:KubernetesCluster"
OVH_INSTANCE = "ovh:index/cloudInstance:CloudInstance"
OVH_KUBE_NODE_POOL = "ovh:CloudProject/kubeNodePool:KubeNodePool"
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
MONITOR_SUFFIX = ":Monitor"  # the monitoring node's component, on either cloud

NODE_TYPES = frozenset({DO_DROPLET, OVH_INSTANCE, OS_INSTANCE})
LOAD_BALANCER_TYPES = frozenset({DO_LOAD_BALANCER, OVH_LOAD_BALANCER, OVH_LEGACY_LOAD_BALANCER})
PRIVATE_NETWORK_TYPES = {
    DO_DROPLET: frozenset({DO_VPC}),
    DO_DROPLET_AUTOSCALE: frozenset({DO_VPC}),
    OVH_INSTANCE: frozenset({OVH_PRIVATE_NETWORK, OVH_PRIVATE_SUBNET, OVH_LEGACY_PRIVATE_NETWORK}),
    OS_INSTANCE: frozenset({OS_NETWORK}),
}
