"""`python -m components plan|render|node`: the program, offline, for people and CI.

`plan` runs the real Pulumi program under the mock engine (no cloud account, no Pulumi
CLI) and shows what `pulumi up` would create, the capacity plan, the monthly cost and the
policy verdicts. `render` writes one node's cloud-init and every file it lands. `node`
runs the rendered node on this machine (components/localnode).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from components import bootstrap, capacity, offline, settings
from policy import offline as policy_offline

SECRET = "[secret]"
# Inputs worth a glance in the text listing; the JSON carries all of them.
KEY_INPUTS = (
    "region", "size", "sizeUnit", "flavorName", "flavorId", "imageId", "image", "engine",
    "version", "nodeCount", "plan", "ipRange", "cidr", "mode", "dropletTag", "redirectHttpToHttps",
    "enableBackendKeepalive", "vlanId", "network", "protocol",
)  # fmt: skip


def _mask(value: Any, secret: bool) -> Any:
    return SECRET if secret else value


def _resource_rows(run: offline.Run) -> list[dict[str, Any]]:
    rows = []
    # Registration order depends on timing: sort so that two plans diff cleanly.
    for r in sorted(
        run.resources, key=lambda r: (not r.type.endswith(":WebStack"), r.type, r.name)
    ):
        if r.type.startswith("pulumi:providers:"):
            continue
        inputs = {k: _mask(v, k in r.secret_inputs) for k, v in sorted(r.inputs.items())}
        rows.append(
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "protect": r.protect,
                "inputs": inputs,
            }
        )
    return rows


def _plan_document(run: offline.Run, violations: list[Any]) -> dict[str, Any]:
    # The program exports the plan and the estimate; the document shows those, not a recount.
    cost = run.outputs["monthly_cost_estimate"][0]
    return {
        "stack": run.stack,
        "cloud": run.settings.cloud,
        "region": run.settings.region,
        "environment": run.settings.environment,
        "resources": _resource_rows(run),
        "capacity": run.outputs["capacity"][0],
        "monthly_cost": cost["total"],
        "currency": cost["currency"],
        "cost": cost,
        "outputs": {k: _mask(v, secret) for k, (v, secret) in run.outputs.items()},
        "policy": [vars(v) for v in violations],
    }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 48 else text[:45] + "..."


def _print_plan(doc: dict[str, Any], plan: capacity.CapacityPlan) -> None:
    out = sys.stdout.write
    out(f"pyscale plan: stack {doc['stack']} ({doc['cloud']}, {doc['region']}, "
        f"{doc['environment']})\n\n")  # fmt: skip
    rows = doc["resources"]
    out(f"Resources to create ({len(rows)}):\n")
    width = max(len(r["type"]) for r in rows)
    for r in rows:
        keys = " ".join(
            f"{k}={_short(v)}"
            for k, v in r["inputs"].items()
            if k in KEY_INPUTS and v not in (None, "")
        )
        lock = " [protected]" if r["protect"] else ""
        out(f"  {r['type']:<{width}}  {r['name']}{lock}  {keys}\n")

    g, n, k, db, c, lb = (
        plan.gunicorn,
        plan.nginx,
        plan.kernel,
        plan.database,
        plan.cache,
        plan.load_balancer,
    )
    all_checks = capacity.checks(plan)
    out(f"\nCapacity: target {plan.target_concurrency:,} concurrent requests\n")
    out(
        f"  nodes            {plan.nodes} x {plan.per_node_concurrency:,} "
        f"(holds {plan.capacity_one_node_down:,} with one node down)\n"
    )
    out(
        f"  gunicorn         {g.workers} {g.worker_class} workers x {g.worker_connections:,} "
        f"connections, backlog {g.backlog:,}, LimitNOFILE {g.limit_nofile:,}\n"
    )
    out(
        f"  nginx            {n.worker_processes} workers x {n.worker_connections:,} connections, "
        f"rlimit {n.worker_rlimit_nofile:,}, upstream keepalive {n.upstream_keepalive:,}\n"
    )
    out(
        f"  kernel           somaxconn {k.somaxconn:,}, syn backlog {k.tcp_max_syn_backlog:,}, "
        f"nofile {k.nofile:,}, file-max {k.file_max:,}\n"
    )
    out(
        f"  postgresql       {db.size}: {db.max_connections} connections, PgBouncer {db.pool_mode} "
        f"pool {db.pool_size}, {db.app_connections} app clients, {db.read_replicas} read replicas\n"
    )
    out(
        f"  valkey           {c.size}: {c.client_connections:,} clients of maxclients "
        f"{c.max_clients:,}, eviction {c.eviction_policy or 'not settable: keys carry TTLs'}\n"
    )
    lb_text = (
        f"{lb.size} ({lb.max_connections:,} connections)" if lb.enabled else "none (single node)"
    )
    out(f"  load balancer    {lb_text}\n")
    out(f"  checks           {sum(ch.ok for ch in all_checks)}/{len(all_checks)} links hold\n")

    cost = doc["cost"]
    out(f"\nMonthly cost estimate ({cost['currency']}, list prices as of {cost['as_of']}):\n")
    for line in cost["lines"]:
        label = f"{line['item']:<28} {line['size']:<18} x{line['quantity']:<3}"
        out(f"  {label} {line['monthly']:>10,.2f}\n")
    out(f"  {'total':<52} {cost['total']:>10,.2f}\n")

    violations = doc["policy"]
    out(f"\nPolicy: {len(violations)} violation(s)\n")
    for v in violations:
        out(f"  [{v['enforcement']}] {v['policy']}: {v['resource']}: {v['message']}\n")


def _cmd_plan(args: argparse.Namespace) -> int:
    run = offline.run(args.stack, Path(args.stack_dir))
    violations = policy_offline.evaluate(run.resources, run.outputs, run.config)
    doc = _plan_document(run, violations)
    if args.json:
        json.dump(doc, sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    else:
        _print_plan(doc, run.plan)
    mandatory = [v for v in violations if v.enforcement == "mandatory"]
    return 3 if mandatory else 0


def _cmd_render(args: argparse.Namespace) -> int:
    stack_settings = settings.load(args.stack, Path(args.stack_dir))
    plan = capacity.plan(stack_settings)
    node = bootstrap.render(plan, stack_settings, bootstrap.placeholder_secrets(plan))
    bootstrap.write_tree(node, Path(args.out))
    sys.stdout.write(f"wrote {Path(args.out) / 'user-data'} and {len(node.files)} files under "
                     f"{Path(args.out) / 'files'}\n")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m components", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--stack-dir",
        default=str(offline.REPO),
        help="directory holding Pulumi.<stack>.yaml (default: this repository)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    plan_p = sub.add_parser("plan", help="show what `pulumi up` would create, offline")
    plan_p.add_argument("--stack", required=True)
    plan_p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    plan_p.set_defaults(func=_cmd_plan)
    render_p = sub.add_parser("render", help="write a node's user-data and files")
    render_p.add_argument("--stack", required=True)
    render_p.add_argument("--out", required=True)
    render_p.set_defaults(func=_cmd_render)
    sub.add_parser("node", help="run the rendered node locally (see `node --help`)", add_help=False)

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["node"]:
        from components import localnode  # heavy and Linux-only: only for this command

        return localnode.main(argv[1:])
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (settings.SettingsError, capacity.CapacityError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
