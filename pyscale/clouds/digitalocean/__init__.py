"""DigitalOcean: droplets in a VPC, a regional load balancer, managed PostgreSQL and Valkey."""

from pyscale.clouds.base import Cloud, Defaults
from pyscale.clouds.digitalocean import (
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
    name="digitalocean",
    title="DigitalOcean",
    catalog=catalog.CATALOG,
    defaults=Defaults(
        region="fra1",
        node_size={"dev": "s-2vcpu-4gb", "staging": "c-4", "prod": "c-16"},
        database_size={
            "dev": "db-s-1vcpu-1gb",
            "staging": "db-s-2vcpu-4gb",
            "prod": "db-s-4vcpu-8gb",
        },
        cache_size={
            "dev": "db-s-1vcpu-1gb",
            "staging": "db-s-1vcpu-2gb",
            "prod": "db-s-2vcpu-4gb",
        },
        # Prometheus, Alertmanager and Grafana for one stack: 2 vCPUs, the memory for
        # Prometheus's head block of a fleet's few thousand series.
        monitor_size="s-2vcpu-4gb",
        # Valkey's default (catalog.ENGINE_EVICTION_POLICY, noeviction) turns a full cache
        # into write errors: evict the least recently used keys instead.
        eviction_policy="allkeys-lru",
        kubernetes_version="1.33",
    ),
    # managed: a DigitalOcean-managed Let's Encrypt certificate on the load balancer.
    tls_modes=("managed", "certificate", "node", "off"),
    # API reference, "Create a New Droplet", user_data: 64 KiB.
    user_data_limit=65_536,
    read_endpoints=catalog.read_endpoints,
    load_balancer=catalog.load_balancer,
    estimate=pricing.estimate,
    mocks=mocks,
    components="components.digitalocean",
    provider="digitalocean",
    sdk="pulumi_digitalocean",
    settings=settings_rules.RULES,
    prerequisites=prerequisites.prerequisites,
    provider_rules=provider_rules.RULES,
    node_api=rollout.node_api,
    replacing_inputs=replacements.REPLACING,
    scrape_discovery=discovery.scrape_discovery,
    scrape_placeholder=discovery.PLACEHOLDER,
    monitor_secret="monitoringToken",
    gateway_annotations=kubernetes.gateway_annotations,
)
