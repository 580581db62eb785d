"""Every `pyscale:` setting, declared once.

The parser, the unknown-key check, the README's configuration table and the stack-file JSON
schema (schema/stack.schema.json) are all generated from `SETTINGS`: adding a setting here
is the whole of adding it, plus a field of the same name in model.py (the parser fills
`database.readReplicas` into `Settings.database.read_replicas`). What depends on the cloud
(regions, sizes, TLS modes, per-cloud defaults, which settings it applies) is read from the
cloud's entry in pyscale/clouds, never decided here.
"""

from __future__ import annotations

import re

from pyscale import clouds, nodeos
from pyscale.clouds.ovh.catalog import DATABASE_PLANS as OVH_DATABASE_PLANS
from pyscale.settings import addresses, gitref
from pyscale.settings.autoscale import AUTOSCALE, AUTOSCALE_GROUPS
from pyscale.settings.interface import DERIVED as INTERFACE_DERIVED
from pyscale.settings.interface import INTERFACE
from pyscale.settings.kinds import (
    Boolean,
    Choice,
    Decimal,
    Integer,
    Sized,
    Strings,
    Text,
)
from pyscale.settings.observability import OBSERVABILITY, OBSERVABILITY_GROUPS
from pyscale.settings.platform import PLATFORM, PLATFORM_GROUPS
from pyscale.settings.spec import ByCloud, ByEnvironment, FromStackName, Group, Setting
from pyscale.settings.stacknames import stack_environment

ENVIRONMENTS = ("dev", "staging", "prod")
# managed: a certificate the cloud issues and renews on the load balancer (Let's Encrypt).
# certificate: a certificate already uploaded to the cloud, named by `certificateName`.
# node: Nginx terminates TLS itself with a certbot certificate (single-node topology).
# off: plain HTTP (local runs and throwaway stacks only).
# Each cloud offers a subset (Cloud.tls_modes).
TLS_MODES = ("managed", "certificate", "node", "off")
POOL_MODES = ("transaction", "session", "statement")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_CLOUD = "digitalocean"

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_APP_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_GIT_URL = re.compile(r"^(https://|git@|ssh://)\S+$")
_HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_OVH_PROJECT = re.compile(r"^[0-9a-f]{32}$")


# Defaults computed from other settings once every value is read (the parser fills them).
DERIVED_DEFAULTS = INTERFACE_DERIVED
DERIVED_BY_KEY = {derived.key: derived for derived in DERIVED_DEFAULTS}

_PLANS = ", ".join(f"{name} {nodes}" for name, nodes in OVH_DATABASE_PLANS.items())

GROUPS = (
    Group("workload", "What one request costs: the capacity plan turns it into requests/s."),
    Group("database", "Managed PostgreSQL: the primary cluster, its read replicas, PgBouncer."),
    Group("cache", "Managed Valkey (Redis-compatible), for cache and sessions."),
    Group("app", "The application the nodes run; the embedded demo app without a repo."),
    Group("rollout", "How a change that replaces nodes rolls out: batches, health gate, drain."),
    Group(
        "edge", "The node's Nginx edge: what one client address may take of a node, compression."
    ),
    *OBSERVABILITY_GROUPS,
    *PLATFORM_GROUPS,
    *AUTOSCALE_GROUPS,
)

SETTINGS = (
    Setting("cloud", Choice(clouds.NAMES), "The cloud the stack is built on.", DEFAULT_CLOUD),
    Setting(
        "region",
        Choice(lambda c: c.catalog.regions),
        "Where every resource lives: a region with instances, managed PostgreSQL and Valkey.",
        ByCloud(lambda c, env: c.defaults.region),
    ),
    Setting(
        "environment",
        Choice(ENVIRONMENTS),
        "Which environment's defaults apply (sizes, counts, TLS, protection).",
        FromStackName(
            "dev",
            stack_environment,
            "the stack name's first part (`prod-ovh`: `prod`; also `production`, `prd`, `live`, "
            "`stage`, `stg`, `development`); a stack so named cannot say another",
        ),
    ),
    Setting(
        "targetConcurrency",
        Integer(1, 10_000_000),
        "The concurrent requests the stack must hold: the capacity plan sizes everything from it.",
        ByEnvironment(2_000, 10_000, 50_000),
        unit="concurrent requests",
    ),
    Setting(
        "workload.latencyMs",
        Integer(1, 3_600_000),
        "Mean time a request is in flight, mostly waiting on I/O; with targetConcurrency it "
        "gives the requests/s to serve (Little's law: concurrency / latency).",
        1000,
        unit="ms",
    ),
    Setting(
        "workload.cpuMs",
        Decimal(0.01, 10_000),
        "CPU time one request costs on one core, node-wide (Nginx + Gunicorn + app); measure "
        "yours with `pyscale bench calibrate`.",
        unit="ms",
        unset=DERIVED_BY_KEY["workload.cpuMs"].doc,
    ),
    Setting(
        "workload.requestsPerConnection",
        Integer(1, 1_000_000),
        "Requests a client sends over one connection (keep-alive): sets the new TLS "
        "connections/s the load balancer must terminate.",
        10,
    ),
    Setting(
        "workload.queriesPerRequest",
        Decimal(0, 1000),
        "Database round trips per request, on average (0.2: one request in five reaches the "
        "database, the rest are served from the cache): sets the queries/s PostgreSQL serves.",
        1,
    ),
    Setting(
        "workload.cacheOpsPerRequest",
        Decimal(0, 1000),
        "Valkey commands per request, on average: sets the operations/s the cache serves.",
        1,
    ),
    Setting(
        "nodeSize",
        Sized(lambda c: c.catalog.machines, "node size"),
        "The droplet size or instance flavor of every node.",
        ByCloud(lambda c, env: c.defaults.node_size[env]),
    ),
    Setting(
        "nodeImage",
        Choice(lambda c: tuple(c.catalog.images)),
        "The operating system every node boots; the node files are rendered for its versions, "
        "and `pyscale node boot` rehearses the Debian ones here.",
        nodeos.DEFAULT,
    ),
    Setting(
        "nodeCount",
        Integer(1, 500),
        "How many nodes; 1 is the single-node topology (no load balancer, Nginx faces users).",
        ByEnvironment(1, None, None),
        unit="nodes",
        unset="the capacity plan's count for targetConcurrency plus one spare node (N+1)",
    ),
    Setting(
        "domain",
        Text("a lower-case DNS name such as app.example.com", _DOMAIN),
        "The service's public name; tls managed and node issue its certificate.",
        unset="the URL is the load balancer's (or the single node's) address",
    ),
    Setting(
        "tls",
        Choice(lambda c: c.tls_modes),
        "Where HTTPS ends: managed (the cloud's certificate on the load balancer), certificate "
        "(an uploaded one), node (certbot on the single node) or off.",
        ByEnvironment("node", "managed", "managed"),
    ),
    Setting(
        "certificateName",
        Text("the name of an uploaded certificate"),
        "The certificate tls: certificate serves (DigitalOcean certificate, OVHcloud key manager).",
        unset="none; tls: certificate needs one",
    ),
    Setting(
        "sshKeys",
        Strings(
            "SSH key fingerprints, ids or names",
            "a key fingerprint, id or name",
            lambda v: bool(v.strip()),
        ),
        "SSH keys put on every node (DigitalOcean fingerprints or ids, OVHcloud key-pair names).",
        (),
    ),
    Setting(
        "sshAllowCidrs",
        Strings(
            *addresses.NETWORK_WORDS,
            problem=addresses.cidr_problem,
            whole=addresses.ssh_sources_problem,
        ),
        "Networks allowed to reach port 22 on the nodes; empty: SSH from nowhere.",
        (),
    ),
    Setting(
        "vpcCidr",
        Text(addresses.VPC_ALLOWED, check=addresses.vpc_problem),
        "The private network; one range per stack (DigitalOcean refuses overlapping VPCs).",
        ByEnvironment("10.112.0.0/20", "10.111.0.0/20", "10.110.0.0/20"),
    ),
    Setting(
        "database.size",
        Sized(lambda c: c.catalog.databases, "database size"),
        "The managed PostgreSQL size; its connection limit sizes the PgBouncer pools.",
        ByCloud(lambda c, env: c.defaults.database_size[env]),
    ),
    Setting(
        "database.version",
        Choice(lambda c: c.catalog.database_versions),
        "The PostgreSQL major version.",
        "17",
    ),
    Setting(
        "database.standbyNodes",
        Integer(0, 2),  # DigitalOcean: at most 3 nodes (primary + 2 standbys) per cluster.
        "Standby nodes in the primary cluster: high availability, not read capacity.",
        ByEnvironment(0, 0, 1),
        unit="nodes",
    ),
    Setting(
        "database.readReplicas",
        Integer(0, 5),  # where the per-replica connection budget stays meaningful
        "Read replicas the app reads from; none: reads go to the primary.",
        ByEnvironment(0, 1, 2),
        unit="replicas",
    ),
    Setting(
        "database.replicaRegion",
        Choice(lambda c: c.catalog.replica_regions),
        "Where the read replicas live.",
        unset="the stack's region",
    ),
    Setting(
        "database.poolMode",
        Choice(POOL_MODES),
        "PgBouncer's pool mode; session mode admits no more clients than the pool holds.",
        "transaction",
    ),
    Setting(
        "database.maintenanceDay",
        Choice(WEEKDAYS),
        "The weekday the provider may run maintenance.",
        "sunday",
    ),
    Setting(
        "database.maintenanceHour",
        Text("a 24-hour time HH:MM such as 03:00", _HOUR),
        "When the provider may start maintenance (24-hour clock).",
        "03:00",
    ),
    Setting(
        "database.ovhPlan",
        Choice(tuple(OVH_DATABASE_PLANS)),
        f"The OVHcloud PostgreSQL plan, which fixes the cluster's nodes ({_PLANS}).",
        ByEnvironment("essential", "business", "business"),
    ),
    Setting(
        "cache.size",
        Sized(lambda c: c.catalog.caches, "cache size"),
        "The managed Valkey size; its client limit sizes the pools.",
        ByCloud(lambda c, env: c.defaults.cache_size[env]),
    ),
    Setting(
        "cache.version",
        Choice(lambda c: c.catalog.cache_versions),
        "The Valkey major version.",
        "8",
    ),
    Setting(
        "cache.evictionPolicy",
        Choice(lambda c: c.catalog.eviction_policies),
        "Valkey's maxmemory-policy, set explicitly: the engine's noeviction refuses writes.",
        ByCloud(lambda c, env: c.defaults.eviction_policy),
    ),
    Setting(
        "app.repo",
        Text("an https:// or ssh git URL", _GIT_URL, gitref.url_problem),
        "The git repository of your app.",
        unset="the embedded demo app (app/) is deployed",
    ),
    Setting(
        "app.ref",
        Text("a branch or tag name as git accepts it", check=gitref.ref_problem),
        "The branch or tag to deploy.",
        "main",
    ),
    Setting(
        "app.accessLog",
        Choice(("sampled", "nginx", "both", "off")),
        "Which requests are logged: sampled (Nginx logs every request that did not succeed "
        "and 2% of the rest, with upstream times: enough for latency, far less CPU), nginx "
        "(every request, buffered), both (Gunicorn also writes a line per request from the "
        "worker, unbuffered) or off. Each line costs CPU on the hot path (bench/RESULTS.md).",
        "sampled",
    ),
    *INTERFACE,
    Setting(
        "app.module",
        Text("an app path module:callable", _APP_PATH),
        "The WSGI or ASGI callable (app.interface) Gunicorn serves; another than the demo's "
        "needs app.repo.",
        unset=DERIVED_BY_KEY["app.module"].doc,
    ),
    Setting(
        "rollout.batchSize",
        Integer(1, 500),
        "Nodes replaced at a time when a change replaces nodes; the nodes outside the batch "
        "must hold the target, and old and new nodes of a batch must fit the database and "
        "cache connection budgets (the plan refuses a batch that does not).",
        unit="nodes",
        unset="the plan's spare nodes (nodes beyond what the target needs; 1 with N+1), "
        "fewer if old and new nodes together would not fit the connection budgets",
    ),
    Setting(
        "rollout.healthTimeoutSeconds",
        Integer(60, 7200),
        "How long a new node has, from its creation, to be reported healthy by the load "
        "balancer before the update fails and the node it replaces stays in service.",
        900,
        unit="s",
    ),
    Setting(
        "rollout.drainSeconds",
        Integer(10, 3600),
        "How long a leaving node drains: its health check fails while the load balancer "
        "notices, then Nginx and Gunicorn finish in-flight requests and stop.",
        unit="s",
        unset="the load balancer's detection time (35 s) plus 3 x workload.latencyMs "
        "(at least 5 s) for in-flight requests",
    ),
    Setting(
        "edge.clientConcurrency",
        Integer(0, 1_000_000),
        "Requests one client address may have in flight on one node (Nginx limit_conn); more "
        "get 429. Per node: a client's share of the fleet is nodes times this. 0: no limit.",
        unit="requests",
        unset="a tenth of a node's connection slots: no client can take a node from the others",
    ),
    Setting(
        "edge.clientRate",
        Integer(0, 1_000_000),
        "Requests per second one client address may send one node (Nginx limit_req, a "
        "second's worth let through at once); more get 429. 0: no limit.",
        unit="requests/s",
        unset="a tenth of what a node's CPUs finish per second (from workload.cpuMs)",
    ),
    Setting(
        "edge.exemptCidrs",
        Strings(
            *addresses.NETWORK_WORDS,
            problem=addresses.nginx_network_problem,
            whole=addresses.exempt_sources_problem,
        ),
        "Client networks the per-client limits do not count, such as the machines a load "
        "test runs from; the VPC and loopback are never counted.",
        (),
    ),
    Setting(
        "edge.brotli",
        Boolean(),
        "Brotli compression next to gzip for clients that accept it (Debian's and Ubuntu's "
        "Nginx Brotli modules, installed on the node); off: gzip only.",
        True,
    ),
    *OBSERVABILITY,
    *PLATFORM,
    *AUTOSCALE,
    Setting(
        "protect",
        Boolean(),
        "Protect the databases from `pulumi destroy` and replacement.",
        ByEnvironment(False, False, True),
    ),
    Setting(
        "backups",
        Boolean(),
        "Scheduled backups of every node: DigitalOcean droplet backups, OVHcloud instance "
        "backups (a backup workflow per instance).",
        ByEnvironment(False, False, True),
    ),
    Setting(
        "ovhServiceName",
        Text("an OVHcloud Public Cloud project id (32 hex characters)", _OVH_PROJECT),
        "The OVHcloud Public Cloud project every resource is created in.",
        unset="none; OVHcloud stacks must set it",
    ),
)

BY_KEY = {setting.key: setting for setting in SETTINGS}
# The keys at the top of the namespace, in declaration order, and each group's own keys.
TOP_LEVEL = tuple(dict.fromkeys(s.top for s in SETTINGS))
GROUP_KEYS = {
    g.name: tuple(s.key.partition(".")[2] for s in SETTINGS if s.top == g.name) for g in GROUPS
}
