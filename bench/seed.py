"""The seed variant: the configuration the source articles give, as they give it, driven
with the tuned node's load.

Gunicorn: their `gunicorn_config.py` (4 gevent workers x 1000 worker_connections, bound to
port 8000, `loglevel info`, access log to stdout). Nginx: Debian's nginx.conf with their one
change (`worker_rlimit_nofile 65536`, clamped to this machine's hard limit) and their proxy
site (HTTP/1.1 with `Connection ""` but no upstream keepalive pool, 60 s timeouts, gzip level
6); TLS is left out here as for every variant. Sysctls: their /etc/sysctl.conf lines, set
in the variant's namespace. Only the paths are moved into the run's state directory.

The simple variant (`run_seed(..., simple=True)`) is the same configuration as an
experienced engineer fixes it in ten minutes: worker_connections raised to hold the load,
an upstream keep-alive pool, no access logs. It is the baseline the tuned node must beat.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

from bench.load import STUB_PORT, Load, Variant, drive
from bench.stock import fresh_root, nginx_conf, timing_log
from pyscale import render
from pyscale.localnode import GUNICORN, Namespace, Supervisor, delete_namespace

NAMESPACE = "pyscale-bench-seed"
PORT = 8000
ARTICLE_NOFILE = 65_536
# The articles' /etc/sysctl.conf.
SYSCTLS = {
    "net.core.somaxconn": "4096",
    "net.ipv4.tcp_max_syn_backlog": "2048",
    "net.ipv4.tcp_tw_reuse": "1",
    "net.ipv4.tcp_fin_timeout": "30",
    "net.ipv4.ip_local_port_range": "1024 65535",
    "net.ipv4.tcp_keepalive_time": "600",
    "net.ipv4.tcp_keepalive_probes": "5",
    "net.ipv4.tcp_keepalive_intvl": "15",
}
GUNICORN_CONFIG = f"""\
# The articles' gunicorn_config.py.
workers = 4
worker_class = "gevent"
worker_connections = 1000
bind = "127.0.0.1:{PORT}"
loglevel = "info"
accesslog = "-"
errorlog = "-"
"""
SEED_SITE = """\
# The articles' site, without TLS: proxy straight to Gunicorn, HTTP/1.1 but no upstream pool.
server {{
    listen 80 default_server;
    client_body_buffer_size 10M;
    location / {{
        proxy_pass http://127.0.0.1:{port};
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_connect_timeout 60s;
        proxy_send_timeout 60s;
        proxy_read_timeout 60s;
    }}
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 6;
    gzip_types text/plain text/css application/json application/javascript text/xml
               application/xml application/xml+rss text/javascript image/svg+xml;
}}
server {{
    listen 127.0.0.1:{stub};
    location = /stub_status {{ stub_status; }}
}}
"""


# `simple`: the DigitalOcean article's configuration as an experienced engineer tweaks it in
# ten minutes (issue 23): Nginx's worker_connections raised to hold the load (client and
# upstream connections), a keep-alive pool to Gunicorn, and both access logs off.
SIMPLE_EVENTS = "worker_connections 4096;"
SEED_NOTE = (
    "the articles' configuration: worker_connections 768 (Debian's), proxy without "
    "upstream keep-alive, Gunicorn's access log to stdout"
)
SIMPLE_NOTE = (
    "simple: the articles' configuration with worker_connections 4096, an upstream "
    "keep-alive pool (64) and no access log in Nginx or Gunicorn"
)
# The seed's site, proxying to an upstream pool instead of straight to the address.
SIMPLE_SITE = (
    "upstream app {{\n    server 127.0.0.1:{port};\n    keepalive 64;\n}}\n"
    + SEED_SITE.replace("proxy_pass http://127.0.0.1:{port};", "proxy_pass http://app;")
)


def _listening(ns: Namespace) -> bool:
    out = subprocess.run(ns.exec("ss", "-Htln", f"sport = :{PORT}"), capture_output=True,
                         text=True, check=False).stdout  # fmt: skip
    return bool(out.strip())


def run_seed(state: Path, host: str, load: Load, simple: bool = False) -> Variant:
    """Start the articles' Nginx and Gunicorn in a fresh namespace, drive them, stop them;
    with `simple`, the ten-minute tweak of them (SIMPLE_*)."""
    name = "simple" if simple else "seed"
    root = fresh_root(state, name)
    nofile = min(ARTICLE_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    conf = nginx_conf(root, extra=f"worker_rlimit_nofile {nofile};\n")
    if simple:
        text = conf.read_text().replace("worker_connections 768;", SIMPLE_EVENTS)
        # Debian's access log off; the sampled timing log (conf.d) stays.
        conf.write_text(text.replace(f"access_log {root}/log/access.log;", ""))
    site = SIMPLE_SITE if simple else SEED_SITE
    (root / "sites" / name).write_text(site.format(port=PORT, stub=STUB_PORT))
    (root / "gunicorn_config.py").write_text(
        GUNICORN_CONFIG.replace('accesslog = "-"\n', "") if simple else GUNICORN_CONFIG
    )
    timing = timing_log(root)
    delete_namespace(NAMESPACE)
    ns = Namespace.for_name(NAMESPACE)
    sup = Supervisor(root)
    try:
        ns.create()
        ns.apply_sysctls(SYSCTLS)
        gunicorn = sup.start_ready(
            "gunicorn",
            ns.exec(str(GUNICORN), "-c", str(root / "gunicorn_config.py"),
                    "pyscale_demo.wsgi:application"),
            ready=lambda: _listening(ns),
            what=f"{name} Gunicorn on port 8000",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            cwd=render.APP_DIR,
            nofile=nofile,
        )  # fmt: skip
        nginx = sup.start_ready(
            "nginx",
            ns.exec("nginx", "-c", str(conf), "-e", str(root / "log/error.log"),
                    "-g", "daemon off;"),
            ready=(root / "nginx.pid").exists,
            what=f"{name} Nginx",
            nofile=nofile,
        )  # fmt: skip
        what = SIMPLE_NOTE if simple else SEED_NOTE
        note = (
            f"{what}: Debian nginx.conf "
            f"with worker_rlimit_nofile {nofile}, gunicorn 4 gevent workers x 1000, the "
            f"articles' sysctls (somaxconn {ns.read_sysctl('net.core.somaxconn')})"
        )
        return drive(name, ns, host, [nginx.pid, gunicorn.pid], load, (note,), timing)
    finally:
        sup.stop_all()
        delete_namespace(NAMESPACE)
