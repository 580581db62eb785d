"""Realistic answers for the OVHcloud resources and look-ups the WebStack uses (pyscale.offline).

What the API would return, in its shapes: OpenStack-style UUIDs (stable per resource name,
so runs are repeatable), instances with a private address on the subnet they are attached to
and a public one in the documentation range (203.0.113.x), database
endpoints on `*.database.cloud.ovh.net` with OVHcloud's custom ports. Inputs pass through.
Pure: no Pulumi import.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from pyscale.clouds.base import EXAMPLE_CA
from pyscale.clouds.kubeconfig import kubeconfig
from pyscale.clouds.ovh import catalog

_NAMESPACE = uuid.UUID("6f1c2a8e-4d5b-4c1e-9a7f-0b3d2e1f4a5c")
# Certificates the mocked key manager holds, in every region (Pulumi.prod-ovh.yaml's name).
CERTIFICATE_NAMES = ("pyscale-prod",)
EXT_NET_ID = "b2c02fdc-ffdf-40f6-9722-533bd7058c06"
LOAD_BALANCER_IP = "203.0.113.100"
GATEWAY_IP = "203.0.113.1"
POSTGRES_PORT = 20184
POOL_PORT = 20185
VALKEY_PORT = 20182
# The Prometheus integration's port (OVHcloud's managed databases expose it beside the
# service's own ports; the number is the mock's, the real one comes in `targets`).
METRICS_PORT = 9273
# Subnet id -> its CIDR: an instance's private address comes from the subnet it is attached
# to, and the mock for the instance only sees the subnet's id.
_SUBNET_CIDRS: dict[str, str] = {}
# Service id -> its primary host, and user id -> its name: a connection pool is served on its
# service's host for its user, and the mock for the pool only sees their ids.
_SERVICE_HOSTS: dict[str, str] = {}
_USER_NAMES: dict[str, str] = {}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _index(name: str) -> int:
    """A node's number from its resource name (`...-3` -> 3)."""
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else 1


def _instance(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    index = _index(name)
    private = next(n for n in inputs.get("networks", []) if n.get("networkId"))
    subnet = ipaddress.ip_network(_SUBNET_CIDRS[private["subnetId"]])
    return {
        "name": inputs.get("name"),
        "powerState": "ACTIVE",
        "networks": [
            {
                "id": private["networkId"],
                "subnetId": private["subnetId"],
                "addresses": [
                    {"ip": str(subnet.network_address + 10 + index), "type": "FIXED", "version": 4}
                ],
            },
            {
                "id": EXT_NET_ID,
                "addresses": [{"ip": f"203.0.113.{10 + index}", "type": "FIXED", "version": 4}],
            },
        ],
    }


def _database(cluster: str, inputs: dict[str, Any]) -> dict[str, Any]:
    engine = inputs["engine"]
    short = cluster.split("-")
    host = f"{engine}-{short[0]}-o{short[1]}{short[2][:4]}.database.cloud.ovh.net"
    _SERVICE_HOSTS[cluster] = host
    if engine == "postgresql":
        endpoints = [
            {"component": "postgresql", "domain": host, "port": POSTGRES_PORT},
            {"component": "postgresqlRead", "domain": f"replica-{host}", "port": POSTGRES_PORT},
        ]
        for endpoint in endpoints:
            endpoint |= {
                "scheme": "postgresql",
                "ssl": True,
                "sslMode": "require",
                "path": "/defaultdb",
                "uri": f"postgresql://avnadmin@{endpoint['domain']}:{POSTGRES_PORT}"
                "/defaultdb?sslmode=require",
            }
    else:
        endpoints = [
            {
                "component": engine,
                "domain": host,
                "port": VALKEY_PORT,
                "scheme": "rediss",
                "ssl": True,
                "uri": f"rediss://default@{host}:{VALKEY_PORT}",
            }
        ]
    return {
        "endpoints": endpoints,
        "status": "READY",
        "networkType": "private",
        "diskType": "high-speed",
        "createdAt": "2025-01-01T00:00:00Z",
    }


def _computed(typ: str, name: str, rid: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """Outputs the API adds to a resource of type `typ`; None for a type not used here."""
    status = {"resourceStatus": "READY", "checksum": _uuid("checksum", rid)}
    match typ:
        case "ovh:index/cloudNetworkPrivateVrack:CloudNetworkPrivateVrack":
            return status | {"currentState": {"name": inputs.get("name"), "vlanId": 1042}}
        case "ovh:index/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet":
            _SUBNET_CIDRS[rid] = inputs["cidr"]
            return status | {
                "currentState": {"cidr": inputs["cidr"], "gatewayIp": inputs.get("gatewayIp")}
            }
        case "ovh:index/cloudGateway:CloudGateway":
            return status | {"currentState": {"externalIp": GATEWAY_IP, "status": "ACTIVE"}}
        case "ovh:index/cloudSecurityGroup:CloudSecurityGroup":
            return status | {"currentState": {"name": inputs.get("name")}}
        case "ovh:index/cloudInstance:CloudInstance":
            return status | {"currentState": _instance(name, inputs)}
        case "ovh:index/cloudFloatingIp:CloudFloatingIp":
            return status | {"currentState": {"ip": LOAD_BALANCER_IP, "status": "ACTIVE"}}
        case "ovh:index/cloudLoadbalancer:CloudLoadbalancer":
            return status | {
                "currentState": {
                    "operatingStatus": "ONLINE",
                    "provisioningStatus": "ACTIVE",
                    "flavor": {"name": inputs.get("flavorName")},
                }
            }
        case (
            "ovh:index/cloudLoadbalancerListener:CloudLoadbalancerListener"
            | "ovh:index/cloudLoadbalancerPool:CloudLoadbalancerPool"
            | "ovh:index/cloudLoadbalancerPoolMember:CloudLoadbalancerPoolMember"
            | "ovh:index/cloudLoadbalancerL7policy:CloudLoadbalancerL7policy"
        ):
            return status | {"currentState": {"provisioningStatus": "ACTIVE"}}
        case "ovh:CloudProject/workflowBackup:WorkflowBackup":
            # The API names the backups after the workflow unless told otherwise.
            return {
                "backupName": inputs.get("backupName") or inputs["name"],
                "createdAt": "2025-01-01T00:00:00Z",
            }
        case "ovh:CloudProject/database:Database":
            return _database(rid, inputs)
        case "ovh:CloudProjectDatabase/databaseInstance:DatabaseInstance":
            return {"default": False}
        case (
            "ovh:CloudProjectDatabase/postgresSqlUser:PostgresSqlUser"
            | "ovh:index/cloudProjectDatabaseValkeyUser:CloudProjectDatabaseValkeyUser"
        ):
            _USER_NAMES[rid] = inputs["name"]
            return {
                "password": f"mock-{_uuid('password', rid)[:12]}",
                "status": "READY",
                "createdAt": "2025-01-01T00:00:00Z",
            }
        case "ovh:CloudProject/user:User":
            # An OpenStack user of the project: a generated name and password.
            return {
                "username": f"user-{_uuid('user', rid)[:12]}",
                "password": f"mock-{_uuid('password', rid)[:16]}",
                "status": "ok",
                "creationDate": "2025-01-01T00:00:00Z",
            }
        case "ovh:CloudProjectDatabase/prometheus:Prometheus":
            # The integration's login and one target per service host, on its metrics port.
            return {
                "username": "prometheus",
                "password": f"mock-{_uuid('password', rid)[:16]}",
                "srvDomain": f"_prometheus._tcp.{_SERVICE_HOSTS[inputs['clusterId']]}",
                "targets": [{"host": _SERVICE_HOSTS[inputs["clusterId"]], "port": METRICS_PORT}],
            }
        case "ovh:CloudProject/kube:Kube":
            # MKS: its API on a per-cluster host under c1.<region>.k8s.ovh.net, and an admin
            # kubeconfig (the provider returns it as a secret).
            host = f"{rid[:6]}.c1.{inputs['region'].lower().rstrip('0123456789')}.k8s.ovh.net"
            return {
                "url": host,
                "status": "READY",
                "isUpToDate": True,
                "controlPlaneIsUpToDate": True,
                "nodesUrl": f"{rid[:6]}.nodes.c1.k8s.ovh.net",
                "kubeconfig": kubeconfig(
                    inputs["name"], f"https://{host}", f"kubernetes-admin-{rid[:6]}"
                ),
            }
        case "ovh:CloudProject/kubeNodePool:KubeNodePool":
            return {
                "status": "READY",
                "currentNodes": inputs["desiredNodes"],
                "availableNodes": inputs["desiredNodes"],
                "upToDateNodes": inputs["desiredNodes"],
                "createdAt": "2025-01-01T00:00:00Z",
            }
        case "ovh:CloudProjectDatabase/postgresSqlConnectionPool:PostgresSqlConnectionPool":
            return {
                "port": POOL_PORT,
                "sslMode": "require",
                "uri": f"postgresql://{_USER_NAMES[inputs['userId']]}@"
                f"{_SERVICE_HOSTS[inputs['clusterId']]}:{POOL_PORT}/{inputs['name']}"
                "?sslmode=require",
            }
    return None


def new_resource(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict] | None:
    """(id, outputs) for an OVHcloud type this stack uses; None for any other type."""
    rid = _uuid(typ, name)
    computed = _computed(typ, name, rid, dict(inputs))
    if computed is None:
        return None
    return rid, dict(inputs) | computed


def call(token: str, args: dict[str, Any]) -> dict | None:
    """Answers for the look-ups: flavors, images, key-manager containers and a database
    service's CA certificate (PEM)."""
    region = args.get("region")
    match token:
        case "ovh:index/getCloudInstanceFlavors:getCloudInstanceFlavors":
            return {
                "region": region,
                "flavors": [
                    {
                        "id": _uuid("flavor", region or "", m.name),
                        "name": m.name,
                        "vcpus": m.vcpus,
                        "ram": m.memory_gib * 1024,
                        "isPublic": True,
                    }
                    for m in catalog.MACHINES.values()
                ],
            }
        case "ovh:index/getCloudInstanceImages:getCloudInstanceImages":
            return {
                "region": region,
                "images": [
                    {"id": _uuid("image", region or "", name), "name": name, "status": "active"}
                    for name in ("Debian 12", "Debian 13", "Ubuntu 22.04", "Ubuntu 24.04")
                ],
            }
        case "ovh:CloudProjectDatabase/getCertificates:getCertificates":
            return {
                "id": args["clusterId"],
                "clusterId": args["clusterId"],
                "engine": args["engine"],
                "serviceName": args["serviceName"],
                "ca": EXAMPLE_CA,
            }
        case "ovh:index/getCloudKeyManagerContainers:getCloudKeyManagerContainers":
            return {
                "containers": [
                    {
                        "id": (cid := _uuid("container", name, where)),
                        "name": name,
                        "type": "CERTIFICATE",
                        "location": {"region": where},
                        "currentState": {
                            "name": name,
                            "type": "CERTIFICATE",
                            "status": "ACTIVE",
                            "containerRef": f"https://key-manager.{where.lower()}.cloud.ovh.net"
                            f"/v1/containers/{cid}",
                        },
                    }
                    for name in CERTIFICATE_NAMES
                    for where in catalog.REGIONS
                ]
            }
    return None
