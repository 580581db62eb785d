"""`pyscale plan|render`, run as a user runs them (a real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyscale", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def prod_plan() -> dict:
    result = cli("plan", "--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_prod_plan_holds_50000(prod_plan: dict) -> None:
    capacity = prod_plan["capacity"]
    assert capacity["nodes"] * capacity["per_node_concurrency"] >= 50_000
    assert all(check["have"] >= check["need"] for check in capacity["checks"])
    assert prod_plan["monthly_cost"] > 0 and prod_plan["currency"] == "USD"


def test_prod_plan_lists_resources_with_secrets_masked(prod_plan: dict) -> None:
    types = [r["type"] for r in prod_plan["resources"]]
    # The web nodes, and the monitoring node.
    assert types.count("digitalocean:index/droplet:Droplet") == prod_plan["capacity"]["nodes"] + 1
    droplet = next(r for r in prod_plan["resources"] if r["type"].endswith(":Droplet"))
    assert droplet["inputs"]["userData"] == "[secret]"
    for name in ("database_primary_uri", "database_read_uris", "cache_uri"):
        assert prod_plan["outputs"][name] == "[secret]"
    # The node files are shown with placeholder credentials, never the stack's own (the
    # mocks' DigitalOcean passwords start AVNS_, as the real ones do).
    assert "AVNS_" not in json.dumps(prod_plan)
    env = prod_plan["node_file_text"]["/etc/pyscale/env"]
    assert "postgresql://pyscale:REDACTED@" in env


def test_prod_plan_lists_prerequisites_and_load_balancer_rates(prod_plan: dict) -> None:
    needed = prod_plan["prerequisites"]
    assert [set(p) for p in needed] == [{"what", "why", "how", "when"}] * len(needed)
    assert any("verified" in p["what"] and "oncall@example.com" in p["what"] for p in needed)
    lb = prod_plan["capacity"]["load_balancer"]
    assert lb["requests_per_second"] == lb["size_unit"] * 10_000
    assert lb["new_tls_per_second"] == lb["size_unit"] * 250
    # 50 droplets in the databases' trusted sources, one of them the monitoring node.
    assert prod_plan["capacity"]["max_nodes"] == 49
    assert any("pyscale:monitoringToken" in p["what"] for p in needed)


def test_text_plan_shows_capacity_cost_and_resources() -> None:
    result = cli("plan", "--stack", "staging")
    assert result.returncode == 0, result.stderr
    for heading in ("Resources to create", "Capacity: target 10,000", "Monthly cost estimate",
                    "Prerequisites (", "requests/s", "new TLS connections/s"):  # fmt: skip
        assert heading in result.stdout
    # staging: a tenth of an 8,000-slot node per client; the demo routes stay public.
    assert "  per client       800 in flight, " in result.stdout
    assert "private network only" not in result.stdout


def write_stack(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    document["config"].update({f"pyscale:{k}": v for k, v in changes.items()})
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


@pytest.mark.parametrize(
    ("change", "key"),
    [({"targetConcurrency": -5}, "targetConcurrency"), ({"nodeSize": "m-99"}, "nodeSize")],
)
def test_bad_stack_exits_non_zero_naming_the_key(tmp_path: Path, change: dict, key: str) -> None:
    stack_dir = write_stack(tmp_path, **change)
    result = cli("--stack-dir", str(stack_dir), "plan", "--stack", "prod", "--json")
    assert result.returncode == 2
    assert f"pyscale:{key}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_flags_go_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    """`--stack-dir X plan ...` and `plan ... --stack-dir X` read the same stack file."""
    stack_dir = str(write_stack(tmp_path, nodeSize="m-99"))
    args = ["plan", "--stack", "prod"]
    args = (
        ["--stack-dir", stack_dir, *args]
        if where == "before"
        else [*args, "--stack-dir", stack_dir]
    )
    result = cli(*args)
    assert result.returncode == 2, result.stdout
    assert "pyscale:nodeSize = 'm-99'" in result.stderr


def test_the_console_command_is_the_module(tmp_path: Path) -> None:
    """The installed `pyscale` command and `python -m pyscale` are one program."""
    command = Path(sys.executable).with_name("pyscale")
    installed = subprocess.run(
        [str(command), "render", "--stack", "dev", "--out", str(tmp_path / "a")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    module = cli("render", "--stack", "dev", "--out", str(tmp_path / "b"))
    assert installed.returncode == module.returncode == 0, installed.stderr + module.stderr
    assert (tmp_path / "a/user-data").read_text() == (tmp_path / "b/user-data").read_text()


def test_render_writes_user_data_and_every_file(tmp_path: Path) -> None:
    result = cli("render", "--stack", "prod", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    user_data = (tmp_path / "user-data").read_text()
    assert user_data.startswith("#cloud-config")
    document = yaml.safe_load(user_data)
    for entry in document["write_files"]:
        assert (tmp_path / "files" / entry["path"].lstrip("/")).is_file(), entry["path"]
    assert (tmp_path / "files/etc/nginx/nginx.conf").is_file()
    # The monitoring node: its user-data and files, the alert rules' thresholds from the
    # same plan (tests/render checks them).
    monitor = tmp_path / "monitoring"
    assert yaml.safe_load((monitor / "user-data").read_text())["write_files"]
    rules = yaml.safe_load((monitor / "files/etc/prometheus/rules/pyscale.rules.yml").read_text())
    scrape = yaml.safe_load((monitor / "files/etc/prometheus/prometheus.yml").read_text())
    assert scrape["rule_files"] == ["rules/pyscale.rules.yml"]
    board = json.loads((monitor / "files/etc/grafana/dashboards/pyscale-prod.json").read_text())
    assert board["uid"] == "pyscale-prod" and len(board["panels"]) >= 10
    names = [r["alert"] for r in rules["groups"][0]["rules"]]
    assert len(names) >= 10 and "PyscaleInFlightNearCapacity" in names
