"""OVHcloud's rules on registered inputs that the provider schema leaves as plain strings
(pyscale/offline/conformance.py checks them). Each value list comes from the catalog, where
its source is written; these say which input of which resource it binds."""

from pyscale.clouds.base import Fact, InputRule
from pyscale.clouds.ovh import catalog

DATABASE = "ovh:CloudProject/database:Database"
INSTANCE = "ovh:index/cloudInstance:CloudInstance"
LOAD_BALANCER = "ovh:index/cloudLoadbalancer:CloudLoadbalancer"
WORKFLOW_BACKUP = "ovh:CloudProject/workflowBackup:WorkflowBackup"

PG = {"engine": "postgresql"}
VALKEY = {"engine": "valkey"}

RULES = (
    InputRule(
        INSTANCE,
        "region",
        Fact("Public Cloud regions with managed PostgreSQL and Valkey", catalog.PG_CAPABILITIES),
        allowed=catalog.REGIONS,
    ),
    InputRule(
        DATABASE,
        "version",
        Fact(
            f"PostgreSQL versions before their end of life (as of {catalog.VERSIONS_CHECKED})",
            catalog.LIFECYCLE,
        ),
        allowed=catalog.OFFERED_POSTGRES,
        when=PG,
    ),
    InputRule(
        DATABASE,
        "nodes[].region",
        catalog.NO_POSTGRES,
        allowed=catalog.POSTGRES_SERVICE_REGIONS,
        when=PG,
    ),
    InputRule(
        DATABASE,
        "flavor",
        Fact("PostgreSQL flavors pyscale has numbers for", catalog.PG_CAPABILITIES),
        allowed=tuple(catalog.DATABASES),
        when=PG,
    ),
    InputRule(
        DATABASE,
        "plan",
        Fact("PostgreSQL plans", catalog.PG_CAPABILITIES),
        allowed=tuple(catalog.DATABASE_PLANS),
        when=PG,
    ),
    InputRule(
        DATABASE,
        "version",
        Fact("Valkey versions", catalog.VALKEY_CAPABILITIES),
        allowed=tuple(catalog.VALKEY_VERSIONS.values()),
        when=VALKEY,
    ),
    InputRule(
        DATABASE,
        "nodes[].region",
        Fact("managed Valkey regions", catalog.VALKEY_CAPABILITIES),
        allowed=catalog.VALKEY_SERVICE_REGIONS,
        when=VALKEY,
    ),
    InputRule(
        DATABASE,
        "flavor",
        Fact("Valkey flavors pyscale has numbers for", catalog.VALKEY_CAPABILITIES),
        allowed=tuple(catalog.CACHES),
        when=VALKEY,
    ),
    InputRule(
        LOAD_BALANCER,
        "flavorName",
        Fact(
            "load-balancer flavors, in capitals", "pulumi-ovh 2.22.0 CloudLoadbalancer.flavor_name"
        ),
        allowed=tuple(f.name.upper() for f in catalog.LB_FLAVORS),
    ),
    InputRule(
        WORKFLOW_BACKUP,
        "rotation",
        Fact("backups kept by a workflow", "pulumi-ovh 2.22.0 cloudproject.WorkflowBackup"),
        minimum=1,
    ),
)
