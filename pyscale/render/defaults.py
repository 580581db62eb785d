"""Fixed node values the capacity model does not derive (none grows with the target), each
with its source, and the ports Nginx serves."""

from __future__ import annotations

from dataclasses import dataclass

from pyscale.settings import Settings, addresses


@dataclass(frozen=True)
class NodeDefaults:
    """Fixed node values the capacity model does not derive (none grows with the target)."""

    http_port: int = 80
    https_port: int = 443
    # Loopback-only port for Nginx's stub_status, read by the nginx exporter.
    stub_status_port: int = 8080
    # The Prometheus exporters' registered default ports
    # (https://github.com/prometheus/prometheus/wiki/Default-port-allocations).
    node_exporter_port: int = 9100
    nginx_exporter_port: int = 9113
    # The app's own metrics (Gunicorn's arbiter, pyscale_metrics.py): no registered exporter
    # port fits an app, and 9464 is the one OpenTelemetry's Prometheus exporter uses.
    app_metrics_port: int = 9464
    # Client keep-alive must outlive the load balancer's idle timeout (DigitalOcean's
    # http_idle_timeout_seconds defaults to 60) so that the balancer, not Nginx, closes an
    # idle connection and never sends a request onto a socket Nginx is closing.
    client_keepalive_timeout_s: int = 75
    # Nginx's default (1000 since 1.19.10); the upstream pool uses the same.
    keepalive_requests: int = 1000
    # Connecting to a local unix socket either works at once or the app is down.
    proxy_connect_timeout_s: int = 5
    client_max_body_size: str = "10m"
    # Slow-header and slow-body clients (slowloris) hold a connection and a descriptor each;
    # Nginx's 60 s default lets a few thousand of them crowd out real clients.
    client_header_timeout_s: int = 10
    client_body_timeout_s: int = 10
    # h5bp web_performance/compression.conf: level 5 is the size/CPU sweet spot,
    # and bodies under 256 bytes grow when compressed (Brotli's too).
    gzip_comp_level: int = 5
    gzip_min_length: int = 256
    # ngx_brotli's own default level (github.com/google/ngx_brotli, brotli_comp_level), the
    # one the source article uses; edge.brotli turns Brotli on.
    brotli_comp_level: int = 6
    # What gzip and Brotli compress besides text/html (always compressed): text formats
    # from h5bp web_performance/compression.conf that an app or /static/ serves.
    compressed_types: tuple[str, ...] = (
        "application/javascript",
        "application/json",
        "application/xml",
        "image/svg+xml",
        "text/css",
        "text/javascript",
        "text/plain",
        "text/xml",
    )
    static_expires: str = "7d"
    # Buffer access-log writes: at 10,000+ requests/s one write per request costs a syscall.
    access_log_buffer: str = "64k"
    access_log_flush: str = "5s"
    # app.accessLog sampled: the share of successful requests logged (every failure is).
    access_log_sample_percent: int = 2
    # Mozilla SSL configuration generator, "intermediate" profile (nginx, 2024).
    tls_session_cache: str = "shared:pyscale_tls:10m"
    tls_session_timeout: str = "1d"
    # Two years: Mozilla's SSL configuration generator (intermediate profile) and the HSTS
    # preload list's minimum of one year (https://hstspreload.org).
    hsts_max_age_s: int = 63_072_000
    # The cloud's metadata service (DigitalOcean and OpenStack alike): it serves the
    # user-data, credentials included, so the node's services are denied it.
    metadata_address: str = "169.254.169.254"
    # Networks on the node itself, private like the VPC (conf.d/pyscale.conf's geo).
    loopback_networks: tuple[str, ...] = tuple(map(str, addresses.LOOPBACK))
    # What a client over a per-client limit gets: Too Many Requests (RFC 6585), not
    # Nginx's default 503, which says the node is unwell and a load balancer may act on.
    limit_status: int = 429
    # The demo app's routes that reach the data stores or hold a request open for up to a
    # minute: in prod only the VPC and loopback reach them (capacity EdgePlan).
    demo_private_routes: tuple[str, ...] = ("/db", "/cache", "/io")
    # systemd waits this long between restarts so a crash loop does not spin the CPU.
    restart_sec_s: int = 2
    # After the drain's QUIT window, Nginx gets this long on TERM before systemd's KILL
    # (Debian's own unit waits 5 s after QUIT).
    nginx_term_wait_s: int = 5
    # Beyond graceful_timeout: systemd's SIGKILL must come after Gunicorn's own deadline.
    stop_margin_s: int = 10
    # Let's Encrypt issuance can fail while DNS propagates: retry with a growing pause.
    certbot_attempts: int = 5
    certbot_backoff_s: int = 30
    # The VPC address can appear a little after cloud-init's final stage starts.
    address_wait_attempts: int = 30
    # The data stores' CA certificates (PEM), which the app verifies the servers against.
    provider_ca: str = "/etc/pyscale/provider-ca.pem"
    # The bootstrap's outcome, kept across reboots (runcmd runs once per instance): the last
    # step creates `bootstrap_done`, which /healthz waits for; a failing step leaves its
    # name and exit status in `bootstrap_failed`.
    bootstrap_done: str = "/var/lib/pyscale/bootstrap-done"
    bootstrap_failed: str = "/var/lib/pyscale/bootstrap-failed"
    # While it exists /healthz answers 503: the node is leaving (pyscale-drain.service
    # creates it on stop). In /run, so a reboot clears it; outside pyscale.service's own
    # RuntimeDirectory, which goes when Gunicorn stops.
    draining_flag: str = "/run/pyscale-draining"


NODE = NodeDefaults()
# What the monitoring node scrapes on every node, by job: the private network's ports only.
METRICS_PORTS = {
    "node": NODE.node_exporter_port,
    "nginx": NODE.nginx_exporter_port,
    "app": NODE.app_metrics_port,
}


def web_ports(settings: Settings) -> tuple[int, ...]:
    """The ports Nginx serves: behind a load balancer, which terminates TLS, plain HTTP
    only; 443 too when the node terminates TLS itself (tls: node)."""
    return (NODE.http_port, NODE.https_port) if settings.tls == "node" else (NODE.http_port,)
