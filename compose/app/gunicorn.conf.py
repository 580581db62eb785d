# ----------------------------------------------------------------------
# | Gunicorn configuration (pyscale)                                   |
# ----------------------------------------------------------------------
#
# Rendered from the capacity plan (pyscale/capacity, GunicornPlan).
# Settings reference: https://docs.gunicorn.org/en/stable/settings.html
#
# This one runs in a container (Dockerfile, docker-compose.yml, Kubernetes): Gunicorn is
# PID 1, the container runtime stands in for systemd (signals, descriptor limit, logs).
# Checked in as rendered (compose/): formatters leave its layout, the template's, alone.
# fmt: off

import os
import resource

# (1) The WSGI app (app.interface), so the image's command line names no app.
wsgi_app = "pyscale_demo.wsgi:application"

# (2) Nginx (or the ingress) reaches Gunicorn over TCP on the container's network: a unix
#     socket cannot cross containers. Only the network the proxy lives on may reach this
#     port (the compose file publishes Nginx's port, never this one).
bind = "0.0.0.0:8000"

# (3) No control socket (gunicornc): the container runtime drives Gunicorn with signals
#     (TERM: graceful stop, HUP: reload), and its default path, $HOME/.gunicorn, is not
#     writable by the image's user.
control_socket_disable = True

# (4) Accept queue for bursts; the kernel truncates it to net.core.somaxconn, which the
#     plan sets at least as high (a container has its own: the compose file sets it, per
#     network namespace; the kernel's default is 4096).
backlog = 4000

# (5) gevent workers: each process serves worker_connections concurrent requests as
#     greenlets; workers x worker_connections is the node's concurrency in the plan.
#     The class is pyscale's own (/opt/pyscale/lib/pyscale_worker.py): gevent's HTTP server,
#     about a third cheaper per request than Gunicorn's `gevent` worker, with Gunicorn's
#     max_requests, scheme headers, keepalive and request limits kept (bench/RESULTS.md).
pythonpath = "/opt/pyscale/lib/"
workers = 2
worker_class = "pyscale_worker.Worker"
worker_connections = 2000

# (6) Recycle workers to contain slow memory growth, about once per half hour each at the
#     node's CPU ceiling, and never together: each first-generation worker waits its own
#     multiple of max_requests_stagger requests more (post_fork), so restarts come
#     900.0 s apart at that rate. Random jitter instead
#     clusters them (bench/RESULTS.md). Replacements keep their predecessor's place.
max_requests = 1260000
max_requests_stagger = 630000


def post_fork(server, worker):
    if worker.age <= workers:
        worker.max_requests = max_requests + (worker.age % workers) * max_requests_stagger

# (7) A worker silent for `timeout` seconds is killed; on stop or reload, workers get
#     graceful_timeout to finish in-flight requests (the runtime must wait longer before
#     its SIGKILL: compose's stop_grace_period, Kubernetes' terminationGracePeriodSeconds).
timeout = 120
graceful_timeout = 120

# (8) Idle keep-alive from Nginx's upstream pool: longer than Nginx's upstream
#     keepalive_timeout, so Gunicorn never closes a connection Nginx is about to reuse.
keepalive = 75

# (9) The heartbeat file on tmpfs: on a disk-backed /tmp a slow fsync can stall workers
#     into timeouts (https://docs.gunicorn.org/en/stable/faq.html#blocking-os-fchmod).
worker_tmp_dir = "/dev/shm"

# (12) App metrics (/opt/pyscale/lib/pyscale_metrics.py): workers count into files in
#     metrics_dir (emptied at start, a gone worker's gauge dropped), which must be
#     memory-backed: a tmpfs in the compose file, an emptyDir with medium Memory on
#     Kubernetes. The arbiter serves their sum on every address of the container (or
#     PYSCALE_METRICS_ADDRESS), at a port the proxy never forwards, for Prometheus to scrape
#     on the container's network. Every app, the stack's own too, is counted as loaded.
metrics_dir = "/tmp/pyscale-metrics"
metrics_port = 9464
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

# (13) Descriptors as the container runtime gives them: no systemd LimitNOFILE here, so
#     the arbiter raises its soft limit to the hard one the runtime set (docker run
#     --ulimit, compose `ulimits`, the node's containerd on Kubernetes), which the workers
#     inherit, and refuses to start when even the hard limit is below the plan's
#     (GunicornPlan.limit_nofile): workers x worker_connections would fail with EMFILE
#     under load instead of at start.
limit_nofile = 65536


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < limit_nofile:
        raise RuntimeError(
            f"the container's hard descriptor limit (RLIMIT_NOFILE) is {hard}; this plan needs "
            f"{limit_nofile} per Gunicorn process ({workers} workers x {worker_connections} "
            f"connections). Raise it: `docker run --ulimit nofile={limit_nofile}:{limit_nofile}`"
            ", `ulimits: nofile` in docker-compose.yml, or the container runtime's default"
        )
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def on_starting(server):
    import pyscale_metrics

    server.log.info("descriptor limit: %s (the plan needs %s)", raise_nofile(), limit_nofile)
    pyscale_metrics.reset(metrics_dir)


def when_ready(server):
    import pyscale_metrics

    address = os.environ.get("PYSCALE_METRICS_ADDRESS", "0.0.0.0")
    pyscale_metrics.serve(address, metrics_port)


def post_worker_init(worker):
    import importlib

    import pyscale_metrics

    module_name, _, _ = worker.app.app_uri.partition(":")
    module = importlib.import_module(module_name)
    routes = getattr(module, "METRICS_ROUTES", ())
    worker.wsgi = pyscale_metrics.instrument(worker.wsgi, routes)


def child_exit(server, worker):
    import pyscale_metrics

    pyscale_metrics.worker_exited(worker.pid)

# (10) Only the proxy's network is trusted for forwarding headers: Nginx reaches Gunicorn
#     from there. Only X-Forwarded-Proto (set by Nginx on every request) decides https:
#     the other scheme headers would pass through from clients.
forwarded_allow_ips = "10.112.0.0/20"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# (11) Logs to stdout/stderr, collected by the container runtime. Each request is logged
#     once, by Nginx (buffered, with status and upstream time); a Gunicorn access line too
#     costs every worker a synchronous write per request (pyscale:app.accessLog;
#     bench/RESULTS.md).
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "pyscale"
