"""One rendered node, run for real on this machine inside its own network namespace.

The files are the ones `render.render` writes for the stack, rendered with the local
services' URLs instead of the managed ones. Paths are remapped into the node's state
directory (a local run has no /etc/nginx of its own to overwrite); numbers are not touched.
Where this machine cannot grant what the stack's plan needs (fewer cores, a lower hard
descriptor limit than fs.nr_open), the node runs a plan derived through the same capacity
model from this machine's limits, and says which numbers changed and why.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pyscale import capacity, render
from pyscale.localnode import netns
from pyscale.localnode.netns import Namespace
from pyscale.localnode.procs import NodeError, Proc, Supervisor, alive, wait_until
from pyscale.localnode.services import ENDPOINTS, Services
from pyscale.settings import Settings

REPO = render.REPO
VENV = REPO / ".venv"
STATE_ROOT = Path(os.environ.get("PYSCALE_NODE_STATE", "/tmp/pyscale-node"))
# Rendered absolute paths that land in the state directory instead (a local run must not
# overwrite the host's Nginx or write to /run). /etc/nginx/mime.types stays: it is the
# package's own file and the rendered config only reads it.
REMAPPED_PREFIXES = ("/etc/nginx/conf.d/", "/etc/nginx/pyscale/", "/etc/pyscale/", "/run/",
                     "/var/log/nginx/", "/opt/pyscale/")  # fmt: skip
# The unit's Group=: with Gunicorn's umask the socket is group www-data, so Nginx's workers
# reach it. The unit's User= (a system user the node creates) is not mirrored: a local run
# adds no user to this machine, and this venv's interpreter may live where only root reads.
GUNICORN_GROUP = "www-data"
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class LocalPlan:
    """The plan the local node runs, and how (and why) it differs from the stack's own."""

    settings: Settings
    plan: capacity.CapacityPlan
    notes: tuple[str, ...]


def _memory_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // (1024 * 1024)
    raise NodeError("cannot read MemTotal from /proc/meminfo")


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {}
        for f in dataclasses.fields(value):
            out |= _flat(getattr(value, f.name), f"{prefix}{f.name}.")
        return out
    return {prefix.rstrip("."): value}


def local_plan(stack: Settings) -> LocalPlan:
    """The stack's plan if this machine can run it, else one derived from this machine.

    The derivation goes through `capacity.plan` with this machine's cores, memory and hard
    per-process descriptor limit: the same model, smaller inputs, never a number edited.
    """
    notes: list[str] = []
    settings = stack
    if stack.tls != "off":
        settings = dataclasses.replace(settings, tls="off")
        notes.append(
            f"tls: the stack uses '{stack.tls}'; the local node serves plain HTTP "
            "(no certificate for this name here), so port 80 serves the app"
        )
    cpus, memory = os.cpu_count() or 1, _memory_gib()
    size = stack.node_size
    if size.vcpus > cpus or size.memory_gib > memory:
        local_size = dataclasses.replace(
            size,
            name=f"{size.name} (local: {cpus} cores, {memory} GiB)",
            vcpus=min(size.vcpus, cpus),
            memory_gib=min(size.memory_gib, memory),
        )
        settings = dataclasses.replace(settings, node_size=local_size)
        notes.append(
            f"node size: {size.name} has {size.vcpus} vCPUs and {size.memory_gib} GiB; this "
            f"machine has {cpus} cores and {memory} GiB, so the plan is derived for "
            f"{local_size.vcpus} vCPUs and {local_size.memory_gib} GiB"
        )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    ceiling = capacity.LINUX_NR_OPEN if hard == resource.RLIM_INFINITY else hard
    ceiling = min(ceiling, capacity.LINUX_NR_OPEN)
    if ceiling < capacity.LINUX_NR_OPEN:
        notes.append(
            f"descriptors: this machine's hard per-process limit is {ceiling:,} (the cloud "
            f"node's is fs.nr_open = {capacity.LINUX_NR_OPEN:,}); the plan is derived with "
            f"max_process_nofile={ceiling:,}"
        )
    stack_plan = capacity.plan(stack)
    plan = capacity.plan(settings, max_process_nofile=ceiling)
    before, after = _flat(stack_plan), _flat(plan)
    changed = [
        f"{key}: {before[key]} -> {after[key]}"
        for key in after
        if before.get(key) != after[key] and not key.startswith("load_balancer")
    ]
    if changed:
        notes.append("numbers that differ from the stack's plan: " + "; ".join(changed))
    return LocalPlan(settings, plan, tuple(notes))


def _env_file(text: str) -> dict[str, str]:
    """Parse a systemd EnvironmentFile the way systemd does for the rendered subset."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        env[key.strip()] = value
    return env


def _unit_nofile(text: str, path: str) -> int:
    match = re.search(r"^LimitNOFILE=(\d+)$", text, re.MULTILINE)
    if not match:
        raise NodeError(f"{path} has no LimitNOFILE= line")
    return int(match.group(1))


def _unix_healthz(path: Path) -> bool:
    """GET /healthz straight to Gunicorn's socket: a worker has booted and answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class LocalNode:
    """Layout, start and stop of one stack's local node. State lives in `state_dir`."""

    def __init__(self, stack: str, state_root: Path = STATE_ROOT, name: str = "") -> None:
        """`name` tells apart two nodes of one stack (the benchmark's and yours); it names
        the state directory and the namespace, and defaults to the stack."""
        self.stack = stack
        self.name = name or stack
        self.state = state_root / self.name
        self.root = self.state / "root"  # rendered files, remapped, as the node has them
        self.info_path = self.state / "node.json"
        self.ns_name = f"pyscale-{self.name}"[:32]

    # -- paths -------------------------------------------------------------------------
    def path(self, node_path: str) -> Path:
        """Where a node path lives in the local run (remapped or not)."""
        if node_path.startswith(REMAPPED_PREFIXES):
            return self.root / node_path.lstrip("/")
        return Path(node_path)

    def _remap(self, text: str) -> str:
        pattern = "|".join(re.escape(p) for p in REMAPPED_PREFIXES)
        return re.sub(rf"(?<![\w/.-])({pattern})", lambda m: str(self.path(m.group(1))) + "/", text)

    @property
    def nginx_conf(self) -> Path:
        return self.root / "etc/nginx/nginx.conf"

    @property
    def socket(self) -> Path:
        return self.path("/run/pyscale/gunicorn.sock")

    def info(self) -> dict:
        if not self.info_path.exists():
            raise NodeError(f"no local node for stack '{self.stack}' (no {self.info_path})")
        return json.loads(self.info_path.read_text())

    # -- up ----------------------------------------------------------------------------
    def up(self, stack_settings: Settings, *, services: bool = True) -> dict:
        """Bring the node up; on any failure stop what was started, then re-raise.

        `services=False` starts no PostgreSQL, PgBouncer or Redis: the rendered files are the
        same (the app's URLs still point at them), so /db and /cache answer 503 while /,
        /healthz and /io, which need neither, are served as usual. For the benchmark, which
        drives /io only, on a machine without the services' packages.
        """
        if self.info_path.exists() or netns.exists(self.ns_name):
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
            return self._up(stack_settings, sup, services)
        except BaseException:
            self._teardown(sup)
            raise

    def _up(self, stack_settings: Settings, sup: Supervisor, services: bool) -> dict:
        local = local_plan(stack_settings)
        plan, settings = local.plan, local.settings
        notes = list(local.notes)
        ns = Namespace.for_name(self.ns_name)
        netns.create(ns)
        # Pulled from the rendered sysctl file, not from the plan: the file is what a node gets.
        rendered = self._render(local)
        sysctls = dict(
            (k.strip(), v.strip())
            for k, _, v in (
                line.partition("=")
                for line in rendered["/etc/sysctl.d/60-pyscale.conf"].splitlines()
                if "=" in line and not line.lstrip().startswith("#")
            )
        )
        applied, host_wide = netns.apply_sysctls(ns, sysctls)

        if services:
            Services(sup, ns, self.state, plan.database, plan.cache).start()
        else:
            notes.append(
                "backing services: not started (no PostgreSQL, PgBouncer or Redis); /db and "
                "/cache answer 503, /, /healthz and /io need neither"
            )
        gunicorn_nofile = _unit_nofile(
            rendered["/etc/systemd/system/pyscale.service"], "pyscale.service"
        )
        nginx_nofile = _unit_nofile(
            rendered["/etc/systemd/system/nginx.service.d/pyscale.conf"], "nginx drop-in"
        )
        gunicorn = self._start_gunicorn(sup, ns, gunicorn_nofile)
        nginx = self._start_nginx(sup, ns, nginx_nofile)
        host = settings.domain or "localhost"
        url = f"http://{ns.node_ip}/"
        info = {
            "stack": self.stack,
            "namespace": dataclasses.asdict(ns),
            "host": host,
            "url": url,
            "url_in_namespace": "http://127.0.0.1/",
            "state_dir": str(self.state),
            "nginx_conf": str(self.nginx_conf),
            "gunicorn_pid": gunicorn.pid,
            "nginx_pid": nginx.pid,
            "plan": dataclasses.asdict(plan),
            "notes": notes,
            "services": services,
            "sysctls_applied": applied,
            "sysctls_host_wide_not_applied": host_wide,
            "remapped": {p: str(self.path(p)) for p in REMAPPED_PREFIXES},
            "db_budget": plan.database.pool_size,
        }
        self.info_path.write_text(json.dumps(info, indent=1, default=str))
        self._smoke(ns, host, services)
        return info

    def _render(self, local: LocalPlan) -> dict[str, str]:
        """Render the stack's node files with the local URLs; write them remapped."""
        secrets = render.NodeSecrets(
            database_url=ENDPOINTS.database_url,
            # One local replica serves every replica the plan counts.
            database_read_urls=(ENDPOINTS.read_url,) * local.plan.database.read_replicas,
            redis_url=ENDPOINTS.redis_url,
        )
        node = render.node(local.plan, local.settings, secrets)
        render.write_tree(node, self.state / "rendered")
        contents = {}
        for node_file in node.files:
            contents[node_file.path] = node_file.content
            if not node_file.path.startswith(("/etc/nginx/", "/etc/pyscale/")):
                continue
            # Always under the state directory: a local run never writes a host file.
            target = self.root / node_file.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self._remap(node_file.content))
            target.chmod(int(node_file.permissions, 8))
        for runtime in ("/run/pyscale/", "/var/log/nginx/", "/opt/pyscale/static/"):
            self.path(runtime).mkdir(parents=True, exist_ok=True)
        # RuntimeDirectoryMode=0750, group www-data (the unit's Group=): Nginx's workers
        # traverse it to the socket; nobody else can.
        run_dir = self.path("/run/pyscale/")
        shutil.chown(run_dir, group=GUNICORN_GROUP)
        run_dir.chmod(0o750)
        return contents

    def gunicorn_argv(self, ns: Namespace) -> list[str]:
        """The unit's ExecStart with local paths: the config file's numbers stand as rendered."""
        return ns.exec(
            str(VENV / "bin" / "gunicorn"),
            "--config", str(self.path("/etc/pyscale/gunicorn.conf.py")),
            "--group", GUNICORN_GROUP,
            "--pid", str(self.path("/run/pyscale/gunicorn.pid")),
        )  # fmt: skip

    def _start_gunicorn(self, sup: Supervisor, ns: Namespace, nofile: int) -> Proc:
        env_text = self.path("/etc/pyscale/env").read_text()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        env |= _env_file(env_text)
        proc = sup.start(
            "gunicorn",
            self.gunicorn_argv(ns),
            env=env,
            cwd=REPO / "app",  # the unit's WorkingDirectory (the demo app's directory)
            nofile=nofile,
        )
        wait_until(
            lambda: _unix_healthz(self.socket) or not alive(proc),
            "Gunicorn to answer /healthz on its socket",
            READY_TIMEOUT_S,
        )
        sup.check_running(proc)
        return proc

    def nginx_argv(self, ns: Namespace, *extra: str) -> list[str]:
        return ns.exec(
            "nginx", "-c", str(self.nginx_conf),
            "-e", str(self.path("/var/log/nginx/error.log")), *extra,
        )  # fmt: skip

    def _start_nginx(self, sup: Supervisor, ns: Namespace, nofile: int) -> Proc:
        sup.run(self.nginx_argv(ns, "-t", "-q"), "nginx -t on the rendered configuration")
        proc = sup.start(
            "nginx", self.nginx_argv(ns, "-g", "daemon off;"), stop_signal=signal.SIGQUIT,
            nofile=nofile,
        )  # fmt: skip
        wait_until(
            lambda: self.path("/run/nginx.pid").exists() or not alive(proc),
            "Nginx's pid file",
            READY_TIMEOUT_S,
        )
        sup.check_running(proc)
        return proc

    def _smoke(self, ns: Namespace, host: str, services: bool = True) -> None:
        """Every endpoint answers through Nginx before the node is called up (without the
        backing services: every endpoint that needs none)."""

        def ok(path: str, method: str = "GET") -> bool:
            request = urllib.request.Request(
                f"http://{ns.node_ip}{path}", method=method, headers={"Host": host}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return 200 <= response.status < 300
            except OSError:
                return False

        wait_until(lambda: ok("/healthz"), "GET /healthz through Nginx", READY_TIMEOUT_S, 0.2)
        checks = [("/", "GET"), ("/io?ms=0", "GET")]
        if services:
            checks += [("/db", "POST"), ("/db", "GET"), ("/cache", "GET")]
        for path, method in checks:
            if not ok(path, method):
                raise NodeError(f"{method} {path} did not answer 2xx; logs in {self.state / 'log'}")

    # -- down --------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop everything this node started and remove its namespace and state."""
        sup = Supervisor(self.state)
        stopped = self._teardown(sup)
        if self.state.exists():
            shutil.rmtree(self.state)
        return stopped

    def _teardown(self, sup: Supervisor) -> list[str]:
        stopped = sup.stop_all()
        # Anything left in the namespace was started by us (only the node runs there).
        for pid in netns.pids(self.ns_name):
            try:
                os.kill(pid, signal.SIGKILL)
                stopped.append(f"pid {pid} (left in namespace)")
            except ProcessLookupError:
                pass
        if netns.delete(self.ns_name):
            stopped.append(f"namespace {self.ns_name}")
        self.info_path.unlink(missing_ok=True)
        return stopped

    # -- status ------------------------------------------------------------------------
    def status(self) -> dict:
        info = self.info()
        procs = Supervisor(self.state).procs
        info["processes"] = {p.name: {"pid": p.pid, "running": alive(p)} for p in procs}
        info["namespace_exists"] = netns.exists(self.ns_name)
        return info


def nginx_reload(node: LocalNode) -> None:
    """`nginx -s reload` against the running node's configuration."""
    ns = Namespace(**node.info()["namespace"])
    subprocess.run(node.nginx_argv(ns, "-s", "reload"), check=True, capture_output=True)
