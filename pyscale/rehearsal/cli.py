"""`pyscale node boot --stack S [--keep] [--json]`: the stack's node booted for real.

Builds (once) the images, starts the data stores, boots the stack's rendered user-data,
unchanged, through cloud-init under systemd, and reports: cloud-init's verdict with each
module's time, the pyscale units, every tuned value as the node applied it against the plan,
requests through Nginx, Gunicorn and the app to the data stores, and, when the bootstrap
stopped, the failing step and the last lines of its output. Every difference from a cloud
node that this machine forces is printed with the report.

Exit status: 0 the node serves as planned, 1 it does not (the report says why), 2 the stack
cannot be booted here (bad settings, an OS this machine cannot reproduce, not root).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pyscale import settings
from pyscale.rehearsal.boot import NotRehearsable, Rehearsal
from pyscale.rehearsal.images import ImageError
from pyscale.rehearsal.podman import PodmanError
from pyscale.rehearsal.report import BootReport


def print_report(report: BootReport, os_title: str) -> None:
    out = sys.stdout.write
    verdict = "serving" if report.serving else "NOT SERVING"
    out(f"pyscale node boot: stack {report.stack} on {os_title}, node {report.node_address}: "
        f"{verdict} ({report.seconds:.0f} s)\n")  # fmt: skip
    ci = report.cloud_init
    slowest = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in ci.modules[:3])
    out(f"  cloud-init   {ci.status} in {ci.seconds:.1f} s; slowest: {slowest}\n")
    for error in ci.errors:
        out(f"               error: {error}\n")
    out("  units        " + ", ".join(f"{u.name} {u.active}/{u.sub}" for u in report.units) + "\n")
    held = sum(t.holds for t in report.tuned)
    out(f"  tuned        {held}/{len(report.tuned)} as planned\n")
    for t in report.tuned:
        mark = "=" if t.holds else "!="
        note = f"  ({t.note})" if t.note else ""
        out(f"    {t.name:<40} planned {t.planned:>10} {mark} applied {t.applied}{note}\n")
    answered = sum(p.ok for p in report.probes)
    out(f"  requests     {answered}/{len(report.probes)}: "
        + ", ".join(f"{p.method} {p.path} {p.status}" for p in report.probes) + "\n")  # fmt: skip
    others = [u for u in report.failed_units if u not in {x.name for x in report.units}]
    if others:
        out(f"  failed units outside pyscale: {', '.join(others)}\n")
    if report.bootstrap_failure:
        out("  bootstrap failed:\n" + "".join(
            f"    {line}\n" for line in report.bootstrap_failure.splitlines()))  # fmt: skip
    if report.tls:
        out(f"  tls          {json.dumps(report.tls.get('served'))}\n")
        graded = report.tls.get("testssl")
        if graded:
            verdict = "meets" if graded["mozilla_intermediate"] else "FAILS"
            out(f"  testssl      {verdict} Mozilla intermediate: {graded['protocols_offered']}, "
                f"TLS 1.2 {graded['tls12_suites']}, HSTS {graded['hsts']}\n")  # fmt: skip
    for problem in report.problems:
        out(f"  problem      {problem}\n")
    out("  differences from a cloud node, forced by this machine:\n")
    for difference in report.differences:
        out(f"    - {difference['what']} ({difference['why']})\n")


def _boot(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        sys.stderr.write("error: pyscale node boot needs root (podman, debootstrap)\n")
        return 2
    stack_settings = settings.load(args.stack, Path(args.stack_dir))
    try:
        rehearsal = Rehearsal(stack_settings)
    except NotRehearsable as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    try:
        report = rehearsal.boot(testssl=args.testssl)
    except (PodmanError, ImageError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    finally:
        if not args.keep:
            rehearsal.remove()
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        print_report(report, stack_settings.node_os.title)
        if args.keep:
            sys.stdout.write(f"  kept         podman exec -it {rehearsal.node_name} bash; remove "
                             "with another boot, or podman rm -f the containers\n")  # fmt: skip
    return 0 if report.serving else 1


def add_arguments(actions: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """`boot` beside `node up|down|status`."""
    boot = actions.add_parser(
        "boot", parents=[common], help="boot the stack's user-data through cloud-init here"
    )
    boot.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    boot.add_argument("--keep", action="store_true", help="leave the containers running")
    boot.add_argument("--json", action="store_true", help="the report as one JSON object")
    boot.add_argument(
        "--testssl", action="store_true", help="tls: node only: grade the listener (testssl.sh)"
    )
    boot.set_defaults(func=_boot)
