# ----------------------------------------------------------------------
# | pyscale demo app: Gunicorn + gevent, as a pyscale node runs it     |
# ----------------------------------------------------------------------
#
# The node's Python stack (deps/node.lock, every wheel pinned by hash), pyscale's Gunicorn
# worker and metrics modules, the demo app, and Gunicorn's container configuration
# rendered from the dev stack's plan (compose/app/gunicorn.conf.py, `pyscale compose`;
# compose and Kubernetes mount their own over it at /etc/pyscale/gunicorn.conf.py).
#
#   docker build -t pyscale-demo .
#   docker run --rm -p 8000:8000 --ulimit nofile=65536:65536 pyscale-demo
#
# Built and run by tests/container (podman, from a Debian base made here: no registry is
# reachable there): `--build-arg BASE=<local image>` replaces the base, nothing else.

# (1) Any Debian-based Python 3 image with the venv module (the official slim images are).
ARG BASE=python:3.13-slim
FROM ${BASE}

# (2) psycopg is pure Python and loads the system libpq (as on a node: Debian's libpq5).
#     Not pinned: the base decides the Debian release, and its libpq5 takes security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

# (3) An unprivileged user, numeric so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 pyscale \
    && useradd --system --uid 10001 --gid pyscale --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin pyscale

# (4) The node's locked environment: hashes required, wheels only (no build runs here).
#     A CA bundle, when given as the secret `ca` (`--secret id=ca,src=...`), is pip's: a
#     build behind a TLS-inspecting proxy needs it; any other build runs without it.
ENV PATH=/opt/pyscale/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY deps/node.lock /opt/pyscale/requirements.txt
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/pyscale/venv \
    && pip install --no-cache-dir --disable-pip-version-check --require-hashes \
        --only-binary :all: -r /opt/pyscale/requirements.txt

# (5) pyscale's worker classes (gevent for app.interface wsgi, uvicorn for asgi) and app
#     metrics, on Gunicorn's pythonpath; the demo app in its working directory, which
#     Gunicorn puts on sys.path (as on a node: it needs no install, its dependencies are
#     the lock's). Compiled now: the image is read-only at run time.
COPY cloud-init/files/etc/pyscale/pyscale_worker.py \
     cloud-init/files/etc/pyscale/pyscale_asgi_worker.py \
     cloud-init/files/etc/pyscale/pyscale_metrics.py /opt/pyscale/lib/
COPY app/pyscale_demo /opt/pyscale/demo/pyscale_demo
COPY compose/app/gunicorn.conf.py /etc/pyscale/gunicorn.conf.py
RUN python3 -m compileall -q /opt/pyscale/lib /opt/pyscale/demo

USER 10001:10001
WORKDIR /opt/pyscale/demo
EXPOSE 8000

# (6) Gunicorn is PID 1 (exec form, no shell between): SIGTERM is its graceful stop, the
#     workers finish in-flight requests within graceful_timeout, and it reaps them itself.
STOPSIGNAL SIGTERM

# (7) The load balancer's health path, answered by the app; urllib because slim images
#     have no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "--config", "/etc/pyscale/gunicorn.conf.py"]
