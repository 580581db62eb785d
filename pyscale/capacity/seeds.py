"""The numbers the capacity model starts from and the margins it keeps, each with its reason.

Seed numbers come from the source articles and the tools' own defaults (DESIGN.md); the plan
raises one only when the target needs more.
"""

# One gevent worker per core, not the articles' 2 x cores + 1 (Gunicorn's rule for sync
# workers): a gevent process already keeps its core busy, and extra processes only take turns
# on it, each holding every request it has in flight while it waits for the CPU. Measured
# on 2 cores at 10 ms I/O, 2,000 connections (bench/RESULTS.md): Nginx-logged p99 0.29 s with
# 2 workers, 0.60 s with 3, 1.7-2.0 s with 5, and no less throughput.
GEVENT_WORKERS_PER_CORE = 1
# pyscale's worker classes by app.interface, found through the config's pythonpath:
# wsgi: gevent's own HTTP server with Gunicorn's request handling kept, about a third less
# CPU per request than Gunicorn's `gevent` worker (cloud-init/files/etc/pyscale/
# pyscale_worker.py, bench/RESULTS.md); asgi: uvicorn (httptools, uvloop) with the plan's
# concurrency limit enforced, which Gunicorn's native `asgi` worker does not do
# (pyscale_asgi_worker.py). One process per core on either: an event loop keeps its core
# busy as a gevent hub does.
WORKER_CLASSES = {"wsgi": "pyscale_worker.Worker", "asgi": "pyscale_asgi_worker.Worker"}
# Concurrent requests per worker (greenlets, or asyncio tasks under uvicorn's limit): twice
# Gunicorn's default of 1,000, so a core holds the connections the articles' 2 x cores + 1
# workers of 1,000 held (c-16: 32,000 against 33,000).
WORKER_CONNECTIONS = 2000
# Past this one gevent process spends its time scheduling greenlets and its accept loop
# falls behind: a fixed node count that needs more gets bigger nodes or more nodes instead.
MAX_WORKER_CONNECTIONS = 10_000
SEED_NOFILE = 65_536  # limits.conf and LimitNOFILE in the source articles
SEED_SOMAXCONN = 4096
SEED_SYN_BACKLOG = 2048
SEED_GUNICORN_BACKLOG = 2048  # gunicorn's default `backlog`
SEED_NGINX_WORKER_CONNECTIONS = 1024
# The articles' worker recycling (max_requests 10,000, jitter 1,000) restarts every worker of
# a busy node within seconds of the others: at 1,000 req/s each, 10,000 +- 1,000 requests is
# 10-11 s for all of them (issue 23: all five restarted together ~10 s into a run). pyscale
# keeps 10,000 as a floor, recycles each worker about once per RECYCLE_S at the node's CPU
# ceiling, and staggers the first generation so that restarts come RECYCLE_S / workers apart.
MAX_REQUESTS = 10_000
RECYCLE_S = 1800
WORKER_TIMEOUT_S = 120
GRACEFUL_TIMEOUT_S = 120
# Gunicorn must keep an idle upstream connection open longer than Nginx's upstream
# keepalive_timeout, or Nginx reuses a socket Gunicorn is closing and the request fails.
NGINX_UPSTREAM_KEEPALIVE_TIMEOUT_S = 60
GUNICORN_KEEPALIVE_S = 75
# Linux: listen() backlogs are truncated to somaxconn, and kernels before 5.4 keep it in 16
# bits; staying at or under 65535 behaves the same everywhere.
MAX_BACKLOG = 65_535
# Linux default fs.nr_open: the most a process may raise RLIMIT_NOFILE to.
LINUX_NR_OPEN = 1_048_576
# Descriptors a Gunicorn worker holds besides client sockets: listeners, logs, pipes,
# database and cache pools, imported modules' files.
GUNICORN_FD_MARGIN = 1024
# Nginx's kernel balancing of accepts across workers is uneven under bursts; leave room.
NGINX_IMBALANCE = 1.25
# The share of Gunicorn's slots Nginx may hold as idle upstream keep-alive connections (its
# `keepalive` cache, all Nginx workers together). Each idle one holds a gevent worker's slot,
# and a full gevent worker stops accepting: with the cache as large as the slots, idle
# connections of one Nginx worker held every slot while another's requests waited in
# Gunicorn's accept queue until the 60 s upstream keepalive_timeout (tests/node/test_node.py,
# 300 requests past the slots: 224 of them timed out at 30 s). Half leaves the other half to
# requests; reuse stays high (a pool of 64 per worker cost no more CPU, bench/RESULTS.md).
UPSTREAM_IDLE_SHARE = 0.5
# Load balancers are sized above the target: idle keep-alive client connections count too.
LB_HEADROOM = 1.2
# PostgreSQL connections kept out of the pool for migrations, monitoring and operators.
DB_RESERVED_FRACTION = 0.1
DB_MIN_RESERVED = 2
# PgBouncer client connections a managed pool accepts: OVHcloud documents 5,000 per pool
# (ovh/public-cloud-roadmap#146). DigitalOcean publishes no figure; we budget the same.
PGBOUNCER_MAX_CLIENT_CONN = 5_000
DB_POOL_PER_PROCESS_MAX = 10
CACHE_POOL_PER_PROCESS_MAX = 20
CACHE_CLIENT_FRACTION = 0.8  # of maxclients; the rest for operators and replication
# Memory per node (estimates from the local node benchmark, bench/): a gevent Gunicorn
# worker with the app loaded, and one in-flight request across Nginx, greenlet and buffers.
GUNICORN_WORKER_MIB = 60
PER_CONNECTION_KIB = 48
MEMORY_USABLE_FRACTION = 0.8

# Throughput (pyscale/capacity/throughput.py). A node is planned to run its CPUs at most this
# busy at the target: above it, queueing for CPU grows faster than load (at 70% an M/M/c
# queue on 2+ cores still waits less than the service time), and it leaves room for bursts,
# garbage collection and worker restarts.
CPU_UTILISATION_CEILING = 0.7
# Queries/s one managed PostgreSQL vCPU serves at a sustainable load: a quarter of what
# `pgbench -S` (one indexed point select per transaction) reached per core on the 2-core
# development VM with its client on the same cores (35,800 tps, PostgreSQL 15, Unix socket),
# for TLS, PgBouncer, the network hop, shared vCPUs and queries heavier than a point select.
# An assumption, not a provider figure: neither cloud publishes one.
DB_QUERIES_PER_VCPU = 5_000
# Commands/s one managed Valkey primary serves: its command loop is single-threaded, so this
# does not grow with the size. `redis-benchmark` GET/SET reached 62,000/s on the development
# VM (no pipelining, no TLS, client on the same 2 cores); TLS and the network hop cost the
# rest of the margin. An assumption, not a provider figure.
CACHE_OPS_PER_SECOND = 60_000

# Per-client limits at the edge (edge.*): by default one client address may take a tenth of
# a node's slots and CPU, so no single address can starve the others. Nginx keeps a state
# per client address in a shared zone: 128 bytes on 64-bit platforms for limit_req, 64 for
# limit_conn (https://nginx.org/r/limit_req_zone, https://nginx.org/r/limit_conn_zone).
CLIENT_SHARE = 10
CLIENT_STATE_BYTES = 128

# Kubernetes (platform: kubernetes, pyscale/capacity/pods.py): a node's vCPUs the app pods do
# not get: the kubelet and container runtime (both clouds reserve CPU for them out of the
# node's allocatable), the CNI, kube-proxy and CSI daemons, and the gateway's Nginx pods,
# which the pool's nodes run too.
KUBE_RESERVED_VCPUS = 1
