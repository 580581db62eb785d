"""Hostile stack files (issue 16): each exits 2 from `pyscale plan` naming the key, and the
program registers nothing. One member of each family pyscale guards here; the unit tests
(tests/unit/test_guardrails.py) hold every member found."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyscale import cli, offline, settings

REPO = Path(__file__).resolve().parents[2]

HOSTILE = [
    # 1. address sets: two halves that are the whole internet, a non-canonical VPC range
    ("pyscale:sshAllowCidrs", '["0.0.0.0/1", "128.0.0.0/1"]', "pyscale:sshAllowCidrs"),
    ("pyscale:sshAllowCidrs", '["0.0.0.0/00"]', "pyscale:sshAllowCidrs"),
    ("pyscale:vpcCidr", "10.110.0.1/20", "pyscale:vpcCidr"),
    # 2. the environment: a prod stack that says staging, plaintext, one node
    ("pyscale:environment", "staging", "pyscale:environment"),
    ("pyscale:tls", "off", "pyscale:tls"),
    ("pyscale:nodeCount", "1", "pyscale:nodeCount"),
    # 3. provider config: the token sent elsewhere, a plain token, a namespace typo
    ("digitalocean:apiEndpoint", "https://api.digitalocean.com.example.net",
     "digitalocean:apiEndpoint"),
    ("digitalocean:token", "dop_v1_0123", "digitalocean:token"),
    ("digitalocean:spacesEndpoint", "https://example.net", "digitalocean:spacesEndpoint"),
    ("pyscal:nodeCount", "9", "pyscal:nodeCount"),
    ("PyScale:nodeCount", "9", "PyScale:nodeCount"),
    # 6. the edge: an exemption that covers every client, one that is part of the VPC
    ("pyscale:edge", '{"exemptCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}', "pyscale:edge.exemptCidrs"),
    ("pyscale:edge", '{"exemptCidrs": ["10.110.0.0/24"]}', "pyscale:edge.exemptCidrs"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "value", "named"), HOSTILE)
def test_a_hostile_prod_stack_registers_nothing(mock_engine, key: str, value: str,
                                                named: str) -> None:  # fmt: skip
    engine = mock_engine("prod", {key: value})
    with pytest.raises(settings.SettingsError) as caught:
        offline.execute()
    assert f"{named} = " in str(caught.value)
    assert engine.registered == []


@pytest.mark.parametrize(("key", "value", "named"), HOSTILE)
def test_a_hostile_prod_stack_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           key: str, value: str, named: str) -> None:  # fmt: skip
    lines = [ln for ln in (REPO / "Pulumi.prod.yaml").read_text().splitlines()
             if not ln.startswith(f"  {key}:")]  # fmt: skip
    lines.insert(lines.index("config:") + 1, f"  {key}: '{value}'")
    (tmp_path / "Pulumi.prod.yaml").write_text("\n".join(lines) + "\n")
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    code = cli.main(["--stack-dir", str(tmp_path), "plan", "--stack", "prod"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"{named} = " in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("", "  pyscale:tls: managed", "key 'pyscale:tls' is given twice (also on line 24)"),
        ("  pyscale:backups: true", "  pyscale:backups: no", "pyscale:backups = 'no'"),
        ("", "  pyscale:alerts: *anchor", "take no aliases"),
    ],
)
def test_a_stack_file_pulumi_would_read_otherwise_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, says: str
) -> None:
    """Duplicate keys, YAML 1.1 booleans (a string to Pulumi) and aliases."""
    text = (REPO / "Pulumi.prod.yaml").read_text()
    text = text.replace(old, new) if old else text + new + "\n"
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    code = cli.main(["--stack-dir", str(tmp_path), "plan", "--stack", "prod"])
    captured = capsys.readouterr()
    assert code == 2
    assert says in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err
