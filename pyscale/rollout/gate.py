"""The health gate: wait until the load balancer itself reports a node healthy.

A cloud's API answers "is this node healthy behind this load balancer?" (DigitalOcean's
droplets_health_checks metric, findings D14; OVHcloud's pool member operating status,
O11). The gate asks every `interval_s` and passes after `in_a_row` healthy answers in a row:
a node that flaps resets the count. It fails with GateTimeout when `timeout_s` passes
first, naming the node and what the load balancer last said, so that the update fails and
the node it was to replace is left in place, serving.

Transient API errors (timeouts, 5xx, 429) count as "not yet"; an error no retry can fix
(bad credentials, a load balancer that does not exist) raises at once.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Observation:
    """One answer: `healthy` None while the load balancer does not know the node yet."""

    at_s: float  # seconds since the gate opened
    healthy: bool | None
    detail: str


class ProbeError(RuntimeError):
    """An API answer no retry can fix: the gate stops at once."""


class HealthProbe(Protocol):
    def __call__(self) -> tuple[bool | None, str]:
        """Ask once: (healthy, what the API said). Raise ProbeError when asking again
        cannot help; any other exception counts as a transient "not yet"."""


class NodeApi(Protocol):
    """What the gate needs of a cloud: a node's health behind its load balancer, and a
    graceful stop (the node drains on shutdown: cloud-init/files, pyscale-drain)."""

    def probe(self, target: Mapping[str, Any], node_id: str) -> HealthProbe: ...

    def stop(self, node_id: str, within_s: int) -> str:
        """Ask for a graceful shutdown and wait up to `within_s` for the node to be off;
        say what happened. A node already gone is not an error."""
        ...


class GateTimeout(RuntimeError):
    def __init__(self, node: str, timeout_s: float, seen: list[Observation]) -> None:
        self.node, self.timeout_s, self.seen = node, timeout_s, seen
        last = seen[-1].detail if seen else "no answer"
        flaps = sum(1 for a, b in itertools.pairwise(seen) if a.healthy and not b.healthy)
        super().__init__(
            f"node {node} not healthy behind the load balancer within {timeout_s:g} s "
            f"({len(seen)} checks, {flaps} flap(s); last: {last}); the node it replaces "
            "is left in place and serving"
        )


@dataclass
class Gate:
    """Poll a probe until `in_a_row` healthy answers in a row, or `timeout_s`."""

    timeout_s: float
    interval_s: float
    in_a_row: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    seen: list[Observation] = field(default_factory=list)

    def wait(self, node: str, probe: HealthProbe) -> list[Observation]:
        """Every answer until the node passed; raises GateTimeout or ProbeError."""
        start = self.clock()
        streak = 0
        while True:
            now = self.clock() - start
            try:
                healthy, detail = probe()
            except ProbeError:
                raise
            except Exception as error:
                healthy, detail = None, f"API error: {error}"
            self.seen.append(Observation(round(now, 3), healthy, detail))
            streak = streak + 1 if healthy else 0
            if streak >= self.in_a_row:
                return self.seen
            if now + self.interval_s > self.timeout_s:
                raise GateTimeout(node, self.timeout_s, self.seen)
            self.sleep(self.interval_s)


def wait_until_healthy(
    node: str,
    probe: HealthProbe,
    *,
    timeout_s: float,
    interval_s: float,
    in_a_row: int,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Observation]:
    """The gate once: every answer until `node` passed; GateTimeout when it does not."""
    gate = Gate(timeout_s, interval_s, in_a_row, clock, sleep)
    return gate.wait(node, probe)
