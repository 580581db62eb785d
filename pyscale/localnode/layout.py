"""Where a local node's files live: the rendered node files, remapped into its state directory.

A local run has no /etc/nginx or /run of its own to overwrite, so rendered absolute paths
under a few prefixes land in the node's state directory instead, and every mention of
them in the files is rewritten to match. Numbers are never touched: the processes read
exactly what `render.node` wrote, bar the paths.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pyscale import render

# Rendered absolute paths that land in the state directory instead. /etc/nginx/mime.types
# stays: it is the package's own file and the rendered config only reads it.
REMAPPED_PREFIXES = ("/etc/nginx/conf.d/", "/etc/nginx/pyscale/", "/etc/pyscale/", "/run/",
                     "/var/log/nginx/", "/opt/pyscale/", "/var/lib/pyscale/")  # fmt: skip
# The rendered files a local run writes: Nginx's and the app's. The rest (units, sysctl and
# limits files) are read by systemd and the kernel, which the local run stands in for.
WRITTEN_PREFIXES = ("/etc/nginx/", "/etc/pyscale/")
# Directories the services expect to exist before they start (systemd's RuntimeDirectory,
# the nginx package's log directory, the static root).
RUNTIME_DIRS = ("/run/pyscale/", "/var/log/nginx/", "/opt/pyscale/static/", "/var/lib/pyscale/")
# The unit's Group=: with Gunicorn's umask the socket is group www-data, so Nginx's workers
# reach it. The unit's User= (a system user the node creates) is not mirrored: a local run
# adds no user to this machine, and this venv's interpreter may live where only root reads.
GUNICORN_GROUP = "www-data"


def _parse_env_file(text: str) -> dict[str, str]:
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


@dataclass(frozen=True)
class Layout:
    """One node's state directory: rendered files under root/, logs, pids, node.json."""

    state: Path

    @property
    def root(self) -> Path:
        """The rendered files, remapped, as the node has them."""
        return self.state / "root"

    @property
    def info(self) -> Path:
        return self.state / "node.json"

    def path(self, node_path: str) -> Path:
        """Where a node path lives in the local run (remapped or not)."""
        if node_path.startswith(REMAPPED_PREFIXES):
            return self.root / node_path.lstrip("/")
        return Path(node_path)

    @property
    def nginx_conf(self) -> Path:
        return self.root / "etc/nginx/nginx.conf"

    @property
    def socket(self) -> Path:
        return self.path("/run/pyscale/gunicorn.sock")

    def remap(self, text: str) -> str:
        """`text` with every remapped node path replaced by its local one."""
        pattern = "|".join(re.escape(p) for p in REMAPPED_PREFIXES)
        return re.sub(rf"(?<![\w/.-])({pattern})", lambda m: str(self.path(m.group(1))) + "/", text)

    def write(self, node: render.RenderedNode) -> None:
        """Write Nginx's and the app's files remapped, and the runtime directories."""
        for node_file in node.files:
            if not node_file.path.startswith(WRITTEN_PREFIXES):
                continue
            # Always under the state directory: a local run never writes a host file.
            target = self.root / node_file.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.remap(node_file.content))
            target.chmod(int(node_file.permissions, 8))
        for runtime in RUNTIME_DIRS:
            self.path(runtime).mkdir(parents=True, exist_ok=True)
        # RuntimeDirectoryMode=0750, group www-data (the unit's Group=): Nginx's workers
        # traverse it to the socket; nobody else can.
        run_dir = self.path("/run/pyscale/")
        shutil.chown(run_dir, group=GUNICORN_GROUP)
        run_dir.chmod(0o750)

    def app_env(self) -> dict[str, str]:
        """The app's environment as systemd gives it: the rendered EnvironmentFile."""
        return _parse_env_file(self.path("/etc/pyscale/env").read_text())
