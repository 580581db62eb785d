"""Reading a booted rehearsal node: cloud-init's result, unit states, the tuned values it
applied (read from the kernel, /proc and sockets, never from the rendered files) and
requests through Nginx, Gunicorn and the app to the data stores."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import replace

from pyscale import render
from pyscale.capacity import CapacityPlan
from pyscale.rehearsal.podman import Podman, host_nofile
from pyscale.rehearsal.report import PYSCALE_UNITS, CloudInit, Drain, Probe, Tuned, Unit
from pyscale.rehearsal.sandbox import HOST_WIDE_SYSCTLS

OUTPUT_LOG = "/var/log/cloud-init-output.log"
# What runcmd prints when a step fails (cloud-init/runcmd.sh.j2), and how much before it.
FAILURE_MARKER = "pyscale: bootstrap failed at step"
FAILURE_CONTEXT_LINES = 25
GUNICORN_SOCKET = "/run/pyscale/gunicorn.sock"
HTTP_TIMEOUT_S = 15
# (method, path, what the body must hold): the demo app's routes, each through the stores.
REQUESTS = (("GET", "/healthz", "ok"), ("GET", "/", ""), ("GET", "/io?ms=10", "waited_ms"),
            ("POST", "/db", ""), ("GET", "/db", ""), ("GET", "/cache", ""))  # fmt: skip
# A client behind the load balancer (TEST-NET-2): the balancer names it in X-Forwarded-For.
PUBLIC_CLIENT = "198.51.100.7"


class Node:
    """A running rehearsal node container."""

    def __init__(self, podman: Podman, name: str) -> None:
        self.podman, self.name = podman, name

    def sh(self, script: str, check: bool = False) -> str:
        return self.podman.exec(self.name, "sh", "-c", script, check=check)

    def cloud_init_status(self) -> dict:
        out = self.sh("cloud-init status --format json 2>/dev/null")
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            return {"status": "not started"}

    def cloud_init(self, status: dict) -> CloudInit:
        modules = []
        for line in self.sh("cloud-init analyze blame 2>/dev/null").splitlines():
            match = re.match(r"\s*([\d.]+)s \((.+)\)", line)
            if match:
                modules.append((match.group(2), float(match.group(1))))
        total = re.search(r"Total Time: ([\d.]+) seconds", self.sh("cloud-init analyze show"))
        return CloudInit(
            status=status.get("status", "unknown"),
            errors=[str(e) for e in status.get("errors", [])],
            recoverable_errors=status.get("recoverable_errors", {}),
            seconds=float(total.group(1)) if total else 0.0,
            modules=sorted(modules, key=lambda m: -m[1]),
        )

    def units(self) -> list[Unit]:
        found = []
        for unit in PYSCALE_UNITS:
            props = dict(
                line.split("=", 1)
                for line in self.sh(f"systemctl show -p ActiveState,SubState,Result {unit}")
                .splitlines() if "=" in line
            )  # fmt: skip
            found.append(Unit(unit, props.get("ActiveState", "?"), props.get("SubState", "?"),
                              props.get("Result", "?")))  # fmt: skip
        return found

    def drain(self, address: str) -> Drain:
        """Stop pyscale-drain.service without waiting (its stop sleeps while the load
        balancer notices) and read what /healthz answers meanwhile, by the node's address as
        the load balancer asks it. Leaves the node draining: the last thing a boot checks."""

        def after(unit: str) -> list[str]:
            return self.sh(f"systemctl show -p After --value {unit}").split()

        self.sh("systemctl stop --no-block pyscale-drain.service")
        health = Probe("GET", "/healthz", 0, False)
        for _ in range(50):
            health = probe(address, address, "GET", "/healthz", "")
            if health.status == 503:
                break
            time.sleep(0.1)
        return Drain(
            drain_after=after("pyscale-drain.service"),
            nginx_after=after("nginx.service"),
            healthz_status=health.status,
            healthz_body=health.detail.strip(),
            state=self.sh("systemctl show -p ActiveState --value pyscale-drain.service").strip(),
        )

    def failed_units(self) -> list[str]:
        out = self.sh("systemctl --failed --plain --no-legend --no-pager")
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def bootstrap_failure(self) -> str:
        """The failing step (runcmd's record) and the output that led to it: the lines of
        cloud-init's output log before runcmd's "bootstrap failed" line."""
        failed = self.sh(f"cat {render.NODE.bootstrap_failed} 2>/dev/null").strip()
        if not failed:
            return ""
        before = self.sh(
            f"grep -v '^ci-info' {OUTPUT_LOG} | grep -B {FAILURE_CONTEXT_LINES} "
            f"'{FAILURE_MARKER}' | head -n {FAILURE_CONTEXT_LINES + 1}"
        )
        return f"{failed}\n--- {OUTPUT_LOG}, before the failure:\n{before}"

    def _main_pid(self, unit: str) -> str:
        return self.sh(f"systemctl show -p MainPID --value {unit}").strip()

    def _nofile(self, pid: str) -> str:
        limits = self.sh(f"cat /proc/{pid}/limits 2>/dev/null")
        match = re.search(r"Max open files\s+(\d+)", limits)
        return match.group(1) if match else "?"

    def _children(self, pid: str) -> list[str]:
        return self.sh(f"pgrep -P {pid}").split()

    def tuned(self, plan: CapacityPlan) -> list[Tuned]:
        """Each planned number as the node runs it; a limit above the host's hard limit holds
        when the node runs the host's limit (a named difference of the rehearsal)."""
        ceiling = host_nofile()
        found: list[Tuned] = []
        recorded = dict(
            line.split("=", 1) for line in self.sh(f"cat {HOST_WIDE_SYSCTLS}").splitlines()
            if "=" in line
        )  # fmt: skip
        for key, planned in plan.kernel.sysctls().items():
            if key.startswith("net."):
                path = "/proc/sys/" + key.replace(".", "/")
                applied = " ".join(self.sh(f"cat {path}").split())
                found.append(Tuned(f"sysctl {key}", planned, applied, applied == planned))
            else:
                applied = recorded.get(key, "not recorded")
                note = "host-wide: recorded by the node, not written here"
                found.append(Tuned(f"sysctl {key}", planned, applied, applied == planned, note))

        def limit(name: str, planned: int, applied: str) -> Tuned:
            expected = min(planned, ceiling)
            note = f"capped at this machine's hard limit {ceiling}" if planned > ceiling else ""
            return Tuned(name, str(planned), applied, applied == str(expected), note)

        gunicorn = self._main_pid("pyscale.service")
        nginx = self._main_pid("nginx.service")
        workers = self._children(gunicorn) if gunicorn not in ("", "0") else []
        nginx_workers = self._children(nginx) if nginx not in ("", "0") else []
        g, n = plan.gunicorn, plan.nginx
        found.append(limit("gunicorn LimitNOFILE", g.limit_nofile, self._nofile(gunicorn)))
        found.append(Tuned("gunicorn workers", str(g.workers), str(len(workers)),
                           len(workers) == g.workers))  # fmt: skip
        backlog = self.sh(f"ss -Hlx src {GUNICORN_SOCKET}").split()
        found.append(Tuned("gunicorn listen backlog", str(g.backlog),
                           backlog[3] if len(backlog) > 3 else "?",
                           len(backlog) > 3 and backlog[3] == str(g.backlog)))  # fmt: skip
        found.append(limit("nginx LimitNOFILE", n.limit_nofile, self._nofile(nginx)))
        found.append(Tuned("nginx worker processes", str(n.worker_processes),
                           str(len(nginx_workers)),
                           len(nginx_workers) == n.worker_processes))  # fmt: skip
        worker_nofile = self._nofile(nginx_workers[0]) if nginx_workers else "?"
        found.append(limit("nginx worker_rlimit_nofile", n.worker_rlimit_nofile, worker_nofile))
        queues = {line.split()[2] for line in self.sh("ss -Hltn 'sport = :80'").splitlines()}
        applied = ",".join(sorted(queues)) or "?"
        found.append(Tuned("nginx listen backlog (:80)", str(n.listen_backlog), applied,
                           queues == {str(n.listen_backlog)}))  # fmt: skip
        return found


def probe(address: str, host: str, method: str, path: str, expect: str, client: str = "") -> Probe:
    """One request from this machine to the node, as the load balancer sends it (for
    `client` when given)."""
    headers = {"Host": host} | ({"X-Forwarded-For": client} if client else {})
    request = urllib.request.Request(
        f"http://{address}{path}", method=method, headers=headers,
        data=b"" if method == "POST" else None,
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            body = response.read(2048).decode(errors="replace")
            ok = 200 <= response.status < 300 and expect in body
            return Probe(method, path, response.status, ok, "" if ok else body[:200])
    except urllib.error.HTTPError as error:
        return Probe(method, path, error.code, False, error.read(200).decode(errors="replace"))
    except OSError as error:
        return Probe(method, path, 0, False, str(error))


def probes(address: str, host: str) -> list[Probe]:
    return [probe(address, host, method, path, expect) for method, path, expect in REQUESTS]


def metrics_probe(address: str) -> Probe:
    """The app's metrics on the node's private address (the monitoring node's `app` job),
    once the probes before it have been counted."""
    url = f"http://{address}:{render.NODE.app_metrics_port}/metrics"
    path = f":{render.NODE.app_metrics_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            body = response.read().decode(errors="replace")
    except OSError as error:
        return Probe("GET", path, 0, False, str(error))
    wanted = ('route="/"', 'method="GET"', 'status="200"')  # in whatever order it prints them
    ok = any(
        line.startswith("pyscale_http_requests_total{") and all(w in line for w in wanted)
        for line in body.splitlines()
    )
    return Probe("GET", path, 200, ok, "" if ok else "no GET / counted under route /")


def public_probes(address: str, host: str, private_routes: bool) -> list[Probe]:
    """The demo routes that reach the data stores, for a client behind the load balancer:
    404 where the plan keeps them to the private network (prod), served elsewhere."""
    found = []
    for method, path, expect in REQUESTS:
        if path.partition("?")[0] not in render.NODE.demo_private_routes:
            continue
        answer = probe(address, host, method, path, expect, client=PUBLIC_CLIENT)
        if private_routes:
            refused = answer.status == 404
            answer = replace(answer, ok=refused, detail="" if refused else "expected 404")
        found.append(replace(answer, path=f"{path} for {PUBLIC_CLIENT}"))
    return found
