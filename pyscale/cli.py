"""`pyscale plan | render | node | diff | bench | lock`: the program, offline, for people and CI.

`plan` runs the real Pulumi program under the mock engine (no cloud account, no Pulumi CLI)
and shows what `pulumi up` would create, the capacity plan, the monthly cost and the policy
verdicts. `render` writes one node's cloud-init and every file it lands. `node` runs the
rendered node on this machine (pyscale.localnode), or boots its user-data through cloud-init
in a container (`node boot`, pyscale.rehearsal). `diff` turns two `plan --json` documents
into the pull-request comment. `bench` measures a rendered node (bench/). `lock` regenerates
the node's locked Python environment (deps/node.lock). `settings` checks (or, with --write,
regenerates) the README's settings table and schema/stack.schema.json.

Global flags (`--stack-dir`) are accepted before or after the command. Exit status: 0 done,
2 bad settings, a capacity chain that cannot hold, or (plan) an input the providers would
refuse (every problem listed), 3 a mandatory policy violated.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import node as bench_node
from policy import offline as policy_offline
from pyscale import capacity, diff, localnode, monitoring, offline, render, report, settings
from pyscale.offline import conformance
from pyscale.rehearsal import cli as rehearsal_cli
from pyscale.render import lock
from pyscale.settings import reference


def _cmd_plan(args: argparse.Namespace) -> int:
    run = offline.run(args.stack, Path(args.stack_dir))
    findings = conformance.check(run.resources, run.settings.cloud)
    if findings:
        raise conformance.NonConforming(findings)
    violations = policy_offline.evaluate(run.resources, run.outputs, run.config)
    doc = report.plan_document(run, violations)
    if args.json or args.format == "json":
        json.dump(doc, sys.stdout, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    elif args.format == "mermaid":
        sys.stdout.write("\n".join(diff.topology.flowchart(doc)) + "\n")
    else:
        report.print_plan(doc, run.plan)
    mandatory = [v for v in violations if v.enforcement == "mandatory"]
    return 3 if mandatory else 0


def _cmd_render(args: argparse.Namespace) -> int:
    stack_settings = settings.load(args.stack, Path(args.stack_dir))
    plan = capacity.plan(stack_settings)
    if stack_settings.on_kubernetes:
        return _render_manifests(stack_settings, plan, Path(args.out))
    rendered = render.node(plan, stack_settings, render.placeholder_secrets(plan))
    render.write_tree(rendered, Path(args.out))
    out = Path(args.out)
    monitor = monitoring.monitor_node(
        plan, stack_settings, monitoring.placeholder_monitor_secrets(stack_settings)
    )
    render.write_tree(monitor, out / "monitoring")
    sys.stdout.write(f"wrote {out / 'user-data'} and {len(rendered.files)} files under "
                     f"{out / 'files'}; the monitoring node's (Prometheus, its alert rules, "
                     "Alertmanager, Grafana's dashboard) under "
                     f"{out / 'monitoring'}\n")  # fmt: skip
    return 0


def _render_manifests(
    stack_settings: settings.Settings, plan: capacity.CapacityPlan, out: Path
) -> int:
    """platform: kubernetes: the manifests and the pod's Gunicorn config (no secret)."""
    from pyscale.render import kubernetes

    texts = kubernetes.manifest_texts(plan, stack_settings)
    for path, text in texts.items():
        target = out / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    sys.stdout.write(f"wrote {len(texts)} manifests and files under {out}\n")
    return 0


def _cmd_compose(args: argparse.Namespace) -> int:
    from pyscale.render import compose

    out = Path(args.out)
    stack = compose.project(settings.load(args.stack, Path(args.stack_dir)), out.name)
    written = compose.write(stack, out)
    sys.stdout.write(f"wrote {written[0]} and {len(written) - 1} files under {out}\n")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    """Two plan documents (BASE.json HEAD.json), or two git refs planned here."""
    documents = [Path(a).suffix == ".json" or Path(a).is_file() for a in (args.base, args.head)]
    if not any(documents):
        try:
            sys.stdout.write(diff.comment(render.REPO, args.base, args.head, args.stack))
        except diff.RefError as error:
            sys.stderr.write(f"error: {error}\n")
            return 2
        return 0
    head = diff.load(Path(args.head))
    if head is None:
        sys.stderr.write(f"error: no plan in {args.head}\n")
        return 2
    limit = None if args.full else args.limit
    sys.stdout.write(diff.render(diff.load(Path(args.base)), head, limit=limit))
    return 0


def _cmd_lock(args: argparse.Namespace) -> int:
    render.NODE_LOCK.write_text(lock.render(lock.lock()))
    sys.stdout.write(f"wrote {render.NODE_LOCK}\n")
    return 0


def _cmd_settings(args: argparse.Namespace) -> int:
    root = reference.REPO
    try:
        changed = reference.write(root) if args.write else reference.stale(root)
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    for path in changed:
        verb = "wrote" if args.write else "stale:"
        sys.stdout.write(f"{verb} {path}\n")
    if changed and not args.write:
        sys.stdout.write("regenerate them with `pyscale settings --write`\n")
        return 1
    if not changed:
        sys.stdout.write(f"{reference.README} and {reference.SCHEMA} match the declarations\n")
    return 0


def parser() -> argparse.ArgumentParser:
    # --stack-dir on the main parser and on every command: SUPPRESS keeps a value given
    # before the command from being reset by the command's own default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--stack-dir",
        default=argparse.SUPPRESS,
        help=f"directory holding Pulumi.<stack>.yaml (default: {offline.REPO})",
    )
    main = argparse.ArgumentParser(
        prog="pyscale", description=__doc__.split("\n")[0], parents=[common]
    )
    sub = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser("plan", parents=[common], help="what `pulumi up` would create, offline")
    plan.add_argument("--stack", required=True)
    plan.add_argument("--json", action="store_true", help="one JSON object on stdout")
    plan.add_argument(
        "--format",
        choices=("text", "json", "mermaid"),
        default="text",
        help="text for people, json (as --json), or mermaid: the topology as a flowchart",
    )
    plan.set_defaults(func=_cmd_plan)

    render_p = sub.add_parser("render", parents=[common], help="write a node's files")
    render_p.add_argument("--stack", required=True)
    render_p.add_argument("--out", required=True, help="directory for user-data and files/")
    render_p.set_defaults(func=_cmd_render)

    compose_p = sub.add_parser(
        "compose", parents=[common], help="docker-compose.yml and its files, for local development"
    )
    compose_p.add_argument("--stack", required=True)
    compose_p.add_argument(
        "--out",
        required=True,
        help="folder for the mounted files; docker-compose.yml goes beside it",
    )
    compose_p.set_defaults(func=_cmd_compose)

    node = sub.add_parser("node", parents=[common], help="run a stack's rendered node here")
    rehearsal_cli.add_arguments(localnode.add_arguments(node, common), common)

    diff_p = sub.add_parser(
        "diff", parents=[common], help="two plans (or two git refs) as pull-request markdown"
    )
    diff_p.add_argument(
        "base", help="base `plan --json` (may be missing), or a git ref planned here"
    )
    diff_p.add_argument("head", help="head `plan --json`, or a git ref (`.`: the working tree)")
    diff_p.add_argument("--stack", help="with refs: this stack only (default: every stack)")
    diff_p.add_argument(
        "--limit",
        type=int,
        default=diff.COMMENT_LIMIT,
        help="most characters of a plan's section (GitHub refuses comments over 65,536)",
    )
    diff_p.add_argument(
        "--full", action="store_true", help="the whole report: nothing cut, every file's diff"
    )
    diff_p.set_defaults(func=_cmd_diff)

    bench = sub.add_parser("bench", parents=[common], help="benchmarks (bench/)")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    bench_node.add_arguments(
        benches.add_parser("node", parents=[common], help="tuned node vs stock, same run")
    )

    lock_p = sub.add_parser("lock", parents=[common], help="regenerate deps/node.lock (PyPI)")
    lock_p.set_defaults(func=_cmd_lock)

    settings_p = sub.add_parser(
        "settings", help="check the generated settings reference (README table, JSON schema)"
    )
    settings_p.add_argument(
        "--write", action="store_true", help="regenerate the README table and the JSON schema"
    )
    settings_p.set_defaults(func=_cmd_settings)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not hasattr(args, "stack_dir"):
        args.stack_dir = str(offline.REPO)
    try:
        return args.func(args)
    except (settings.SettingsError, capacity.CapacityError, conformance.NonConforming) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
