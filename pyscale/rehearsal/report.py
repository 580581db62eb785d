"""What a rehearsal boot found: cloud-init's verdict, the units, each tuned value as the
booted node applied it against the plan, and requests through the whole path."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pyscale.rehearsal.sandbox import DIFFERENCES

# Units a pyscale node must have running once its bootstrap is done.
PYSCALE_UNITS = (
    "pyscale.service",
    "nginx.service",
    "pyscale-drain.service",
    "prometheus-node-exporter.service",
    "prometheus-nginx-exporter.service",
)
# Units that run once and stay active (exited) until stopped: pyscale-drain.service does its
# work on stop.
ONESHOT_UNITS = ("pyscale-drain.service",)


@dataclass(frozen=True)
class CloudInit:
    status: str  # done | error | running (timed out)
    errors: list[str]
    recoverable_errors: dict[str, list[str]]
    seconds: float  # from the first stage to the end of the last
    modules: list[tuple[str, float]]  # (stage/module, seconds), slowest first


@dataclass(frozen=True)
class Unit:
    name: str
    active: str
    sub: str
    result: str

    @property
    def ok(self) -> bool:
        return self.active == "active"


@dataclass(frozen=True)
class Drain:
    """The node's drain on real systemd: the stop order its units declare, and what
    /healthz answers once pyscale-drain.service is stopping (the node leaving)."""

    drain_after: list[str]  # pyscale-drain.service's After=: stopped before these
    nginx_after: list[str]  # nginx.service's After=: stopped before these
    healthz_status: int  # /healthz while draining (503 when it works)
    healthz_body: str
    state: str  # pyscale-drain.service's ActiveState meanwhile (deactivating: sleeping)

    @property
    def ok(self) -> bool:
        ordered = {"nginx.service", "pyscale.service"} <= set(self.drain_after)
        return ordered and "pyscale.service" in self.nginx_after and self.healthz_status == 503


@dataclass(frozen=True)
class Tuned:
    """One plan number as the node applied it."""

    name: str
    planned: str
    applied: str
    holds: bool
    note: str = ""


@dataclass(frozen=True)
class Probe:
    """One request through the load balancer's path: Nginx -> Gunicorn -> app -> stores."""

    method: str
    path: str
    status: int
    ok: bool
    detail: str = ""


@dataclass
class BootReport:
    stack: str
    image: str
    node_address: str
    cloud_init: CloudInit
    units: list[Unit]
    failed_units: list[str]
    tuned: list[Tuned]
    probes: list[Probe]
    bootstrap_failure: str  # the failing step and the last lines of its output, or ""
    seconds: float
    # tls: node only: the served certificate and, when asked, testssl.sh's verdict.
    tls: dict[str, Any] | None = None
    drain: Drain | None = None  # checked last: it starts the node's drain
    differences: list[dict[str, str]] = field(
        default_factory=lambda: [asdict(d) for d in DIFFERENCES]
    )

    @property
    def problems(self) -> list[str]:
        """Why this boot does not count as a serving node (empty when it does)."""
        found = []
        if self.cloud_init.status != "done" or self.cloud_init.errors:
            found.append(f"cloud-init {self.cloud_init.status}: {self.cloud_init.errors}")
        if self.bootstrap_failure:
            found.append(f"bootstrap failed: {self.bootstrap_failure}")
        found += [f"unit {u.name} is {u.active}/{u.sub}" for u in self.units if not u.ok]
        found += [f"{t.name}: planned {t.planned}, applied {t.applied}"
                  for t in self.tuned if not t.holds]  # fmt: skip
        found += [f"{p.method} {p.path} answered {p.status} {p.detail}".rstrip()
                  for p in self.probes if not p.ok]  # fmt: skip
        if self.drain is not None and not self.drain.ok:
            found.append(f"drain: {self.drain}")
        if self.tls and self.tls.get("testssl") and not self.tls["testssl"]["mozilla_intermediate"]:
            found.append(f"TLS listener outside Mozilla's intermediate profile: {self.tls}")
        return found

    @property
    def serving(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"serving": self.serving, "problems": self.problems}
