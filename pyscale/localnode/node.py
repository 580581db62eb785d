"""One rendered node, run for real on this machine inside its own network namespace.

The files are the ones `render.node` writes for the stack, rendered with the local services'
URLs instead of the managed ones and remapped into the node's state directory (`layout`).
Each number the runner itself applies where systemd and the kernel would (sysctls, each
unit's LimitNOFILE) comes from the same plan object the files were rendered from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyscale import capacity, render
from pyscale.localnode.commands import NodeError, run_checked, wait_until
from pyscale.localnode.layout import GUNICORN_GROUP, REMAPPED_PREFIXES, Layout
from pyscale.localnode.netns import (
    Namespace,
    delete_namespace,
    namespace_exists,
    namespace_pids,
)
from pyscale.localnode.plan import LocalPlan, local_plan
from pyscale.localnode.procs import READY_TIMEOUT_S, Proc, Supervisor, alive
from pyscale.localnode.services import ENDPOINTS, Services
from pyscale.settings import Settings

# This checkout's virtualenv: the local node runs the Gunicorn the tests and bench import.
GUNICORN = render.REPO / ".venv" / "bin" / "gunicorn"
STATE_ROOT = Path(os.environ.get("PYSCALE_NODE_STATE", "/tmp/pyscale-node"))


@dataclass(frozen=True)
class NodeInfo:
    """A node that is up: where to reach it, what it runs, and what differs from the cloud."""

    stack: str
    namespace: Namespace
    host: str  # the Host header the site answers
    url: str  # from the host, through the veth pair
    url_in_namespace: str
    state_dir: str
    nginx_conf: str
    gunicorn_pid: int
    nginx_pid: int
    plan: capacity.CapacityPlan
    notes: tuple[str, ...]
    services: bool
    sysctls_applied: dict[str, str]
    sysctls_host_wide_not_applied: dict[str, str]
    remapped: dict[str, str]

    def to_json(self) -> dict:
        """What node.json, `node up --json` and `node status` show."""
        return dataclasses.asdict(self)


def unix_healthz(path: Path) -> bool:
    """GET /healthz straight to Gunicorn's socket: a worker has booted and answers (the
    demo app, or whatever app a test put on the socket)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class LocalNode:
    """Start, stop and inspect one stack's local node. State lives in `state`."""

    def __init__(self, stack: str, state_root: Path = STATE_ROOT, name: str = "") -> None:
        """`name` tells apart two nodes of one stack (the benchmark's and yours); it names
        the state directory and the namespace, and defaults to the stack."""
        self.stack = stack
        self.name = name or stack
        self.state = state_root / self.name
        self.layout = Layout(self.state)
        self.ns_name = f"pyscale-{self.name}"[:32]

    def info(self) -> dict:
        """The running node's node.json (written once it is up)."""
        if not self.layout.info.exists():
            raise NodeError(f"no local node for stack '{self.stack}' (no {self.layout.info})")
        return json.loads(self.layout.info.read_text())

    # -- up ----------------------------------------------------------------------------
    def up(self, stack_settings: Settings, *, services: bool = True) -> NodeInfo:
        """Bring the node up; on any failure stop what was started, then re-raise.

        `services=False` starts no PostgreSQL, PgBouncer or Redis: the rendered files are the
        same (the app's URLs still point at them), so /db and /cache answer 503 while /,
        /healthz and /io, which need neither, are served as usual. For the benchmark, which
        drives /io only, on a machine without the services' packages.
        """
        if self.layout.info.exists() or namespace_exists(self.ns_name):
            raise NodeError(
                f"a local node for stack '{self.stack}' is already up (state {self.state}); "
                f"run `pyscale node down --stack {self.stack}` first"
            )
        if self.state.exists():
            shutil.rmtree(self.state)
        self.state.mkdir(parents=True)
        for parent in self.state.parents:
            if not parent.stat().st_mode & 0o001:
                raise NodeError(
                    f"{parent} is not searchable by other users (mode "
                    f"{parent.stat().st_mode & 0o777:o}); PostgreSQL and Nginx's workers run "
                    "as their own users: choose another --state-dir"
                )
        self.state.chmod(0o755)
        sup = Supervisor(self.state)
        try:
            return self._up(local_plan(stack_settings), sup, services)
        except BaseException:
            self._teardown(sup)
            raise

    def _up(self, local: LocalPlan, sup: Supervisor, services: bool) -> NodeInfo:
        plan, notes = local.plan, list(local.notes)
        ns = Namespace.for_name(self.ns_name)
        ns.create()
        secrets = render.NodeSecrets(
            database_url=ENDPOINTS.database_url,
            # One local replica serves every replica the plan counts.
            database_read_urls=(ENDPOINTS.read_url,) * plan.database.read_replicas,
            redis_url=ENDPOINTS.redis_url,
        )
        self.layout.write(render.node(plan, local.settings, secrets))
        # The sysctl file's own source (it renders plan.kernel.sysctls()), as `sysctl
        # --system` would apply it; the host-wide fs.* keys are left to the host.
        applied, host_wide = ns.apply_sysctls(plan.kernel.sysctls())
        if services:
            Services(sup, ns, self.state, plan.database, plan.cache).start()
        else:
            notes.append(
                "backing services: not started (no PostgreSQL, PgBouncer or Redis); /db and "
                "/cache answer 503, /, /healthz and /io need neither"
            )
        gunicorn = self._start_gunicorn(sup, ns, plan.gunicorn.limit_nofile)
        nginx = self._start_nginx(sup, ns, plan.nginx.limit_nofile)
        # What a node's last bootstrap step does: from now on /healthz answers 200.
        self.layout.path(render.NODE.bootstrap_done).touch()
        info = NodeInfo(
            stack=self.stack,
            namespace=ns,
            host=local.settings.domain or "localhost",
            url=f"http://{ns.node_ip}/",
            url_in_namespace="http://127.0.0.1/",
            state_dir=str(self.state),
            nginx_conf=str(self.layout.nginx_conf),
            gunicorn_pid=gunicorn.pid,
            nginx_pid=nginx.pid,
            plan=plan,
            notes=tuple(notes),
            services=services,
            sysctls_applied=applied,
            sysctls_host_wide_not_applied=host_wide,
            remapped={p: str(self.layout.path(p)) for p in REMAPPED_PREFIXES},
        )
        self.layout.info.write_text(json.dumps(info.to_json(), indent=1))
        self._smoke(info)
        return info

    def gunicorn_argv(self, ns: Namespace) -> list[str]:
        """The unit's ExecStart with local paths: the config file's numbers stand as rendered."""
        return ns.exec(
            str(GUNICORN),
            "--config", str(self.layout.path("/etc/pyscale/gunicorn.conf.py")),
            "--group", GUNICORN_GROUP,
            "--pid", str(self.layout.path("/run/pyscale/gunicorn.pid")),
        )  # fmt: skip

    def _start_gunicorn(self, sup: Supervisor, ns: Namespace, nofile: int) -> Proc:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        return sup.start_ready(
            "gunicorn",
            self.gunicorn_argv(ns),
            ready=lambda: unix_healthz(self.layout.socket),
            what="Gunicorn to answer /healthz on its socket",
            # The unit's second EnvironmentFile: the address pyscale-exporters finds.
            env=env | self.layout.app_env() | {"PYSCALE_METRICS_ADDRESS": ns.node_ip},
            cwd=render.APP_DIR,  # the unit's WorkingDirectory (the demo app's directory)
            nofile=nofile,
        )

    def nginx_argv(self, ns: Namespace, *extra: str) -> list[str]:
        return ns.exec(
            "nginx", "-c", str(self.layout.nginx_conf),
            "-e", str(self.layout.path("/var/log/nginx/error.log")), *extra,
        )  # fmt: skip

    def _start_nginx(self, sup: Supervisor, ns: Namespace, nofile: int) -> Proc:
        run_checked(self.nginx_argv(ns, "-t", "-q"), "nginx -t on the rendered configuration")
        return sup.start_ready(
            "nginx",
            self.nginx_argv(ns, "-g", "daemon off;"),
            ready=self.layout.path("/run/nginx.pid").exists,
            what="Nginx's pid file",
            stop_signal=signal.SIGQUIT,
            nofile=nofile,
        )

    def _smoke(self, info: NodeInfo) -> None:
        """Every endpoint answers through Nginx before the node is called up (without the
        backing services: every endpoint that needs none)."""

        def ok(path: str, method: str = "GET") -> bool:
            request = urllib.request.Request(
                f"{info.url.rstrip('/')}{path}", method=method, headers={"Host": info.host}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return 200 <= response.status < 300
            except OSError:
                return False

        wait_until(lambda: ok("/healthz"), "GET /healthz through Nginx", READY_TIMEOUT_S, 0.2)
        checks = [("/", "GET"), ("/io?ms=0", "GET")]
        if info.services:
            checks += [("/db", "POST"), ("/db", "GET"), ("/cache", "GET")]
        for path, method in checks:
            if not ok(path, method):
                raise NodeError(f"{method} {path} did not answer 2xx; logs in {self.state / 'log'}")

    def reload_nginx(self) -> None:
        """`nginx -s reload` against the running node's configuration."""
        ns = Namespace(**self.info()["namespace"])
        run_checked(self.nginx_argv(ns, "-s", "reload"), "nginx -s reload")

    def drain(
        self, detect_s: float, finish_s: float, record: Callable[[str], None] | None = None
    ) -> None:
        """Leave as a cloud node does on shutdown (pyscale-drain.service, then Nginx's and
        Gunicorn's units, in that order): /healthz answers 503 for `detect_s` while the
        load balancer notices, then Nginx stops gracefully (QUIT: stop accepting, finish
        in-flight requests) within `finish_s`, then Gunicorn. `record(event)` is told each
        step as it starts. The namespace and state stay: `down` removes them."""
        note = record or (lambda _event: None)
        sup = Supervisor(self.state)
        note("draining")
        self.layout.path(render.NODE.draining_flag).touch()
        time.sleep(detect_s)
        note("nginx stopping")
        sup.stop("nginx", finish_s)
        sup.stop("gunicorn", self.info()["plan"]["gunicorn"]["graceful_timeout_s"])
        note("stopped")

    # -- down --------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop everything this node started and remove its namespace and state."""
        stopped = self._teardown(Supervisor(self.state))
        if self.state.exists():
            shutil.rmtree(self.state)
        return stopped

    def _teardown(self, sup: Supervisor) -> list[str]:
        stopped = sup.stop_all()
        # Anything left in the namespace was started by us (only the node runs there).
        for pid in namespace_pids(self.ns_name):
            try:
                os.kill(pid, signal.SIGKILL)
                stopped.append(f"pid {pid} (left in namespace)")
            except ProcessLookupError:
                pass
        if delete_namespace(self.ns_name):
            stopped.append(f"namespace {self.ns_name}")
        self.layout.info.unlink(missing_ok=True)
        return stopped

    # -- status ------------------------------------------------------------------------
    def exited(self) -> list[str]:
        """The recorded processes that are no longer running."""
        return [p.name for p in Supervisor(self.state).procs if not alive(p)]

    def status(self) -> dict:
        info = self.info()
        procs = Supervisor(self.state).procs
        info["processes"] = {p.name: {"pid": p.pid, "running": alive(p)} for p in procs}
        info["namespace_exists"] = namespace_exists(self.ns_name)
        return info
