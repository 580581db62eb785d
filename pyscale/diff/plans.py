"""A pull request's plan, as markdown (`pyscale diff BASE.json HEAD.json`).

The pull-request workflow runs `pyscale plan --stack X --json` on the base commit and on
the head commit and feeds both here; the markdown lands in the one plan
comment on the pull request. Reviewers see what the change does to the stack (resources
added, removed, changed), to capacity and to the monthly bill, and every policy verdict,
without reading two JSON documents.

Pure: no Pulumi, no network. A missing or empty BASE file (a new stack, or a base commit
whose plan failed) shows the head plan alone.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyscale import clouds
from pyscale.diff import markdown, nodefiles, topology
from pyscale.diff.markdown import Block, code
from pyscale.rollout.plan import RolloutPlan

Key = tuple[str, str]  # (type token, logical name): a resource's identity across plans
MAX_LISTED = 25  # longer lists fold into <details>, so one stack cannot drown the comment


@dataclass(frozen=True)
class Plan:
    """The parts of a `plan --json` document this report reads."""

    stack: str
    resources: dict[Key, dict[str, Any]]
    document: Mapping[str, Any]  # the whole plan, for the topology picture
    capacity: dict[str, Any]
    monthly_cost: float
    currency: str
    policy: list[dict[str, Any]]
    node_files: dict[str, str] | None  # path -> digest; None from a plan that predates them
    node_text: dict[str, str] | None  # path -> content (placeholder secrets), for the diffs
    config: dict[str, Any] | None  # stack config as the program ran (secrets masked)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Plan:
        return cls(
            stack=str(doc.get("stack", "?")),
            resources={(r["type"], r["name"]): r for r in doc.get("resources", [])},
            document=doc,
            capacity=dict(doc.get("capacity") or {}),
            monthly_cost=float(doc.get("monthly_cost") or 0),
            currency=str(doc.get("currency") or "USD"),
            policy=list(doc.get("policy") or []),
            node_files=dict(doc["node_files"]) if "node_files" in doc else None,
            node_text=dict(doc["node_file_text"]) if "node_file_text" in doc else None,
            config=dict(doc["config"]) if "config" in doc else None,
        )


@dataclass(frozen=True)
class Diff:
    """What head changes against base."""

    added: list[Key]
    removed: list[Key]
    changed: dict[Key, list[str]]  # resource -> changed input names, `protect`, options.*
    unprotected: list[Key]  # protect true in base, false in head
    # resource -> the changed inputs that replace it: its replaceOnChanges option's, or the
    # provider's (pyscale/clouds/<cloud>/replacements.py)
    replaced: dict[Key, list[str]]


def diff(base: Plan, head: Plan) -> Diff:
    """Resources by identity; a resource is changed when its inputs, cost, protection,
    aliases or resource options (deleteBeforeReplace, ignoreChanges, customTimeouts...) differ:
    an option can turn a replacement into an outage or hide a change, so reviewers see it."""
    changed: dict[Key, list[str]] = {}
    unprotected: list[Key] = []
    replaced: dict[Key, list[str]] = {}
    cloud = str(head.document.get("cloud", ""))
    provider = clouds.get(cloud).replacing_inputs if cloud in clouds.NAMES else {}
    for key in sorted(base.resources.keys() & head.resources.keys()):
        before, after = base.resources[key], head.resources[key]
        b_in, a_in = before.get("inputs") or {}, after.get("inputs") or {}
        names = sorted(k for k in b_in.keys() | a_in.keys() if b_in.get(k) != a_in.get(k))
        for field in ("monthly_cost", "protect", "aliases"):
            if before.get(field) != after.get(field):
                names.append(field)
        b_opt, a_opt = before.get("options") or {}, after.get("options") or {}
        names += [f"options.{k}" for k in sorted(b_opt.keys() | a_opt.keys())
                  if b_opt.get(k) != a_opt.get(k)]  # fmt: skip
        if before.get("protect") and not after.get("protect"):
            unprotected.append(key)
        if names:
            changed[key] = names
        # replaceOnChanges takes property paths (`tags[*]`, `a.b`): their first segment.
        option = (after.get("options") or {}).get("replaceOnChanges") or []
        forcing = {re.split(r"[.\[]", path, maxsplit=1)[0] for path in option}
        forcing |= provider.get(key[0], frozenset())
        inputs = b_in.keys() | a_in.keys()
        if forced := [n for n in names if n in inputs and (n in forcing or "*" in forcing)]:
            replaced[key] = forced
    return Diff(
        added=sorted(head.resources.keys() - base.resources.keys()),
        removed=sorted(base.resources.keys() - head.resources.keys()),
        changed=changed,
        unprotected=unprotected,
        replaced=replaced,
    )


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted paths to the scalars of the capacity object (lists stay whole)."""
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _number(value: Any, in_table: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return code(value if isinstance(value, str) else json.dumps(value), in_table=in_table)
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _signed(amount: float, currency: str) -> str:
    sign = "+" if amount > 0 else ("-" if amount < 0 else "±")
    return f"{sign}{abs(amount):,.2f} {currency}"


def _short_type(token: str) -> str:
    """`digitalocean:index/droplet:Droplet` -> `digitalocean:Droplet`."""
    parts = token.split(":")
    return f"{parts[0]}:{parts[-1]}" if len(parts) >= 3 else token


def _resource(key: Key) -> str:
    """A resource as a reviewer reads it: its short type and its name, both quoted."""
    token, name = key
    return f"{code(_short_type(token))} {code(name)}"


def _listing(title: str, lines: list[str], fold: bool = False) -> list[str]:
    """A titled block; folded into <details> when asked or when it runs long."""
    if not lines:
        return []
    if not fold and len(lines) <= MAX_LISTED:
        return [f"**{title}**", "", *lines, ""]
    return [f"<details><summary>{title}</summary>", "", *lines, "", "</details>", ""]


def _capacity_lines(base: Plan | None, head: Plan) -> list[str]:
    cap = head.capacity
    checks = [c for c in cap.get("checks") or [] if isinstance(c, Mapping)]
    holding = sum(1 for c in checks if c.get("have", 0) >= c.get("need", 0))
    headline = [
        ("target concurrency", cap.get("target_concurrency")),
        ("nodes", cap.get("nodes")),
        ("per-node concurrency", cap.get("per_node_concurrency")),
        ("vCPU / memory per node", None),
        ("load balancer connections", (cap.get("load_balancer") or {}).get("max_connections")),
    ]
    lines = ["| capacity | head |", "|---|---|"]
    for label, value in headline:
        if label.startswith("vCPU") and cap.get("vcpus") is not None:
            lines.append(f"| {label} | {cap['vcpus']} vCPU / {cap.get('memory_gib')} GiB |")
        elif value is not None:
            lines.append(f"| {label} | {_number(value, in_table=True)} |")
    if checks:
        lines.append(f"| capacity checks | {holding}/{len(checks)} links hold |")
    lines.append("")
    if base is not None:
        before = dict(_flatten({k: v for k, v in base.capacity.items() if k != "checks"}))
        after = dict(_flatten({k: v for k, v in cap.items() if k != "checks"}))
        moved = [
            f"- {code(path)}: {_number(before.get(path))} → {_number(after.get(path))}"
            for path in sorted(before.keys() | after.keys())
            if before.get(path) != after.get(path)
        ]
        lines += _listing(f"Capacity changes ({len(moved)})", moved)
    return lines


def _rollout_lines(base: Plan, head: Plan) -> list[str]:
    """When the nodes' files change, every node is replaced: say so, which files, and the
    rollout it causes (pyscale/rollout/plan.py, as the head plan describes it)."""
    if base.node_files is None or head.node_files is None:
        return ["Node files: not compared (the base plan predates node file digests).", ""]
    changed = nodefiles.changed(base.node_files, head.node_files)
    if not changed:
        return ["Node files: unchanged, no node is replaced.", ""]
    rollout = RolloutPlan(**head.capacity["rollout"])
    files = ", ".join(code(path.lstrip("/")) for path in changed[:MAX_LISTED])
    more = f" and {len(changed) - MAX_LISTED} more" if len(changed) > MAX_LISTED else ""
    return [
        f"**userData changes: {rollout.nodes} node(s) will be replaced** ({files}{more}): "
        f"{rollout.describe()}.",
        "",
    ]


def _config_lines(base: Plan, head: Plan) -> list[str]:
    """Configuration keys that differ, provider keys (endpoints, retries) included."""
    if base.config is None or head.config is None:
        return []
    missing = object()
    moved = [
        f"- {code(key)}: {_value(base.config.get(key, missing))} → "
        f"{_value(head.config.get(key, missing))}"
        for key in sorted(base.config.keys() | head.config.keys())
        if base.config.get(key, missing) != head.config.get(key, missing)
    ]
    return _listing(f"Configuration changes ({len(moved)})", moved)


def _value(value: object) -> str:
    return (
        "unset"
        if not isinstance(value, str | int | float | bool | list | dict)
        else code(value if isinstance(value, str) else json.dumps(value))
    )


def _replacement(changes: Diff, key: Key) -> str:
    forced = changes.replaced.get(key)
    if not forced:
        return ""
    return f" — **replaced** ({', '.join(code(n) for n in forced)} forces it)"


def _topology_lines(base: Plan | None, head: Plan, changes: Diff | None) -> list[str]:
    """The head's topology, the parts `changes` touches marked (nodes whose files change
    are replaced, so they count)."""
    touched: set[str] = set()
    if base is not None and changes is not None:
        for key in [*changes.added, *changes.changed]:
            touched.add(topology.role(head.resources[key]) or "")
        for key in changes.removed:
            touched.add(topology.role(base.resources[key]) or "")
        files = (base.node_files, head.node_files)
        if None not in files and nodefiles.changed(*files):  # type: ignore[arg-type]
            touched.add("nodes")
    chart = markdown.fenced("\n".join(topology.flowchart(head.document, touched)), "mermaid")
    return ["<details><summary>Topology</summary>", "", *chart, "", "</details>", ""]


def _file_diff_lines(base: Plan, head: Plan, full: bool) -> list[str]:
    """Each changed node file's unified diff, where both plans carry the files' text."""
    if base.node_text is None or head.node_text is None:
        return []
    cut = None if full else nodefiles.MAX_DIFF_LINES
    return nodefiles.diffs(base.node_text, head.node_text, cut)


def _policy_lines(head: Plan) -> list[str]:
    if not head.policy:
        return ["**Policy:** no violations.", ""]
    mandatory = sum(1 for v in head.policy if v.get("enforcement") == "mandatory")
    verdict = "❌ blocks the deploy" if mandatory else "⚠️ advisory only"
    lines = [f"**Policy:** {len(head.policy)} violation(s), {mandatory} mandatory — {verdict}", ""]
    for v in head.policy:
        resource = str(v.get("resource", "")).split("::")[-1]
        lines.append(
            f"- {code(v.get('enforcement'))} **{code(v.get('policy'))}** "
            f"{code(resource)}: {markdown.text(v.get('message'))}"
        )
    return [*lines, ""]


def render(
    base: Plan | None,
    head: Plan,
    limit: int | None = markdown.COMMENT_LIMIT,
    where: str = "The full report is the workflow run's `plan-<stack>` artifact.",
) -> str:
    """One markdown section for one stack, at most `limit` characters: when it would be
    longer, the file diffs go first, then the listings (`where` says where the rest is).
    `limit` None is the full report: nothing cut, every file's whole diff."""
    counts = Counter(_short_type(t) for t, _ in head.resources)
    top = [f"### {code(head.stack)}", ""]
    cost = _money(head.monthly_cost, head.currency)
    changes = diff(base, head) if base is not None else None  # None: no base to compare
    if base is None or changes is None:
        top += [f"{len(head.resources)} resources · {cost}/month · no base plan to compare", ""]
    else:
        delta = head.monthly_cost - base.monthly_cost
        currency_note = (
            f" (base in {markdown.text(base.currency)}: not comparable)"
            if base.currency != head.currency
            else ""
        )
        top += [
            f"{len(head.resources)} resources "
            f"(**+{len(changes.added)}** added, **-{len(changes.removed)}** removed, "
            f"**~{len(changes.changed)}** changed) · "
            f"{cost}/month (**{_signed(delta, head.currency)}**{currency_note})",
            "",
        ]
        if changes.unprotected:
            names = ", ".join(_resource(k) for k in changes.unprotected)
            top += [f"> **Protection removed:** {names} can now be deleted by `pulumi up`.", ""]
    blocks = [Block(tuple(top), keep=100)]
    if base is not None:
        blocks.append(Block(tuple(_rollout_lines(base, head)), keep=90))
    blocks.append(Block(tuple(_policy_lines(head)), keep=95))
    blocks.append(Block(tuple(_capacity_lines(base, head)), keep=60, name="capacity"))
    if base is not None:
        for title, keys, keep in (
            (f"Changed ({len(changes.changed)})", list(changes.changed), 80),
            (f"Added ({len(changes.added)})", changes.added, 70),
            (f"Removed ({len(changes.removed)})", changes.removed, 75),
        ):
            rows = [
                f"- {_resource(k)}: {', '.join(code(f) for f in changes.changed[k])}"
                + _replacement(changes, k)
                if k in changes.changed
                else f"- {_resource(k)}"
                for k in keys
            ]
            blocks.append(Block(tuple(_listing(title, rows)), keep=keep, name=title.lower()))
        config = _config_lines(base, head)
        if config:
            blocks.append(Block(tuple(config), keep=85, name="configuration changes"))
        diffs = _file_diff_lines(base, head, full=limit is None)
        if diffs:
            blocks.append(Block(("**Node file diffs**", "", *diffs), keep=20, name="file diffs"))
    blocks.append(Block(tuple(_topology_lines(base, head, changes)), keep=40, name="topology"))
    type_rows = [f"| {code(t, in_table=True)} | {n} |" for t, n in sorted(counts.items())]
    listing = _listing(
        f"Resources by type ({len(counts)} types)",
        ["| type | count |", "|---|---|", *type_rows],
        fold=True,
    )
    blocks.append(Block(tuple(listing), keep=10, name="resources by type"))
    return markdown.fit(blocks, limit if limit is not None else sys.maxsize, where)


def load(path: Path) -> Plan | None:
    """A plan document, or None when the file is missing or empty (no base plan)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return Plan.from_json(json.loads(text)) if text.strip() else None
