"""The program as `pulumi up` runs it: validation first, then the shared output contract."""

import pytest

from pyscale import capacity, offline, settings

STACKS = ("dev", "staging", "prod", "prod-ovh")
CONTRACT = {
    "url", "load_balancer_ip", "node_ips", "database_primary_uri", "database_read_uris",
    "cache_uri", "capacity", "monthly_cost_estimate", "monitoring_url",
}  # fmt: skip
SECRET_EXPORTS = {"database_primary_uri", "database_read_uris", "cache_uri"}


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"pyscale:targetConcurrency": "-5"}, "targetConcurrency"),
        ({"pyscale:nodeSize": "c-99"}, "nodeSize"),
        ({"pyscale:cloud": "aws"}, "cloud"),
    ],
)
def test_bad_setting_registers_nothing(mock_engine, overrides: dict[str, str], key: str) -> None:
    engine = mock_engine("prod", overrides)
    with pytest.raises(settings.SettingsError) as caught:
        offline.execute()
    assert f"pyscale:{key}" in str(caught.value)
    assert engine.registered == []


def test_chain_that_cannot_hold_registers_nothing(mock_engine) -> None:
    overrides = {"pyscale:nodeSize": "c-2", "pyscale:nodeCount": "2",
                 "pyscale:targetConcurrency": "60000"}  # fmt: skip
    engine = mock_engine("prod", overrides)
    with pytest.raises(capacity.CapacityError) as caught:
        offline.execute()
    assert "N+1" in str(caught.value)
    assert engine.registered == []


def test_the_recording_engine_does_record(mock_engine) -> None:
    """The two tests above can fail: the same engine, given good config, records the stack."""
    engine = mock_engine("prod")
    offline.execute()
    assert any(r.type == "pyscale:digitalocean:WebStack" for r in engine.registered)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_exports_the_shared_contract(stack_run, stack: str) -> None:
    run = stack_run(stack)
    assert set(run.outputs) == CONTRACT
    for name in SECRET_EXPORTS:
        value, is_secret = run.outputs[name]
        assert is_secret, f"{stack}: export {name} is not a secret"
        assert value, f"{stack}: export {name} is empty"
    for name in CONTRACT - SECRET_EXPORTS - {"capacity", "monthly_cost_estimate"}:
        assert not run.outputs[name][1], f"{stack}: {name} needlessly secret"
    # Grafana on the monitoring node where the stack runs one, over HTTPS.
    url = run.outputs["monitoring_url"][0]
    assert url.startswith("https://") == run.settings.monitoring.node, (stack, url)


@pytest.mark.parametrize("stack", STACKS)
def test_exported_capacity_is_the_plan(stack_run, stack: str) -> None:
    run = stack_run(stack)
    exported, _ = run.outputs["capacity"]
    assert exported["nodes"] == run.plan.nodes
    assert exported["per_node_concurrency"] == run.plan.per_node_concurrency
    assert all(check["have"] >= check["need"] for check in exported["checks"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_belongs_to_the_webstack(stack_run, stack: str) -> None:
    run = stack_run(stack)
    (web,) = [r for r in run.resources if r.type.endswith(":WebStack")]
    assert web.type == f"pyscale:{run.settings.cloud}:WebStack"
    urns = {r.urn for r in run.resources}
    for resource in run.resources:
        if resource is web or resource.type.startswith("pulumi:providers:"):
            continue
        # Walk up the parents: every resource must sit under the WebStack.
        parent = resource.parent
        while parent != web.urn:
            assert parent in urns, f"{resource.urn} is not under {web.urn}"
            parent = run.by_urn(parent).parent


@pytest.mark.parametrize("stack", STACKS)
def test_resource_names_are_unique(stack_run, stack: str) -> None:
    run = stack_run(stack)
    keys = [(r.type, r.name) for r in run.resources]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_both_clouds_export_the_same_keys(stack_run) -> None:
    assert set(stack_run("prod").outputs) == set(stack_run("prod-ovh").outputs)


def test_a_node_os_the_rehearsal_cannot_reproduce_is_planned_with_a_warning(caplog) -> None:
    """The engine's warning (the mock engine logs it; `pulumi preview` prints it)."""
    run = offline.run("prod", overrides={"pyscale:nodeImage": "ubuntu-24.04"})
    assert {r.inputs["image"] for r in run.of_type("digitalocean:index/droplet:Droplet")} == {
        "ubuntu-24-04-x64"
    }
    assert "pyscale:nodeImage = 'ubuntu-24.04'" in caplog.text
    assert "cannot be rehearsed" in caplog.text


def test_the_shipped_stacks_boot_debian_13_which_the_rehearsal_reproduces(caplog) -> None:
    offline.run("dev")
    assert "cannot be rehearsed" not in caplog.text


def test_a_short_request_needs_more_nodes_and_load_balancer_than_a_long_one() -> None:
    """The same 50,000 concurrent requests on prod: at 50 ms each they are 1,000,000 req/s,
    at 1,000 ms 50,000; the program registers more droplets and a larger load balancer for
    the short ones (CPU and requests/s bind, not connection slots)."""
    database = '{"size": "db-s-6vcpu-16gb", "readReplicas": 5, "standbyNodes": 1}'

    def run(latency_ms: int) -> offline.Run:
        workload = (f'{{"latencyMs": {latency_ms}, "requestsPerConnection": 100, '
                    '"queriesPerRequest": 0.05, "cacheOpsPerRequest": 0.05}')  # fmt: skip
        return offline.run("prod", overrides={"pyscale:workload": workload,
                                              "pyscale:database": database})  # fmt: skip

    short, long = run(50), run(1000)
    droplets = [len(r.web("digitalocean:index/droplet:Droplet")) for r in (short, long)]
    units = [
        r.of_type("digitalocean:index/loadBalancer:LoadBalancer")[0].inputs["sizeUnit"]
        for r in (short, long)
    ]
    assert droplets[0] > droplets[1] and units[0] > units[1], (droplets, units)
    assert short.plan.throughput.binding == "cpu"
    assert droplets[0] == short.plan.throughput.nodes_for_cpu + 1
    assert units[0] == short.plan.throughput.lb_units_for["rps"]
