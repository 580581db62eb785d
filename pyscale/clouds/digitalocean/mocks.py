"""Realistic answers for the DigitalOcean resources the WebStack creates (pyscale.offline).

Tests and `pyscale plan` run the real program under Pulumi's mock engine; what
a resource "returns" here is what the rest of the program (user-data, exports, firewall
sources) is built from, so it has the shape DigitalOcean gives: droplet ids are integers in
strings, public addresses come from the documentation ranges (RFC 5737) and private ones from
the range of the VPC the droplet is in,
database hosts look like `<name>-do-user-1234567-0.f.db.ondigitalocean.com` with the pool on
port 25061, and URIs carry a password. Every value derives from the resource's name, so two
runs of a stack give the same ids and the same user-data.

`new_resource` returns None for a type it does not know, so a new resource type fails the
offline run loudly instead of getting made-up outputs. Pure: no Pulumi import.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from pyscale.clouds.base import EXAMPLE_CA
from pyscale.clouds.kubeconfig import kubeconfig

PREFIX = "digitalocean:index/"
ACCOUNT = "do-user-1234567-0"
DB_DOMAIN = "f.db.ondigitalocean.com"
DB_PORT = 25060  # direct connections to a managed database
POOL_PORT = 25061  # PgBouncer pools (PostgreSQL) and Valkey's TLS port
# Fixed so that mock outputs, and the user-data built from them, never change between runs.
_NAMESPACE = uuid.UUID("6f1d7c0e-3a52-4c1b-9a57-0d0c5e1f2a10")
_TRAILING_NUMBER = re.compile(r"(\d+)$")
# Cluster id -> (host, private host): a pool is served on its cluster's host, and the mock for
# the pool only sees the cluster's id.
_CLUSTER_HOSTS: dict[str, tuple[str, str]] = {}
# VPC id -> its ip_range: a droplet's private address comes from its VPC, and the mock for
# the droplet only sees the VPC's id.
_VPC_RANGES: dict[str, str] = {}


def _uuid(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


def _digest(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16)


def _password(cluster_id: str, user: str) -> str:
    """A database user's password: AVNS_ + 19 characters, as DigitalOcean generates them.
    Keyed by cluster and user, so the pool and the replicas show the user's own password."""
    name = f"{cluster_id}/user/{user}"
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    value, chars = _digest("password:" + name), []
    for _ in range(19):
        value, index = divmod(value, len(alphabet))
        chars.append(alphabet[index])
    return "AVNS_" + "".join(chars)


def _host_number(name: str) -> int:
    """Nodes are named ...-node-N: node N gets host N + 10, others a stable number."""
    match = _TRAILING_NUMBER.search(name)
    return 10 + int(match.group(1)) if match else 100 + _digest(name) % 100


def _db_host(name: str, private: bool = False) -> str:
    return f"{'private-' if private else ''}{name}-{ACCOUNT}.{DB_DOMAIN}"


def _uri(scheme: str, user: str, password: str, host: str, port: int, path: str) -> str:
    query = "?sslmode=require" if scheme == "postgresql" else ""
    return f"{scheme}://{user}:{quote(password, safe='')}@{host}:{port}{path}{query}"


def _vpc(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    vpc_id = _uuid(name)
    _VPC_RANGES[vpc_id] = inputs["ipRange"]
    return vpc_id, {
        **inputs,
        "vpcUrn": f"do:vpc:{vpc_id}",
        "default": False,
        "createdAt": "2025-01-06 09:12:44 +0000 UTC",
    }


def _tag(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # A tag's id is its name.
    return inputs["name"], {**inputs, "dropletsCount": 0, "totalResourceCount": 0}


def _droplet(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    droplet_id = str(480_000_000 + _digest(name) % 10_000_000)
    host = _host_number(name)
    vpc = ipaddress.ip_network(_VPC_RANGES[inputs["vpcUuid"]])
    return droplet_id, {
        **inputs,
        "dropletUrn": f"do:droplet:{droplet_id}",
        "ipv4Address": f"203.0.113.{host}",
        "ipv4AddressPrivate": str(vpc.network_address + host),
        "status": "active",
        "locked": False,
        "createdAt": "2025-01-06T09:15:02Z",
    }


def _firewall(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _uuid(name), {**inputs, "status": "succeeded", "pendingChanges": []}


def _load_balancer(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    lb_id = _uuid(name)
    return lb_id, {
        **inputs,
        "ip": f"198.51.100.{10 + _digest(name) % 200}",
        "loadBalancerUrn": f"do:loadbalancer:{lb_id}",
        "status": "active",
        "type": "REGIONAL",
    }


def _certificate(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _uuid(name), {
        **inputs,
        "uuid": _uuid(name),
        "state": "verified",
        "notAfter": "2025-04-06T09:10:00Z",
        "sha1Fingerprint": hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest(),
    }


def _database_cluster(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    cluster_id = _uuid(name)
    physical = inputs.get("name", name)
    if inputs.get("engine") == "valkey":
        scheme, user, port, database, path = "rediss", "default", POOL_PORT, "", ""
    else:
        scheme, user, port, database = "postgresql", "doadmin", DB_PORT, "defaultdb"
        path = "/defaultdb"
    password = _password(cluster_id, user)
    host, private_host = _db_host(physical), _db_host(physical, private=True)
    _CLUSTER_HOSTS[cluster_id] = (host, private_host)
    return cluster_id, {
        **inputs,
        "clusterUrn": f"do:dbaas:{cluster_id}",
        "host": host,
        "privateHost": private_host,
        "port": port,
        "user": user,
        "password": password,
        "database": database,
        "uri": _uri(scheme, user, password, host, port, path),
        "privateUri": _uri(scheme, user, password, private_host, port, path),
        "metricsEndpoints": [f"https://{host}:9273/metrics"],
        "storageSizeMib": "30720",
    }


def _database_replica(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    physical = inputs.get("name", name)
    password = _password(inputs["clusterId"], "doadmin")  # replicas share the primary's users
    host, private_host = _db_host(physical), _db_host(physical, private=True)
    return physical, {
        **inputs,
        "uuid": _uuid(name),
        "host": host,
        "privateHost": private_host,
        "port": DB_PORT,
        "user": "doadmin",
        "password": password,
        "database": "defaultdb",
        "uri": _uri("postgresql", "doadmin", password, host, DB_PORT, "/defaultdb"),
        "privateUri": _uri("postgresql", "doadmin", password, private_host, DB_PORT, "/defaultdb"),
        "storageSizeMib": "30720",
    }


def _database_db(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{inputs['clusterId']}/database/{inputs['name']}", dict(inputs)


def _database_user(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"{inputs['clusterId']}/user/{inputs['name']}", {
        **inputs,
        "password": _password(inputs["clusterId"], inputs["name"]),
        "role": "normal",
    }


def _connection_pool(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    cluster = inputs["clusterId"]
    user = inputs.get("user") or "doadmin"
    password = _password(cluster, user)
    host, private_host = _CLUSTER_HOSTS.get(
        cluster, (_db_host(f"pool-{cluster[:8]}"), _db_host(f"pool-{cluster[:8]}", private=True))
    )
    path = f"/{inputs['name']}"  # clients select the pool by using its name as the database
    return f"{cluster}/pool/{inputs['name']}", {
        **inputs,
        "host": host,
        "privateHost": private_host,
        "port": POOL_PORT,
        "password": password,
        "uri": _uri("postgresql", user, password, host, POOL_PORT, path),
        "privateUri": _uri("postgresql", user, password, private_host, POOL_PORT, path),
    }


def _database_firewall(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rules = [
        {**rule, "uuid": _uuid(f"{name}/{index}"), "createdAt": "2025-01-06T09:31:12Z"}
        for index, rule in enumerate(inputs.get("rules", []))
    ]
    return f"{inputs['clusterId']}-20250106093112000000001", {**inputs, "rules": rules}


def _valkey_config(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return inputs["clusterId"], dict(inputs)


def _project(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return _uuid(name), {
        **inputs,
        "ownerUuid": "2f6c51a3-1c3e-4c4b-8a8e-0d3f4b1c9e77",
        "ownerId": 1234567,
        "isDefault": False,
        "createdAt": "2025-01-06T09:10:00Z",
        "updatedAt": "2025-01-06T09:10:00Z",
    }


# The DOKS slugs of each minor the catalog offers, newest last (what getKubernetesVersions
# answers for a prefix).
KUBERNETES_SLUGS = ("1.32.10-do.2", "1.33.6-do.1", "1.34.2-do.0")


def _kubernetes_cluster(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    cluster_id = _uuid(name)
    endpoint = f"https://{cluster_id}.k8s.ondigitalocean.com"
    pool = dict(inputs["nodePool"])
    # An autoscaling pool without node_count starts at its minimum (provider docs, node_pool).
    pool["nodeCount"] = pool.get("nodeCount") or pool["minNodes"]
    nodes = [
        {"id": _uuid(f"{name}-node-{i}"), "name": f"{pool['name']}-{_uuid(name)[:5]}{i}",
         "status": "running", "dropletId": str(400_000_000 + _digest(name) % 1000 * 100 + i)}
        for i in range(pool["nodeCount"])
    ]  # fmt: skip
    return cluster_id, {
        **inputs,
        "clusterUrn": f"do:kubernetes:{cluster_id}",
        "endpoint": endpoint,
        "ipv4Address": "198.51.100.40",  # the API endpoint's public address
        "clusterSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.245.0.0/16",
        "status": "running",
        "nodePool": {**pool, "id": _uuid(f"{name}-pool"), "actualNodeCount": pool["nodeCount"],
                     "nodes": nodes},
        "kubeConfigs": [{
            "rawConfig": kubeconfig(inputs["name"], endpoint, f"{inputs['name']}-admin"),
            "host": endpoint,
            "token": "dop_v1_" + "0" * 64,
            "clusterCaCertificate": EXAMPLE_CA,
            "expiresAt": "2026-01-13T09:10:00Z",
        }],
        "createdAt": "2026-01-06T09:10:00Z",
        "updatedAt": "2026-01-06T09:10:00Z",
    }  # fmt: skip


def _droplet_autoscale(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pool as the provider reads it back: a UUID id, `active`, no utilisation yet, and
    the timestamps as it writes them (Go's time.String() in UTC)."""
    return _uuid(name), {
        **inputs,
        "status": "active",
        "currentUtilizations": [{"cpu": 0.0, "memory": 0.0}],
        "createdAt": "2026-01-06 09:10:00 +0000 UTC",
        "updatedAt": "2026-01-06 09:10:00 +0000 UTC",
    }


def _with_uuid(name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Monitoring resources: a UUID id, echoed as the `uuid` output where one exists."""
    return _uuid(name), {**inputs, "uuid": _uuid(name)}


_FACTORIES: dict[str, Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "vpc:Vpc": _vpc,
    "tag:Tag": _tag,
    "droplet:Droplet": _droplet,
    "dropletAutoscale:DropletAutoscale": _droplet_autoscale,
    "firewall:Firewall": _firewall,
    "loadBalancer:LoadBalancer": _load_balancer,
    "certificate:Certificate": _certificate,
    "databaseCluster:DatabaseCluster": _database_cluster,
    "databaseReplica:DatabaseReplica": _database_replica,
    "databaseDb:DatabaseDb": _database_db,
    "databaseUser:DatabaseUser": _database_user,
    "databaseConnectionPool:DatabaseConnectionPool": _connection_pool,
    "databaseFirewall:DatabaseFirewall": _database_firewall,
    "databaseValkeyConfig:DatabaseValkeyConfig": _valkey_config,
    "project:Project": _project,
    "kubernetesCluster:KubernetesCluster": _kubernetes_cluster,
    "monitorAlert:MonitorAlert": _with_uuid,
    "uptimeCheck:UptimeCheck": _with_uuid,
    "uptimeAlert:UptimeAlert": _with_uuid,
}
TYPES = tuple(PREFIX + suffix for suffix in _FACTORIES)


def new_resource(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict] | None:
    """The id and outputs DigitalOcean would return; None for a type not modelled here."""
    if not typ.startswith(PREFIX):
        return None
    factory = _FACTORIES.get(typ[len(PREFIX) :])
    if factory is None:
        return None
    return factory(name, dict(inputs))


def call(token: str, args: dict[str, Any]) -> dict | None:
    """The invokes the WebStack makes: a cluster's CA certificate (getDatabaseCa), which
    DigitalOcean returns as PEM text, and the account's login to the clusters' metrics
    endpoints (getDatabaseMetricsCredentials, one for the whole account)."""
    if token == "digitalocean:index/getDatabaseCa:getDatabaseCa":
        cluster = args["clusterId"]
        return {"id": cluster, "clusterId": cluster, "certificate": EXAMPLE_CA}
    if token == "digitalocean:index/getKubernetesVersions:getKubernetesVersions":
        prefix = args.get("versionPrefix", "")
        valid = [slug for slug in KUBERNETES_SLUGS if slug.startswith(prefix)]
        return {"id": "kubernetes-versions", "versionPrefix": prefix,
                "latestVersion": valid[-1] if valid else "", "validVersions": valid}  # fmt: skip
    if token == "digitalocean:index/getDatabaseMetricsCredentials:getDatabaseMetricsCredentials":
        return {
            "id": "metrics-credentials",
            "username": "doadmin-metrics",
            "password": _password("account", "metrics"),
        }
    return None
