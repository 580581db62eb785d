"""The stock variant: what an untuned install does, driven with the tuned node's load.

Debian's /etc/nginx/nginx.conf with a minimal proxy site, `gunicorn
pyscale_demo.wsgi:application` (one sync worker, every default), a fresh namespace's
default sysctls. Only the paths are moved into the run's state directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench.latency import SAMPLE_PERCENT, TIMING_CONF
from bench.load import STUB_PORT, Load, Variant, drive
from pyscale import render
from pyscale.localnode import GUNICORN, Namespace, Supervisor, delete_namespace

DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")
NAMESPACE = "pyscale-bench-stock"
STOCK_SITE = """\
# The stock variant's site: the minimal proxy an untuned install writes (no upstream block,
# no keepalive, no listen backlog), plus stub_status for the benchmark's sampler.
server {{
    listen 80 default_server;
    location / {{
        proxy_pass http://unix:{socket};
        proxy_set_header Host $host;
    }}
}}
server {{
    listen 127.0.0.1:{stub};
    location = /stub_status {{ stub_status; }}
}}
"""


def nginx_conf(root: Path, extra: str = "") -> Path:
    """Debian's nginx.conf with its includes, pid and logs moved under `root`, and `extra`
    main-context directives before it."""
    conf = extra + DEBIAN_NGINX_CONF.read_text()
    for old, new in (
        ("/etc/nginx/sites-enabled/*", f"{root}/sites/*"),
        ("/etc/nginx/conf.d/*.conf", f"{root}/conf.d/*.conf"),
        ("/run/nginx.pid", f"{root}/nginx.pid"),
        ("/var/log/nginx/", f"{root}/log/"),
    ):
        conf = conf.replace(old, new)
    path = root / "nginx.conf"
    path.write_text(conf)
    return path


def timing_log(root: Path) -> tuple[Path, float]:
    """A sampled timing log in the variant's http context (bench/latency.py)."""
    log = root / "log" / "timing.log"
    (root / "conf.d" / "timing.conf").write_text(TIMING_CONF.format(log=log))
    return log, SAMPLE_PERCENT


def fresh_root(state: Path, variant: str) -> Path:
    """An empty directory for one variant's files and logs, readable by Nginx's workers."""
    root = state / variant
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("sites", "log", "conf.d"):
        (root / sub).mkdir(parents=True)
    root.chmod(0o755)
    return root


def run_stock(state: Path, host: str, load: Load) -> Variant:
    """Start the stock Nginx and Gunicorn in a fresh namespace, drive them, stop them."""
    root = fresh_root(state, "stock")
    socket = root / "gunicorn.sock"
    conf = nginx_conf(root)
    timing = timing_log(root)
    (root / "sites" / "stock").write_text(STOCK_SITE.format(socket=socket, stub=STUB_PORT))
    delete_namespace(NAMESPACE)
    ns = Namespace.for_name(NAMESPACE)
    sup = Supervisor(root)
    try:
        ns.create()
        gunicorn = sup.start_ready(
            "gunicorn",
            ns.exec(str(GUNICORN), "--bind", f"unix:{socket}", "pyscale_demo.wsgi:application"),
            ready=socket.exists,
            what="stock Gunicorn's socket",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd=render.APP_DIR,
        )
        socket.chmod(0o777)  # stock Gunicorn runs as root; Debian's Nginx workers as www-data
        nginx = sup.start_ready(
            "nginx",
            ns.exec("nginx", "-c", str(conf), "-e", str(root / "log/error.log"),
                    "-g", "daemon off;"),
            ready=(root / "nginx.pid").exists,
            what="stock Nginx",
        )  # fmt: skip
        note = (
            "Debian nginx.conf (worker_connections 768), gunicorn defaults (1 sync worker, "
            "backlog 2048), default namespace sysctls (somaxconn "
            f"{ns.read_sysctl('net.core.somaxconn')})"
        )
        return drive("stock", ns, host, [nginx.pid, gunicorn.pid], load, (note,), timing)
    finally:
        sup.stop_all()
        delete_namespace(NAMESPACE)
