"""pyscale/capacity: the chain of numbers holds, and a broken link is named."""

import dataclasses
from pathlib import Path

import pytest

from pyscale import capacity, clouds, settings
from pyscale.clouds.base import MachineSize
from pyscale.clouds.ovh import catalog as ovh_catalog

REPO = Path(__file__).resolve().parents[2]


def plan_for(**raw) -> capacity.CapacityPlan:
    return capacity.plan(settings.parse("prod", {"domain": "app.example.com", **raw}))


def test_seed_example_16_vcpu_32_gb_holds_50000() -> None:
    """One gevent worker per core (not the articles' 2 x cores + 1, a rule for sync
    workers), each with twice Gunicorn's default greenlets: the slots of the articles'
    33 x 1,000 in 16 processes."""
    plan = plan_for(nodeSize="c-16", targetConcurrency=50_000)
    assert plan.gunicorn.workers == 16
    assert plan.gunicorn.worker_class == "pyscale_worker.Worker"
    assert plan.gunicorn.worker_connections == 2000
    assert plan.per_node_concurrency == 32_000
    # N+1: two nodes carry 50,000; a third covers a failure or a rolling replacement.
    assert plan.nodes == 3
    assert (plan.nodes - 1) * plan.per_node_concurrency >= 50_000
    assert all(check.ok for check in capacity.checks(plan))


def test_prod_stack_plan() -> None:
    plan = capacity.plan(settings.load("prod", REPO))
    assert plan.nodes * plan.per_node_concurrency >= 50_000
    assert plan.load_balancer.enabled and plan.load_balancer.size_unit == 6
    assert plan.database.read_replicas == 2


def test_seed_numbers_are_kept_when_the_target_does_not_need_more() -> None:
    plan = plan_for(nodeSize="c-16", targetConcurrency=1000)
    assert plan.kernel.somaxconn >= capacity.SEED_SOMAXCONN
    assert plan.kernel.nofile == capacity.SEED_NOFILE
    assert plan.gunicorn.limit_nofile == capacity.SEED_NOFILE
    assert plan.kernel.tcp_max_syn_backlog >= capacity.SEED_SYN_BACKLOG
    assert plan.kernel.ip_local_port_range == (1024, 65535)


# Requests that wait 10 s each: 20,000 in flight are 2,000 req/s, which one small node's
# CPU finishes, so the tests about slots and descriptors are not bound by CPU.
SLOW = {"latencyMs": 10_000}


def test_fixed_node_count_raises_worker_connections() -> None:
    plan = capacity.plan(settings.parse("staging", {
        "nodeSize": "s-2vcpu-4gb", "nodeCount": 1, "targetConcurrency": 20_000, "tls": "off",
        "workload": SLOW}))  # fmt: skip
    assert plan.gunicorn.workers == 2
    assert plan.gunicorn.worker_connections == 10_000  # the most one gevent process holds
    assert plan.per_node_load == 20_000
    # The links the local 20,000-request prototype broke: the accept queue and keepalive.
    assert plan.gunicorn.backlog >= 20_000
    assert plan.kernel.somaxconn >= plan.gunicorn.backlog
    assert plan.nginx.worker_processes * plan.nginx.upstream_keepalive <= 20_000


def test_nginx_counts_two_descriptors_per_proxied_request() -> None:
    plan = plan_for(nodeSize="c-16")
    nginx = plan.nginx
    assert nginx.worker_processes * nginx.worker_connections >= 2 * plan.per_node_concurrency
    assert nginx.worker_rlimit_nofile >= 2 * nginx.worker_connections


def test_a_host_descriptor_ceiling_spreads_nginx_over_more_workers() -> None:
    stack = settings.parse("dev", {"tls": "off", "targetConcurrency": 20_000, "workload": SLOW})
    plan = capacity.plan(stack, max_process_nofile=20_000)
    assert plan.nginx.worker_rlimit_nofile <= 20_000
    assert plan.gunicorn.limit_nofile <= 20_000
    assert plan.nginx.worker_processes > plan.vcpus
    assert all(check.ok for check in capacity.checks(plan))


def test_broken_link_is_named_with_both_numbers_and_the_setting() -> None:
    plan = plan_for(nodeSize="c-16")
    broken = dataclasses.replace(
        plan, nginx=dataclasses.replace(plan.nginx, worker_rlimit_nofile=4096)
    )
    failed = [c for c in capacity.checks(broken) if not c.ok]
    assert [c.link for c in failed] == ["nginx worker_rlimit_nofile >= 2 x worker_connections"]
    assert (failed[0].have, failed[0].need) == (4096, 2 * plan.nginx.worker_connections)
    message = str(capacity.CapacityError(failed))
    assert "have 4096" in message and "pyscale:nodeSize" in message


def test_too_few_fixed_nodes_fail_the_n_plus_one_link() -> None:
    with pytest.raises(capacity.CapacityError) as caught:
        plan_for(nodeSize="c-2", nodeCount=2, targetConcurrency=60_000)
    links = [c.link for c in caught.value.broken]
    assert "fleet capacity with one node down (N+1)" in links
    assert "pyscale:nodeCount" in str(caught.value)


def test_session_pooling_that_cannot_fit_the_fleet_is_refused() -> None:
    with pytest.raises(capacity.CapacityError) as caught:
        plan_for(nodeSize="c-16", database={"size": "db-s-1vcpu-2gb", "poolMode": "session"})
    assert any("PgBouncer clients" in c.link for c in caught.value.broken)


def test_too_small_memory_is_refused() -> None:
    """No catalog size is this short of memory per core; a made-up one shows the check."""
    stack = settings.parse("staging", {"nodeCount": 1, "targetConcurrency": 30_000, "tls": "off"})
    cramped = dataclasses.replace(stack, node_size=MachineSize("cramped", 8, 1))
    with pytest.raises(capacity.CapacityError) as caught:
        capacity.plan(cramped)
    assert any(c.link.startswith("node memory") for c in caught.value.broken)


def test_database_budget() -> None:
    plan = plan_for(nodeSize="c-16", database={"size": "db-s-4vcpu-8gb", "readReplicas": 2})
    db = plan.database
    assert db.pool_size + db.reserved <= db.max_connections == 197
    assert db.app_connections == plan.processes * db.per_process_pool <= db.pool_max_clients
    assert db.read_connections_per_replica <= db.max_connections - db.reserved


def test_cache_budget_stays_under_maxclients() -> None:
    plan = plan_for(nodeSize="c-16")
    assert plan.cache.client_connections <= plan.cache.max_clients
    assert plan.cache.eviction_policy == "allkeys-lru"


def test_load_balancer_sized_in_units_above_the_target() -> None:
    # Clients that keep a connection for 100 requests: connections set the size.
    plan = plan_for(nodeSize="c-16", targetConcurrency=50_000,
                    workload={"requestsPerConnection": 100})  # fmt: skip
    assert plan.load_balancer.size_unit == 6
    assert plan.load_balancer.max_connections >= 50_000


def test_single_node_has_no_load_balancer() -> None:
    plan = capacity.plan(settings.parse("dev", {"domain": "dev.example.com"}))
    assert plan.nodes == 1 and not plan.load_balancer.enabled


def test_ovh_picks_the_smallest_flavor_that_holds_the_target() -> None:
    stack = settings.parse(
        "staging",
        {"cloud": "ovh", "ovhServiceName": "0" * 32, "tls": "off", "targetConcurrency": 5000},
    )
    plan = capacity.plan(stack)
    assert plan.load_balancer.size == "small"


def test_plan_is_deterministic_and_serialisable() -> None:
    first, second = plan_for().to_dict(), plan_for().to_dict()
    assert first == second
    assert {"nodes", "per_node_concurrency", "checks"} <= set(first)


def test_sysctls_cover_the_seed_keys_in_a_stable_order() -> None:
    sysctls = plan_for().kernel.sysctls()
    assert list(sysctls) == sorted(sysctls, key=list(sysctls).index)
    for key in ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_tw_reuse",
                "net.ipv4.tcp_fin_timeout", "net.ipv4.ip_local_port_range"):  # fmt: skip
        assert key in sysctls
    assert sysctls["net.ipv4.ip_local_port_range"] == "1024 65535"


def test_ovh_budgets_reads_against_its_single_read_endpoint() -> None:
    stack = settings.load("prod-ovh", REPO)
    plan = capacity.plan(stack)
    db = plan.database
    assert db.read_replicas == 2 and db.max_connections == 400
    # Every reader may land on one standby behind the read-only endpoint, old and new nodes
    # of a rollout batch together.
    readers = plan.rollout.peak_nodes * plan.gunicorn.workers
    assert readers > plan.processes
    assert db.read_connections_per_replica == readers * db.per_process_read_pool
    assert db.read_connections_per_replica <= db.max_connections - db.reserved
    assert plan.cache.eviction_policy is None


def test_load_balancer_reports_what_its_size_forwards_per_second() -> None:
    """Connections are not the only limit: each DigitalOcean size unit forwards 10,000
    requests/s and 250 new TLS connections/s (providers.md D11), each OVHcloud flavor its own."""
    lb = plan_for(
        nodeSize="c-16", targetConcurrency=50_000, workload={"requestsPerConnection": 100}
    ).load_balancer
    assert (lb.requests_per_second, lb.new_tls_per_second) == (6 * 10_000, 6 * 250)
    ovh = capacity.plan(
        settings.parse(
            "staging",
            {"cloud": "ovh", "ovhServiceName": "0" * 32, "tls": "off", "targetConcurrency": 5000},
        )
    ).load_balancer
    small = ovh_catalog.LB_FLAVORS[0]
    assert (ovh.requests_per_second, ovh.new_tls_per_second) == (
        small.requests_per_second,
        small.new_tls_per_second,
    )


def test_a_planned_fleet_past_the_database_trusted_sources_is_refused() -> None:
    """nodeCount above 50 is refused by the settings; a node count the plan derives (small
    droplets, a large target) meets the same ceiling here: 100 trusted-source addresses per
    database firewall, two per droplet."""
    with pytest.raises(capacity.CapacityError) as refused:
        plan_for(nodeSize="s-1vcpu-2gb", targetConcurrency=200_000)
    (ceiling,) = [c for c in refused.value.broken if "the most the cloud admits" in c.link]
    # prod runs a monitoring node, which takes one droplet's place in the trusted sources.
    assert clouds.get("digitalocean").catalog.max_nodes.value == 50
    assert ceiling.have == 49
    assert ceiling.need > 50
    assert "pyscale:nodeCount" in str(refused.value)


def test_ovh_sets_no_node_ceiling() -> None:
    stack = settings.load("prod-ovh", REPO)
    plan = capacity.plan(stack)
    assert plan.max_nodes is None
    assert not [c for c in capacity.checks(plan) if "the most the cloud admits" in c.link]
