"""The TLS path of a node that terminates TLS itself (tls: node), checked end to end: the
certificate certbot got from the ACME server is the one served, HTTP redirects to HTTPS,
a renewal reloads Nginx with the new certificate, and (optionally) testssl.sh grades the
listener against Mozilla's intermediate profile."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pyscale.rehearsal.inspect import Node
from pyscale.rehearsal.podman import Podman
from pyscale.rehearsal.report import Probe

ACME_MANAGEMENT_PORT = 15000
HTTPS_PORT = 443
TIMEOUT_S = 15
# How long a renewal check waits for the reloaded Nginx to serve the new certificate.
RELOAD_WAIT_TRIES = 20
RELOAD_WAIT_S = 0.5
# Mozilla SSL configuration generator, "intermediate" (ssl-config.mozilla.org, 2024): the
# protocols and the TLS 1.2 suites a server may offer (OpenSSL names; TLS 1.3 suites are
# all allowed).
MOZILLA_INTERMEDIATE_PROTOCOLS = {"TLS1_2", "TLS1_3"}
MOZILLA_INTERMEDIATE_TLS12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}  # fmt: skip
OPENSSL_SUITE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


def acme_root(acme_address: str, rehearsal_ca: Path) -> str:
    """The ACME server's root certificate (PEM), which a rehearsal client trusts."""
    context = ssl.create_default_context(cafile=str(rehearsal_ca))
    url = f"https://{acme_address}:{ACME_MANAGEMENT_PORT}/roots/0"
    with urllib.request.urlopen(url, context=context, timeout=TIMEOUT_S) as response:
        return response.read().decode()


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to `address`, with SNI and verification for `server_name`: what a client that
    resolved the domain to this node would do."""

    def __init__(self, address: str, server_name: str, context: ssl.SSLContext) -> None:
        super().__init__(server_name, HTTPS_PORT, timeout=TIMEOUT_S, context=context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, HTTPS_PORT), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Served:
    serial: str
    issuer: str
    protocol: str


def https(address: str, domain: str, root_pem: str, method: str, path: str) -> Probe:
    """One request over TLS, the certificate verified against the ACME root."""
    context = ssl.create_default_context(cadata=root_pem)
    connection = _Pinned(address, domain, context)
    try:
        connection.request(method, path, body=b"" if method == "POST" else None)
        response = connection.getresponse()
        body = response.read(2048).decode(errors="replace")
        ok = 200 <= response.status < 300
        return Probe(method, f"https {path}", response.status, ok, "" if ok else body[:200])
    except (OSError, ssl.SSLError) as error:
        return Probe(method, f"https {path}", 0, False, str(error))
    finally:
        connection.close()


def served(address: str, domain: str, root_pem: str) -> Served:
    """The certificate the node serves for `domain`, verified against the ACME root."""
    context = ssl.create_default_context(cadata=root_pem)
    with (
        socket.create_connection((address, HTTPS_PORT), TIMEOUT_S) as sock,
        context.wrap_socket(sock, server_hostname=domain) as tls,
    ):
        cert = tls.getpeercert()
        issuer = dict(pair[0] for pair in cert["issuer"]).get("commonName", "?")
        return Served(cert["serialNumber"], issuer, tls.version() or "?")


def redirect(address: str, domain: str) -> Probe:
    """Plain HTTP for the domain must answer a permanent redirect to https."""
    connection = http.client.HTTPConnection(address, 80, timeout=TIMEOUT_S)
    try:
        connection.request("GET", "/some/path?x=1", headers={"Host": domain})
        response = connection.getresponse()
        location = response.getheader("Location", "")
        ok = response.status == 301 and location == f"https://{domain}/some/path?x=1"
        return Probe("GET", "http /some/path?x=1", response.status, ok, "" if ok else location)
    finally:
        connection.close()


def renew(node: Node, address: str, domain: str, root_pem: str) -> Probe:
    """Force a renewal on the node; its deploy hook must reload Nginx onto the new
    certificate (a different serial served afterwards, from the same Nginx master)."""
    before = served(address, domain, root_pem)
    master = node.sh("systemctl show -p MainPID --value nginx.service").strip()
    out = node.sh("certbot renew --force-renewal --no-random-sleep-on-renew 2>&1; echo rc=$?")
    # A reload is asynchronous: the master starts new workers after `systemctl reload` has
    # returned, and an old worker may answer the first handshake meanwhile.
    after = served(address, domain, root_pem)
    for _ in range(RELOAD_WAIT_TRIES):
        if after.serial != before.serial:
            break
        time.sleep(RELOAD_WAIT_S)
        after = served(address, domain, root_pem)
    same_master = node.sh("systemctl show -p MainPID --value nginx.service").strip() == master
    ok = "rc=0" in out and after.serial != before.serial and same_master
    detail = "" if ok else f"serial {before.serial} -> {after.serial}; {out[-300:]}"
    return Probe("RENEW", "certbot renew (deploy hook reloads nginx)", 0 if not ok else 200,
                 ok, detail)  # fmt: skip


def testssl(podman: Podman, image: str, network: str, address: str, domain: str) -> dict:
    """testssl.sh's findings for the listener, with the verdict against Mozilla's
    intermediate profile: protocols, TLS 1.2 suites, forward secrecy, HSTS."""
    done = podman.run(
        "run", "--rm", "--network", network, image, "sh", "-c",
        f"testssl --quiet --color 0 --warnings off --ip {address} -p -E -f -h "
        f"--jsonfile /tmp/out.json https://{domain} >/dev/null 2>&1; cat /tmp/out.json",
        check=False, timeout=600,
    )  # fmt: skip
    findings = {f["id"]: f for f in json.loads(done.stdout or "[]")}
    offered = {
        key
        for key in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
        if findings.get(key, {}).get("finding", "").startswith("offered")
    }
    # "TLSv1.2 xc02c ECDHE-ECDSA-AES256-GCM-SHA384 ECDH 253 ...": the OpenSSL name.
    suites = {
        token
        for key, f in findings.items()
        if key.startswith("cipher-tls1_2_")
        for token in f["finding"].split()
        if OPENSSL_SUITE.match(token)
    }
    return {
        "protocols_offered": sorted(offered),
        "tls12_suites": sorted(suites),
        "forward_secrecy": findings.get("FS", {}).get("finding", "?"),
        "hsts": findings.get("HSTS_time", {}).get("finding", "?"),
        "mozilla_intermediate": offered <= MOZILLA_INTERMEDIATE_PROTOCOLS
        and bool(offered) and suites <= MOZILLA_INTERMEDIATE_TLS12,
        "findings": {k: f["finding"] for k, f in findings.items() if f.get("severity") in
                     ("LOW", "MEDIUM", "HIGH", "CRITICAL")},
    }  # fmt: skip
