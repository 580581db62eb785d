"""The node's connection strings verify the data stores, checked with real PostgreSQL and
real Redis over TLS on loopback (issue 16, family 5).

A node given its cloud's CA certificate writes it to /etc/pyscale/provider-ca.pem and its
env file asks libpq for sslmode=verify-full against it, and redis-py to trust it. Here a
"provider" CA signs the servers' certificates; the rendered env file and CA file are used as
the app uses them. The same URLs refuse a server whose certificate another CA signed, and a
server whose certificate names another host; sslmode=require alone would accept both.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from pyscale import capacity, render, settings, urls
from pyscale.localnode.commands import wait_until
from pyscale.localnode.services import SERVICE_USER, as_service_user, pg_bin
from pyscale.rehearsal import tls
from tests.ports import free_port

READY_S = 30


@dataclass(frozen=True)
class Stores:
    root: Path
    provider_ca: Path  # signed both servers' certificates
    other_ca: Path  # signed nothing here
    pg_port: int
    redis_port: int
    redis_password: str


def _postgres(root: Path, cert: tls.ServerCert, port: int) -> subprocess.Popen:
    data = root / "pg"
    subprocess.run(
        as_service_user(str(pg_bin() / "initdb"), "-D", str(data), "-U", SERVICE_USER,
                        "--auth=trust", "--no-sync", "--no-instructions"),
        check=True, capture_output=True,
    )  # fmt: skip
    for source, name in ((cert.cert, "server.crt"), (cert.key, "server.key")):
        shutil.copy(source, data / name)
        shutil.chown(data / name, SERVICE_USER, SERVICE_USER)
        (data / name).chmod(0o600)
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{root}'\n"
            "ssl = on\nfsync = off\n"
        )
    # TLS only, as the managed services accept.
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 trust\n")
    server = subprocess.Popen(as_service_user(str(pg_bin() / "postgres"), "-D", str(data)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ready = [str(pg_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    wait_until(lambda: subprocess.run(ready, check=False).returncode == 0, "PostgreSQL", READY_S)
    return server


def _redis(cert: tls.ServerCert, ca: Path, port: int, password: str) -> subprocess.Popen:
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert.cert), "--tls-key-file", str(cert.key),
         "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no",
         "--requirepass", password, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, "Redis", READY_S)
    return server


@pytest.fixture(scope="module")
def stores() -> Iterator[Stores]:
    root = Path(tempfile.mkdtemp(prefix="pyscale-store-tls-"))
    root.chmod(0o755)
    shutil.chown(root, SERVICE_USER, SERVICE_USER)
    provider = tls.ca(root / "provider")
    other = tls.ca(root / "other")
    # Both servers are reached by the loopback address, as a node reaches a store by name.
    cert = tls.issue(provider, root / "certs", "store", ["IP:127.0.0.1"])
    pg_port, redis_port = free_port(), free_port()
    servers = [
        _postgres(root, cert, pg_port),
        _redis(cert, provider[0], redis_port, "s3cret-for-this-test"),
    ]
    try:
        yield Stores(root, provider[0], other[0], pg_port, redis_port, "s3cret-for-this-test")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def rendered_env(stores: Stores, ca: Path) -> dict[str, str]:
    """DATABASE_URL and REDIS_URL as a node's env file has them when its cloud gave `ca`,
    with the node's CA path pointed at where this test wrote the rendered CA file."""
    stack = settings.parse("staging", {"domain": "app.example.com"})
    plan = capacity.plan(stack)
    secrets = render.NodeSecrets(
        database_url=urls.postgres_url("postgres", "", "127.0.0.1", stores.pg_port, "postgres"),
        database_read_urls=(),
        redis_url=f"rediss://default:{stores.redis_password}@127.0.0.1:{stores.redis_port}/0",
        provider_ca=ca.read_text(),
    )
    node = render.node(plan, stack, secrets)
    written = stores.root / f"{ca.parent.name}-provider-ca.pem"
    written.write_text(node.file(render.NODE.provider_ca).content)
    env = {}
    for line in node.file("/etc/pyscale/env").content.splitlines():
        name, _, value = line.partition("=")
        if name in ("DATABASE_URL", "REDIS_URL"):
            env[name] = value.strip('"').replace(render.NODE.provider_ca, str(written))
    return env


def as_handed_out(url: str) -> str:
    """`url` as the clouds give it: sslmode=require and no root certificate (with one, libpq
    would verify the chain even under require)."""
    base, _, query = url.partition("?")
    kept = "&".join(p for p in query.split("&") if not p.startswith(("sslmode=", "sslrootcert=")))
    return urls.require_tls(f"{base}?{kept}" if kept else base)


def test_the_rendered_urls_verify_the_server_and_connect(stores: Stores) -> None:
    env = rendered_env(stores, stores.provider_ca)
    assert "sslmode=verify-full" in env["DATABASE_URL"] and "ssl_ca_certs=" in env["REDIS_URL"]
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert redis.Redis.from_url(env["REDIS_URL"]).ping() is True


def test_a_server_another_ca_signed_is_refused(stores: Stores) -> None:
    # The node was given another CA than the one that signed the servers: a man in the
    # middle with a certificate of his own looks exactly like this.
    env = rendered_env(stores, stores.other_ca)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(env["DATABASE_URL"])
    with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        redis.Redis.from_url(env["REDIS_URL"]).ping()
    # What the URL the clouds hand out (sslmode=require, no root certificate) does: connect.
    with psycopg.connect(as_handed_out(env["DATABASE_URL"])) as conn:
        assert conn.info.pgconn.ssl_in_use


def test_a_certificate_for_another_host_is_refused(stores: Stores) -> None:
    env = rendered_env(stores, stores.provider_ca)
    # The right CA, but the name asked for is not the certificate's (libpq connects to
    # hostaddr and checks the certificate against host).
    elsewhere = env["DATABASE_URL"].replace("@127.0.0.1:", "@db.elsewhere.example:") + (
        "&hostaddr=127.0.0.1"
    )
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(elsewhere)
    with psycopg.connect(as_handed_out(elsewhere)) as conn:
        assert conn.info.pgconn.ssl_in_use
