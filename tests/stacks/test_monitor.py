"""The monitoring node in both clouds' plans (under mocks): a machine in the private network,
reachable from the admin networks on Grafana's and Prometheus's ports only, booting the
rendered monitoring user-data as a secret with the credentials the cloud gives it: a
read-only discovery login, the data stores' metrics endpoints and logins. On DigitalOcean
the read-only token is a secret the stack must be given: an update without it is refused
before anything is registered."""

from __future__ import annotations

import ipaddress

import pulumi
import pytest
import yaml

from pyscale import monitoring, offline, settings
from pyscale.clouds.ovh import mocks as ovh_mocks
from tests.stacks.variants import run_as

DROPLET = "digitalocean:index/droplet:Droplet"
FIREWALL = "digitalocean:index/firewall:Firewall"
DB_FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
INSTANCE = "ovh:index/cloudInstance:CloudInstance"
SECURITY_GROUP = "ovh:index/cloudSecurityGroup:CloudSecurityGroup"
OVH_USER = "ovh:CloudProject/user:User"
OVH_PROMETHEUS = "ovh:CloudProjectDatabase/prometheus:Prometheus"
TOKEN = "dop_v1_" + "ab" * 32
ADMIN = "203.0.113.0/24"
SSH = "198.51.100.0/24"


def prometheus_yml(user_data: str) -> dict:
    files = {f["path"]: f for f in yaml.safe_load(user_data)["write_files"]}
    return yaml.safe_load(files["/etc/prometheus/prometheus.yml"]["content"])


def do_run(**secrets: str) -> offline.Run:
    overrides = {f"pyscale:{k}": v for k, v in secrets.items()}
    overrides["pyscale:sshAllowCidrs"] = f'["{SSH}"]'
    return offline.run("prod", overrides=overrides, secret_overrides=list(overrides))


def test_digitalocean_monitor_droplet_sits_in_the_vpc_behind_its_own_firewall() -> None:
    run = do_run(monitoringToken=TOKEN)
    (droplet,) = run.monitor(DROPLET)
    assert droplet.inputs["name"] == "pyscale-prod-monitor"
    assert droplet.inputs["size"] == run.settings.monitoring.size.name == "s-2vcpu-4gb"
    private = ipaddress.ip_address(droplet.outputs["ipv4AddressPrivate"])
    assert private in ipaddress.ip_network(run.settings.vpc_cidr)
    assert droplet.inputs["tags"] == ["pyscale-prod", "pyscale-prod-monitor"]
    (firewall,) = run.monitor(FIREWALL)
    assert firewall.inputs["tags"] == ["pyscale-prod-monitor"]
    inbound = {
        (r["portRange"], tuple(r["sourceAddresses"])) for r in firewall.inputs["inboundRules"]
    }
    assert inbound == {("3000", (ADMIN,)), ("9090", (ADMIN,)), ("22", (SSH,))}
    # The databases admit it (it reads their metrics endpoints); the web firewall does not
    # list it, and its own admits no web port.
    for db_firewall in run.of_type(DB_FIREWALL):
        assert {"type": "tag", "value": "pyscale-prod-monitor"} in db_firewall.inputs["rules"]


def test_digitalocean_monitor_boots_the_rendered_document_as_a_secret() -> None:
    run = do_run(monitoringToken=TOKEN)
    (droplet,) = run.monitor(DROPLET)
    assert "userData" in droplet.secret_inputs
    config = prometheus_yml(droplet.inputs["userData"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["node"]["digitalocean_sd_configs"][0]["authorization"]["credentials"] == TOKEN
    # Each cluster's metrics endpoint as DigitalOcean lists it, with the account's login.
    clusters = run.of_type("digitalocean:index/databaseCluster:DatabaseCluster")
    by_engine = {c.inputs["engine"]: c for c in clusters}
    for job, engine in (("postgresql", "pg"), ("valkey", "valkey")):
        endpoint = by_engine[engine].outputs["metricsEndpoints"][0]
        assert jobs[job]["static_configs"][0]["targets"] == [endpoint.split("/")[2]]
        assert jobs[job]["basic_auth"]["username"] == "doadmin-metrics"
    url, secret = run.outputs["monitoring_url"]
    assert url == f"https://{droplet.outputs['ipv4Address']}:3000" and not secret
    # It probes what clients open: the stack's URL.
    assert jobs["blackbox"]["static_configs"][0]["targets"] == [f"{run.outputs['url'][0]}/healthz"]


def test_a_preview_without_the_token_warns_and_an_update_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run = offline.run("prod")
    assert run.monitor(DROPLET), "a preview shows the monitoring node"
    assert "pyscale:monitoringToken = None" in caplog.text
    config, secret_keys = settings.stack_config("prod", offline.REPO)
    recorder = offline.install("prod", "digitalocean", config, secret_keys)
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    with pytest.raises(settings.SettingsError, match="monitoringToken") as refused:
        offline.execute()
    assert "pulumi config set --secret pyscale:monitoringToken" in str(refused.value)
    assert recorder.registered == []


def test_no_monitoring_node_where_the_stack_turns_it_off() -> None:
    run = offline.run(
        "prod", overrides={"pyscale:monitoring": '{"node": false}', "pyscale:alerts": "{}"}
    )
    assert run.monitor(DROPLET) == [] and run.monitor(FIREWALL) == []
    assert run.outputs["monitoring_url"][0] == ""
    assert all(len(f.inputs["rules"]) == 1 for f in run.of_type(DB_FIREWALL))


def test_ovh_monitor_instance_its_security_group_and_read_only_user() -> None:
    run = run_as("prod-ovh", "prod-ovh", {"pyscale:sshAllowCidrs": f'["{SSH}"]'})
    (instance,) = run.monitor(INSTANCE)
    assert instance.inputs["name"] == "pyscale-prod-ovh-monitor"
    assert "userData" in instance.secret_inputs
    (group,) = run.monitor(SECURITY_GROUP)
    assert instance.inputs["securityGroupIds"] == [group.id]
    rules = {(r["portRangeMin"], r["remoteIpPrefix"]) for r in group.inputs["rules"]}
    assert rules == {(3000, ADMIN), (9090, ADMIN), (22, SSH)}
    (user,) = run.of_type(OVH_USER)
    assert user.inputs["roleNames"] == ["infrastructure_supervisor"]
    config = prometheus_yml(instance.inputs["userData"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    discovery = jobs["node"]["openstack_sd_configs"][0]
    assert discovery["username"] == user.outputs["username"]
    assert discovery["project_id"] == run.settings.ovh_service_name
    integrations = {p.inputs["engine"]: p for p in run.of_type(OVH_PROMETHEUS)}
    assert set(integrations) == {"postgresql", "valkey"}
    for job in ("postgresql", "valkey"):
        target = integrations[job].outputs["targets"][0]
        assert jobs[job]["static_configs"][0]["targets"] == [f"{target['host']}:{target['port']}"]
        assert target["port"] == ovh_mocks.METRICS_PORT
    assert monitoring.ADMIN_PORTS == (3000, 9090)


@pytest.mark.parametrize("stack", ["prod", "prod-ovh"])
def test_no_credential_reaches_the_plan_in_clear(stack: str) -> None:
    run = offline.run(stack)
    for resource in run.monitor(DROPLET) + run.monitor(INSTANCE):
        assert "userData" in resource.secret_inputs, resource.urn
