"""`python -m bench.rollout --nodes 3 --duration 60 [--break-new] [--json]`: a rolling
replacement of real nodes under load, through the same gate the Pulumi program runs.

Three (`--nodes`) nodes rendered from the stack (`pyscale.localnode`: Nginx and Gunicorn
with the stack's files, each in its own network namespace) serve behind HAProxy
(bench/haproxy.py), with load running through HAProxy the whole time. Every node is then
replaced, `--batch-size` at a time, by a node rendered from the changed stack (`--change`,
by default a Gunicorn setting): the new node starts and joins the balancer, and the health
gate's provider (components/gate.py, HealthGateProvider.update, exactly as `pulumi up`
calls it) waits until the balancer reports it healthy through the stand-in cloud API, then
shuts the old node down, which drains (LocalNode.drain). `--break-new` renders new nodes
whose bootstrap never finishes (/healthz stays 503): the gate must time out and the
rollout abort with every old node still serving.

JSON: requests, errors (non-2xx plus socket errors), replaced, aborted, and a timeline of
events (node started, healthy, draining, gone) in seconds from the start. Traffic goes to
loopback and to the namespaces the run creates; bounded by --duration and the gates'
timeouts.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.haproxy import Droplet as Slot
from bench.haproxy import HAProxy, StandInApi
from components.gate import HealthGateProvider
from pyscale import render, settings
from pyscale.localnode import LocalNode, NeedsRoot, NodeError, prepare
from pyscale.rollout import HealthCheckTiming
from pyscale.rollout.plan import FINISH_MIN_S, HEALTHY_IN_A_ROW

# The health check scaled down (1 s instead of 10 s) so a rehearsal takes a minute, not
# ten; everything else (thresholds, gate, drain order) is as in the cloud.
HEALTH = HealthCheckTiming(interval_s=1, timeout_s=1, unhealthy_threshold=3, healthy_threshold=3)
DRAIN_S = HEALTH.detect_down_s + FINISH_MIN_S
LOAD_CONNECTIONS = 16
IO_MS = 20
DEFAULT_CHANGE = "app.accessLog=both"


@dataclass
class Run:
    """What happened: counted by the load threads and the rollout, read at the end."""

    start: float = field(default_factory=time.monotonic)
    statuses: Counter = field(default_factory=Counter)
    timeline: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self, node: str, what: str) -> None:
        with self.lock:
            self.timeline.append(
                {"t": round(time.monotonic() - self.start, 2), "node": node, "event": what}
            )

    def count(self, outcome: str) -> None:
        with self.lock:
            self.statuses[outcome] += 1


def load(port: int, host: str, run: Run, stop: threading.Event) -> None:
    """One keep-alive client: GET /io until `stop`, every outcome counted."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        try:
            conn.request("GET", f"/io?ms={IO_MS}", headers={"Host": host})
            response = conn.getresponse()
            response.read()
            run.count(str(response.status))
        except (OSError, http.client.HTTPException) as error:
            run.count(f"socket: {type(error).__name__}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def changed(config: dict[str, str], change: str) -> dict[str, str]:
    """The engine's config with `key=value` set; a dotted key goes into its group's JSON
    object, as `pulumi config set --path pyscale:app.accessLog both` writes it."""
    key, _, value = change.partition("=")
    group, _, leaf = key.rpartition(".")
    if not group:
        return config | {f"pyscale:{key}": value}
    nested = json.loads(config.get(f"pyscale:{group}", "{}"))
    return config | {f"pyscale:{group}": json.dumps(nested | {leaf: value})}


class Rollout:
    def __init__(self, args: argparse.Namespace, state: Path) -> None:
        self.args, self.state, self.run = args, state, Run()
        stack_dir = Path(args.stack_dir)
        config, _ = settings.stack_config(args.stack, stack_dir)
        self.base = settings.from_pulumi_config(args.stack, config)
        self.head = settings.from_pulumi_config(args.stack, changed(config, args.change))
        self.host = self.base.domain or "localhost"
        self.balancer = HAProxy(state / "haproxy", self.host, HEALTH)
        self.api = StandInApi(self.balancer, self._drain)
        os.environ["DIGITALOCEAN_TOKEN"] = "rehearsal"
        os.environ["PYSCALE_DIGITALOCEAN_API"] = self.api.start()
        self.provider = HealthGateProvider()
        self.nodes: list[Slot] = []
        self.successors: dict[str, str] = {}  # old droplet id -> its successor's name

    def _drain(self, slot: Slot) -> None:
        """The old node's shutdown, asked for by the gate once its successor passed."""
        if slot.id in self.successors:
            self.run.event(self.successors[slot.id], "healthy")
        self.run.event(slot.name, "draining")
        if self.args.abrupt:
            # The baseline: what an ungated delete does to a serving node.
            slot.node.down()
        else:
            slot.node.drain(HEALTH.detect_down_s, DRAIN_S - HEALTH.detect_down_s)
        self.run.event(slot.name, "gone")

    def _start(self, name: str, index: int, head: bool) -> Slot:
        node = LocalNode(self.args.stack, self.state / "nodes", name=f"ro-{name}")
        node.down()
        info = node.up(self.head if head else self.base, services=False)
        self.nodes.append(slot := Slot(str(500_000 + index), name, index, node))
        if head and self.args.break_new:
            # A bootstrap that stopped halfway: /healthz answers 503 for good.
            node.layout.path(render.NODE.bootstrap_done).unlink()
        self.api.droplets[slot.id] = slot
        self.balancer.add(slot.slot, info.namespace.node_ip)
        self.run.event(name, "started")
        return slot

    def _props(self, slot: Slot, index: int) -> dict:
        return {
            "cloud": "digitalocean",
            "node_name": f"node-{index}",
            "node_id": slot.id,
            "target": {"load_balancer_id": "rehearsal-lb", "node_name": slot.name},
            "timeout_s": self.args.health_timeout,
            "interval_s": HEALTH.interval_s,
            "in_a_row": HEALTHY_IN_A_ROW,
            "drain_s": DRAIN_S,
        }

    def execute(self) -> dict:
        n, batch = self.args.nodes, self.args.batch_size
        old = [self._start(f"old-{i}", i, head=False) for i in range(1, n + 1)]
        olds = {}
        for i, slot in enumerate(old, start=1):  # the first `pulumi up`: gates on create
            olds[i] = self.provider.create(self._props(slot, i)).outs
            self.run.event(slot.name, "healthy")
        stop = threading.Event()
        clients = [
            threading.Thread(target=load, args=(self.balancer.port, self.host, self.run, stop))
            for _ in range(LOAD_CONNECTIONS)
        ]
        for client in clients:
            client.start()
        time.sleep(2)  # load settles before the first replacement
        replaced, aborted, reason = 0, False, ""
        for first in range(1, n + 1, batch):
            indexes = list(range(first, min(first + batch, n + 1)))
            outcome: dict[int, str] = {}

            def replace(i: int, outcome: dict[int, str] = outcome) -> None:
                new = self._start(f"new-{i}", n + i, head=True)
                self.successors[olds[i]["node_id"]] = new.name
                try:
                    self.provider.update(f"gate-node-{i}", olds[i], self._props(new, i))
                    outcome[i] = ""
                except Exception as error:
                    outcome[i] = str(error)
                    self.run.event(new.name, "gate failed")

            workers = [threading.Thread(target=replace, args=(i,)) for i in indexes]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            replaced += sum(1 for why in outcome.values() if not why)
            if any(outcome.values()):
                aborted, reason = True, next(why for why in outcome.values() if why)
                self.run.event("rollout", "aborted")
                break
        while time.monotonic() - self.run.start < self.args.duration:
            time.sleep(0.2)
        time.sleep(1)  # the last requests after the rollout
        stop.set()
        for client in clients:
            client.join()
        for slot in old[:replaced]:  # what Pulumi does last: delete the replaced droplets
            self.balancer.remove(slot.slot)
        return self.result(replaced, aborted, reason)

    def result(self, replaced: int, aborted: bool, reason: str) -> dict:
        statuses = self.run.statuses
        ok = sum(c for k, c in statuses.items() if k.isdigit() and 200 <= int(k) < 300)
        requests = sum(statuses.values())
        return {
            "stack": self.args.stack,
            "change": self.args.change,
            "nodes": self.args.nodes,
            "batch_size": self.args.batch_size,
            "break_new": self.args.break_new,
            "abrupt": self.args.abrupt,
            "duration_s": round(time.monotonic() - self.run.start, 1),
            "requests": requests,
            "errors": requests - ok,
            "outcomes": dict(sorted(statuses.items())),
            "replaced": replaced,
            "aborted": aborted,
            "abort_reason": reason,
            "health_check": {"interval_s": HEALTH.interval_s, "rise": 3, "fall": 3},
            "drain_s": DRAIN_S,
            "timeline": sorted(self.run.timeline, key=lambda e: e["t"]),
        }

    def close(self) -> None:
        for slot in self.nodes:
            slot.node.down()
        self.balancer.stop()
        self.api.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rollout", description=__doc__)
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--stack-dir", default=".")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load, at least")
    parser.add_argument("--health-timeout", type=float, default=20)
    parser.add_argument("--change", default=DEFAULT_CHANGE, help="KEY=VALUE, a pyscale: key")
    parser.add_argument("--break-new", action="store_true")
    parser.add_argument(
        "--abrupt",
        action="store_true",
        help="baseline: stop old nodes without draining (no failing health check first)",
    )
    parser.add_argument("--state-dir", default="/tmp/pyscale-rollout")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        prepare("the rollout rehearsal", services=False)
    except NeedsRoot as error:
        print(error, file=sys.stderr)
        return 2
    rollout = Rollout(args, Path(args.state_dir))
    try:
        result = rollout.execute()
    except NodeError as error:
        print(f"rollout rehearsal failed: {error}", file=sys.stderr)
        return 1
    finally:
        rollout.close()
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['requests']} requests, {result['errors']} errors; replaced "
              f"{result['replaced']}, aborted {result['aborted']}")  # fmt: skip
        for e in result["timeline"]:
            print(f"  {e['t']:>7.2f} s  {e['node']:<8} {e['event']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
