"""pyscale/diff: the pull-request plan comment from two `plan --json` documents."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pulumi import _types as pulumi_types

from pyscale import cli, clouds, diff, offline, report
from pyscale.offline import conformance
from pyscale.render import REPO


def doc(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stack": "prod",
        "currency": "USD",
        "monthly_cost": 1000.0,
        "capacity": {
            "target_concurrency": 50000,
            "nodes": 3,
            "per_node_concurrency": 33000,
            "vcpus": 16,
            "memory_gib": 32,
            "load_balancer": {"max_connections": 60000, "size_unit": 6},
            "checks": [{"link": "a", "have": 2, "need": 1}, {"link": "b", "have": 1, "need": 1}],
        },
        "resources": [
            {"type": "pyscale:digitalocean:WebStack", "name": "pyscale-prod", "inputs": {}},
            {"type": "digitalocean:index/droplet:Droplet", "name": "node-1",
             "inputs": {"size": "c-16", "userData": "[secret]"}},
            {"type": "digitalocean:index/droplet:Droplet", "name": "node-2",
             "inputs": {"size": "c-16", "userData": "[secret]"}},
            {"type": "digitalocean:index/databaseCluster:DatabaseCluster", "name": "pg",
             "inputs": {"size": "db-s-4vcpu-8gb"}, "monthly_cost": 120},
        ],
        "policy": [],
    }  # fmt: skip
    base.update(over)
    return base


def plans(edit) -> tuple[diff.Plan, diff.Plan]:
    base = doc()
    head = copy.deepcopy(base)
    edit(head)
    return diff.Plan.from_json(base), diff.Plan.from_json(head)


def test_added_removed_changed_by_type_and_name() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["resources"] = [r for r in head["resources"] if r["name"] != "node-2"]
        head["resources"].append(
            {"type": "digitalocean:index/databaseReplica:DatabaseReplica", "name": "pg-r1"}
        )
        head["resources"][1]["inputs"]["size"] = "c-32"
        head["resources"][2]["monthly_cost"] = 240

    changes = diff.diff(*plans(edit))
    assert changes.added == [("digitalocean:index/databaseReplica:DatabaseReplica", "pg-r1")]
    assert changes.removed == [("digitalocean:index/droplet:Droplet", "node-2")]
    assert changes.changed == {
        ("digitalocean:index/droplet:Droplet", "node-1"): ["size"],
        ("digitalocean:index/databaseCluster:DatabaseCluster", "pg"): ["monthly_cost"],
    }


def test_protection_and_resource_options_are_changes_a_reviewer_sees() -> None:
    def edit(head: dict[str, Any]) -> None:
        pg = head["resources"][3]
        pg["protect"] = False
        pg["options"] = {"deleteBeforeReplace": True, "ignoreChanges": ["size"]}

    def protected(base_or_head: dict[str, Any]) -> None:
        pg = base_or_head["resources"][3]
        pg["protect"] = True
        pg["options"] = {"deleteBeforeReplace": False, "ignoreChanges": []}

    base = doc()
    protected(base)
    head = copy.deepcopy(base)
    edit(head)
    changes = diff.diff(diff.Plan.from_json(base), diff.Plan.from_json(head))
    key = ("digitalocean:index/databaseCluster:DatabaseCluster", "pg")
    assert changes.changed == {
        key: ["protect", "options.deleteBeforeReplace", "options.ignoreChanges"]
    }
    assert changes.unprotected == [key]
    text = diff.render(diff.Plan.from_json(base), diff.Plan.from_json(head))
    assert "**Protection removed:** `digitalocean:DatabaseCluster` `pg`" in text
    assert "`options.ignoreChanges`" in text


def test_the_plan_document_carries_every_resource_option(stack_run) -> None:
    run = stack_run("prod")
    rows = {r["name"]: r for r in report.plan_document(run, [])["resources"]}
    pg = rows["pyscale-prod-pg"]
    assert pg["protect"] is True
    assert set(pg["options"]) == {"deleteBeforeReplace", "ignoreChanges", "replaceOnChanges",
                                  "additionalSecretOutputs", "customTimeouts"}  # fmt: skip


def test_identical_plans_have_no_changes() -> None:
    base, head = plans(lambda head: None)
    assert diff.diff(base, head) == diff.Diff([], [], {}, [], {})
    text = diff.render(base, head)
    assert "**+0** added, **-0** removed, **~0** changed" in text
    assert "±0.00 USD" in text
    assert "Capacity changes" not in text


def test_summary_counts_cost_delta_and_capacity() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["monthly_cost"] = 1336.5
        head["capacity"]["nodes"] = 4
        head["capacity"]["load_balancer"]["size_unit"] = 8
        head["resources"].append({"type": "digitalocean:index/droplet:Droplet", "name": "n3"})

    text = diff.render(*plans(edit))
    assert text.startswith("### `prod`\n")
    assert "5 resources (**+1** added, **-0** removed, **~0** changed)" in text
    assert "1,336.50 USD/month (**+336.50 USD**)" in text
    assert "| target concurrency | 50,000 |" in text
    assert "| vCPU / memory per node | 16 vCPU / 32 GiB |" in text
    assert "| capacity checks | 2/2 links hold |" in text
    assert "- `nodes`: 3 → 4" in text
    assert "- `load_balancer.size_unit`: 6 → 8" in text
    assert "| <code>digitalocean:Droplet</code> | 3 |" in text
    assert "- `digitalocean:Droplet` `n3`" in text


def test_cost_going_down_and_currency_change() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["monthly_cost"] = 900
        head["currency"] = "EUR"

    text = diff.render(*plans(edit))
    assert "**-100.00 EUR**" in text
    assert "(base in USD: not comparable)" in text


def test_policy_verdicts_are_listed_and_mandatory_ones_flagged() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["policy"] = [
            {"policy": "ssh-not-public", "enforcement": "mandatory",
             "resource": "urn:pulumi:prod::pyscale::digitalocean:index/firewall:Firewall::fw",
             "message": "fw: inbound tcp port 22 from 0.0.0.0/0"},
            {"policy": "prod-node-redundancy", "enforcement": "advisory",
             "resource": "prod", "message": "one node"},
        ]  # fmt: skip

    text = diff.render(*plans(edit))
    assert "2 violation(s), 1 mandatory — ❌ blocks the deploy" in text
    assert "- `mandatory` **`ssh-not-public`** `fw`: fw: inbound tcp port 22" in text
    assert "- `advisory` **`prod-node-redundancy`** `prod`: one node" in text


def test_clean_policy_says_so() -> None:
    assert "**Policy:** no violations." in diff.render(*plans(lambda h: None))


def test_long_lists_fold_into_details() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["resources"] += [
            {"type": "digitalocean:index/tag:Tag", "name": f"t{i}"}
            for i in range(diff.MAX_LISTED + 1)
        ]

    text = diff.render(*plans(edit))
    assert f"<details><summary>Added ({diff.MAX_LISTED + 1})</summary>" in text


def test_cli_without_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = tmp_path / "head.json"
    head.write_text(json.dumps(doc()))
    (tmp_path / "empty.json").write_text("")
    for base in ("missing.json", "empty.json"):
        assert cli.main(["diff", str(tmp_path / base), str(head)]) == 0
        out = capsys.readouterr().out
        assert "4 resources · 1,000.00 USD/month · no base plan to compare" in out
        assert "Added" not in out


def test_cli_refuses_a_missing_head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    assert "no plan in" in capsys.readouterr().err


def test_real_plan_document_renders(tmp_path: Path) -> None:
    """The CLI's own JSON (pyscale/cli.py) goes through unchanged."""
    out = tmp_path / "prod.json"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli.main(["plan", "--stack", "prod", "--json"]) == 0
    out.write_text(buffer.getvalue())
    text = diff.render(diff.load(out), diff.load(out))
    assert "**+0** added, **-0** removed, **~0** changed" in text
    assert "**Policy:** no violations." in text


# --- node files: what the masked userData hides ----------------------------------------


def real_plan(**overrides: str) -> dict[str, Any]:
    """The prod stack's `plan --json` document, with `pyscale:` overrides."""
    run = offline.run("prod", overrides={f"pyscale:{k}": v for k, v in overrides.items()})
    return json.loads(json.dumps(report.plan_document(run, [])))


def test_a_node_file_change_names_the_files_and_the_rollout() -> None:
    base = real_plan(app=json.dumps({"accessLog": "nginx"}))
    head = real_plan(app=json.dumps({"accessLog": "both"}))  # Gunicorn's log too
    text = diff.render(diff.Plan.from_json(base), diff.Plan.from_json(head))
    rollout = head["capacity"]["rollout"]
    assert (
        f"**userData changes: {rollout['nodes']} node(s) will be replaced** "
        "(`etc/pyscale/gunicorn.conf.py`): "
        f"{rollout['nodes']} nodes replaced in {rollout['nodes']} batches of 1, each gated on "
        f"LB health (timeout {rollout['health_timeout_s']} s)"
    ) in text
    # ...and the change itself, line by line, folded under the file's name.
    assert "<details><summary><code>etc/pyscale/gunicorn.conf.py</code> (+" in text
    assert "--- base/etc/pyscale/gunicorn.conf.py\n+++ head/etc/pyscale/gunicorn.conf.py" in text
    changed = [line for line in text.splitlines() if line.startswith(("+", "-"))]
    assert any("accesslog" in line for line in changed), changed


def test_no_node_file_change_replaces_no_node() -> None:
    plan = diff.Plan.from_json(real_plan())
    assert "Node files: unchanged, no node is replaced." in diff.render(plan, plan)


def test_a_base_without_node_file_digests_is_not_compared() -> None:
    head = real_plan()
    base = {k: v for k, v in head.items() if k != "node_files"}
    text = diff.render(diff.Plan.from_json(base), diff.Plan.from_json(head))
    assert "Node files: not compared" in text


def test_an_alias_added_is_a_change() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["resources"][1]["aliases"] = ["urn:pulumi:prod::pyscale::old::node-1"]

    base, head = plans(edit)
    assert diff.diff(base, head).changed == {
        ("digitalocean:index/droplet:Droplet", "node-1"): ["aliases"]
    }
    assert "`digitalocean:Droplet` `node-1`: `aliases`" in diff.render(base, head)


# --- safe markdown and GitHub's limit ----------------------------------------------------


def test_values_from_stack_files_and_plans_cannot_inject_markdown() -> None:
    hostile = "x](https://evil.example) <details> | `code` *bold*"

    def edit(head: dict[str, Any]) -> None:
        head["resources"].append({"type": "digitalocean:index/tag:Tag", "name": hostile})
        head["capacity"]["nodes"] = "3 | `x` <b>"
        head["policy"] = [{"policy": "p`q", "enforcement": "advisory", "resource": "r",
                           "message": "see [here](https://evil.example) <script>"}]  # fmt: skip

    base, head = plans(edit)
    text = diff.render(base, head)
    span = "``" + hostile + "``"  # one code span holds it all, inert
    assert f"- `digitalocean:Tag` {span}" in text
    outside = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)  # what is not in a code span
    assert "](https://evil" not in outside and "<details> |" not in outside
    assert "<script>" not in outside and "<b>" not in outside
    assert "see \\[here\\]\\(https:\u200b//evil\\.example\\) &lt;script&gt;" in text
    assert "| nodes | <code>3 &#124; `x` &lt;b&gt;</code> |" in text  # one cell, inert


def test_markdown_helpers_hold_any_backtick_run() -> None:
    assert diff.markdown.code("a``b") == "```a``b```"
    assert diff.markdown.code("`x`") == "`` `x` ``"
    assert diff.markdown.fenced("~~~\n```\n")[0] == "````"
    assert diff.markdown.text("**a**\nb") == "\\*\\*a\\*\\* b"


def test_an_oversized_report_is_cut_to_the_limit_with_a_note() -> None:
    big = {f"/etc/f{i}.conf": "\n".join(f"line {i}-{n}" for n in range(300)) for i in range(80)}
    base = diff.Plan.from_json(doc(node_files={p: "a" for p in big}, node_file_text=big))
    head_files = {p: t.replace("line", "LINE") for p, t in big.items()}
    head = diff.Plan.from_json(
        doc(node_files={p: "b" for p in big}, node_file_text=head_files,
            capacity={**doc()["capacity"], "rollout": ROLLOUT})
    )  # fmt: skip
    full = diff.render(base, head, limit=10_000_000)
    assert len(full) > diff.markdown.COMMENT_LIMIT  # what the limit is there for
    text = diff.render(base, head)
    assert len(text) <= diff.markdown.COMMENT_LIMIT
    (note,) = [line for line in text.splitlines() if line.startswith("> Left out")]
    assert "file diffs" in note
    assert "the workflow run's `plan-<stack>` artifact" in text
    assert "**userData changes:" in text  # what a reviewer needs most stays


ROLLOUT = {
    "nodes": 3, "batch_size": 1, "batch_size_default": True, "spare_nodes": 1, "gated": True,
    "health_timeout_s": 900, "drain_s": 40, "detect_s": 35, "finish_s": 5,
    "finish_needed_s": 3,
}  # fmt: skip


# --- `pyscale diff BASE_REF HEAD_REF`: the comment, made locally ---------------------------


def test_two_refs_give_the_comment_a_template_change_makes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(repo)], check=True)
    template = repo / "cloud-init/files/etc/nginx/pyscale/proxy.conf.j2"
    template.write_text(
        template.read_text().replace("proxy_redirect off;", "proxy_redirect default;")
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "commit", "-qam", "a template change"], check=True)
    text = diff.comment(repo, "HEAD~1", "HEAD", "staging")
    assert text.startswith("## pyscale plan: `HEAD` against `HEAD~1`\n\n### `staging`")
    assert "node(s) will be replaced** (`etc/nginx/pyscale/proxy.conf`)" in text
    assert "-proxy_redirect off;\n+proxy_redirect default;" in text
    # A change outside what the nodes boot with replaces nothing.
    (repo / "docs/security.md").write_text("changed\n")
    subprocess.run([*git, "commit", "-qam", "docs only"], check=True)
    assert "Node files: unchanged, no node is replaced." in diff.comment(
        repo, "HEAD~1", "HEAD", "staging"
    )


def test_a_ref_git_cannot_find_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diff", "no-such-ref-anywhere", ".", "--stack", "staging"]) == 2
    assert "'no-such-ref-anywhere' is not a commit git can find" in capsys.readouterr().err


# --- the topology picture ----------------------------------------------------------------


def test_the_topology_shows_every_part_and_marks_what_a_change_touches() -> None:
    base = real_plan(app=json.dumps({"accessLog": "nginx"}))
    head = real_plan(app=json.dumps({"accessLog": "both"}))
    chart = "\n".join(diff.topology.flowchart(head))
    replicas = head["capacity"]["database"]["read_replicas"]
    for line in (
        'internet -->|"HTTPS 443"| lb',
        'lb -->|"firewall: 80 from the load balancer only"| nodes',
        f'nodes["{head["capacity"]["nodes"]} node(s), 16 vCPU / 32 GiB"]',
        f'replicas[("{replicas} read replica(s)")]',
        'database -.->|"replication"| replicas',
        'nodes -->|"TLS"| cache',
    ):
        assert f"  {line}" in chart, line
    assert "  class " not in chart
    text = diff.render(diff.Plan.from_json(base), diff.Plan.from_json(head))
    assert "```mermaid\nflowchart LR\n" in text
    assert "  class nodes changed\n" in text  # the template change replaces the nodes


def test_a_single_node_faces_the_internet_in_the_picture() -> None:
    run = offline.run("dev")
    chart = diff.topology.flowchart(json.loads(json.dumps(report.plan_document(run, []))))
    assert '  internet -->|"HTTPS 443, HTTP 80"| nodes' in chart
    assert not any(line.strip().startswith("lb[") for line in chart)


def test_topology_labels_cannot_break_out_of_their_quotes() -> None:
    hostile = doc()
    hostile["resources"][3]["inputs"]["size"] = 'db"] --> x[("<img src=x>'
    (line,) = [x for x in diff.topology.flowchart(hostile) if x.strip().startswith("database")]
    label = line.split('[("', 1)[1].rsplit('")]', 1)[0]
    assert label.startswith("PostgreSQL primary db")
    assert not set(label) & set('"[]<>=`|')


def test_plan_prints_the_topology_as_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "--stack", "staging", "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR\n") and "lb -->" in out


def test_a_change_an_input_forces_is_named_a_replacement() -> None:
    def edit(head: dict[str, Any]) -> None:
        node = head["resources"][1]
        node["inputs"]["imageId"] = "debian-13-new"
        node["options"] = {"replaceOnChanges": ["userData", "imageId"]}

    base, head = plans(edit)
    text = diff.render(base, head)
    forced = "`node-1`: `imageId`, `options.replaceOnChanges` — **replaced** (`imageId` forces it)"
    assert forced in text


def test_an_input_the_provider_replaces_on_is_named_a_replacement() -> None:
    def edit(head: dict[str, Any]) -> None:
        head["cloud"] = "digitalocean"
        head["resources"][1]["inputs"]["region"] = "ams3"  # ForceNew on a droplet
        head["resources"][3]["inputs"]["size"] = "db-s-8vcpu-16gb"  # a resize, in place

    base, head = plans(edit)
    text = diff.render(base, head)
    assert "`node-1`: `region` — **replaced** (`region` forces it)" in text
    assert "`pg`: `size`\n" in text


def test_provider_configuration_changes_are_shown_with_secrets_masked() -> None:
    base = real_plan()
    run = offline.run(
        "prod",
        overrides={"digitalocean:apiEndpoint": "https://api.digitalocean.com",
                   "digitalocean:httpRetryMax": "9"},
    )  # fmt: skip
    head = json.loads(json.dumps(report.plan_document(run, [])))
    text = diff.render(diff.Plan.from_json(base), diff.Plan.from_json(head))
    assert "**Configuration changes (2)**" in text
    assert "- `digitalocean:apiEndpoint`: unset → `https://api.digitalocean.com`" in text
    assert "- `digitalocean:httpRetryMax`: unset → `9`" in text
    assert all(v == "[secret]" for k, v in head["config"].items() if k.endswith(":token"))


MERMAID_PARSE = Path(__file__).with_name("mermaid_parse.mjs")


def mermaid_parse(charts: dict[str, str], where: Path) -> dict[str, dict]:
    """Each chart through Mermaid's own parser (node_modules, `npm ci`)."""
    for name, chart in charts.items():
        (where / f"{name}.mmd").write_text(chart)
    done = subprocess.run(
        ["node", str(MERMAID_PARSE), *(str(where / f"{n}.mmd") for n in charts)],
        capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(charts), done.stderr
    return {Path(r["file"]).stem: r for r in results}


def test_every_picture_parses_as_mermaid_and_a_broken_one_does_not(tmp_path: Path) -> None:
    charts = {}
    for stack in ("dev", "staging", "prod", "prod-ovh"):
        plan = json.loads(json.dumps(report.plan_document(offline.run(stack), [])))
        charts[stack] = "\n".join(diff.topology.flowchart(plan, {"nodes", "lb", "database"}))
    hostile = doc()
    hostile["resources"][3]["inputs"]["size"] = 'db"] --> x[("<img src=x>'
    hostile["capacity"]["nodes"] = '3"] end'
    charts["hostile"] = "\n".join(diff.topology.flowchart(hostile))
    charts["broken"] = 'flowchart LR\n  nodes["a"]] --> b\n'
    results = mermaid_parse(charts, tmp_path)
    assert results.pop("broken")["ok"] is False
    for name, result in results.items():
        assert result == {**result, "ok": True, "type": "flowchart-v2"}, (name, result)


@pytest.mark.parametrize("cloud", clouds.NAMES)
def test_the_replacing_inputs_are_inputs_of_the_installed_sdks(cloud: str) -> None:
    """Every type and input the replacement tables name exists in the provider's SDK."""
    table = clouds.get(cloud).replacing_inputs
    assert table
    for token, names in table.items():
        args = conformance.resource_types(token.partition(":")[0]).get(token)
        assert args is not None, token
        assert names <= set(pulumi_types.input_type_types(args)), (token, sorted(names))


# --- review findings, each pinned --------------------------------------------------------


def test_the_full_report_cuts_no_file_diff() -> None:
    before = "\n".join(f"old {n}" for n in range(300))
    after = "\n".join(f"new {n}" for n in range(300))
    base = diff.Plan.from_json(doc(node_files={"/f": "a"}, node_file_text={"/f": before}))
    head = diff.Plan.from_json(
        doc(node_files={"/f": "b"}, node_file_text={"/f": after},
            capacity={**doc()["capacity"], "rollout": ROLLOUT})
    )  # fmt: skip
    cut = diff.render(base, head)
    assert "more diff lines in the full report" in cut and "+new 299" not in cut
    full = diff.render(base, head, limit=None)
    assert "more diff lines" not in full and "-old 0" in full and "+new 299" in full


def test_mentions_issue_references_and_bare_urls_are_not_linked() -> None:
    shown = diff.markdown.text("ping @org/sec-team about #12 at https://evil.example/x")
    assert "@org" not in shown and "#12" not in shown and "://" not in shown
    assert "\u200b" in shown


def test_a_table_cell_holds_pipes_and_backslashes() -> None:
    assert diff.markdown.code("a\\|b<c>", in_table=True) == "<code>a\\&#124;b&lt;c&gt;</code>"


def test_replace_on_changes_names_only_inputs_and_reads_property_paths() -> None:
    def edit(head: dict[str, Any]) -> None:
        pg = head["resources"][3]
        pg["protect"] = True
        pg["inputs"]["tags"] = ["b"]
        pg["options"] = {"replaceOnChanges": ["tags[*]"]}

    base, head = plans(edit)
    key = ("digitalocean:index/databaseCluster:DatabaseCluster", "pg")
    assert diff.diff(base, head).replaced == {key: ["tags"]}

    def star(head: dict[str, Any]) -> None:
        head["resources"][3]["protect"] = True
        head["resources"][3]["options"] = {"replaceOnChanges": ["*"]}

    base, head = plans(star)
    assert diff.diff(base, head).replaced == {}  # protect and options are not inputs
