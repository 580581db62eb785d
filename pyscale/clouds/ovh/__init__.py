"""OVHcloud Public Cloud: instances on a vRack network, Octavia load balancer, managed
PostgreSQL (plan-sized, standbys serve reads) and Valkey."""

from pyscale.clouds.base import Cloud, Defaults
from pyscale.clouds.ovh import (
    catalog,
    discovery,
    kubernetes,
    mocks,
    prerequisites,
    pricing,
    provider_rules,
    replacements,
    rollout,
    settings_rules,
)

CLOUD = Cloud(
    name="ovh",
    title="OVHcloud",
    catalog=catalog.CATALOG,
    defaults=Defaults(
        region="GRA11",
        node_size={"dev": "d2-4", "staging": "c3-8", "prod": "c3-32"},
        database_size={"dev": "db1-4", "staging": "db1-7", "prod": "db1-15"},
        cache_size={"dev": "db1-4", "staging": "db1-4", "prod": "db1-7"},
        # Prometheus, Alertmanager and Grafana for one stack: 2 vCPUs, the memory for
        # Prometheus's head block of a fleet's few thousand series.
        monitor_size="b3-8",
        # OVHcloud does not expose maxmemory-policy (settings_rules refuses it): Valkey keeps
        # catalog.ENGINE_EVICTION_POLICY.
        eviction_policy=None,
        kubernetes_version="1.33",
    ),
    # No managed Let's Encrypt on OVHcloud's load balancer: a key-manager certificate.
    # managed: cert-manager in the cluster, with platform: kubernetes only (settings_rules).
    tls_modes=("managed", "certificate", "node", "off"),
    # OpenStack Nova takes user data base64-encoded and at most 65535 bytes
    # (docs.openstack.org/nova/stein/user/user-data.html): 49149 raw bytes.
    user_data_limit=65_535 // 4 * 3,
    read_endpoints=catalog.read_endpoints,
    load_balancer=catalog.load_balancer,
    estimate=pricing.estimate,
    mocks=mocks,
    components="components.ovh",
    provider="ovh",
    sdk="pulumi_ovh",
    settings=settings_rules.RULES,
    prerequisites=prerequisites.prerequisites,
    provider_rules=provider_rules.RULES,
    node_api=rollout.node_api,
    replacing_inputs=replacements.REPLACING,
    scrape_discovery=discovery.scrape_discovery,
    scrape_placeholder=discovery.PLACEHOLDER,
    monitor_secret=None,
    gateway_annotations=kubernetes.gateway_annotations,
)
