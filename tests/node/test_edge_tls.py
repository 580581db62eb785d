"""The node's own TLS server (tls: node), run by real Nginx on the loopback of a network
namespace of the test's own: what an audit of the edge found it accepts and refuses, kept.

The files are the ones a single TLS-terminating Debian 12 node gets, as they stand after
runcmd's certbot step (tests/render/test_real_tools.nginx_tree: the TLS server linked in,
a throwaway self-signed certificate at certbot's path). Debian 12's Nginx 1.22 is this
machine's, so the server runs at the node's own version, HTTP/2 written as a listen
parameter (nodeos: before 1.25.1). No app behind it: a request answers 502.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyscale import capacity, render, settings
from pyscale.localnode import wait_until
from pyscale.localnode.netns import delete_namespace
from pyscale.render.cloudinit import ERROR_PAGE
from tests.render.test_real_tools import nginx_tree

DOMAIN = "tls.pyscale.example.com"
NAMESPACE = "pyscale-edge-tls"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[None]:
    s = settings.parse("staging", {"nodeImage": "debian-12", "domain": DOMAIN, "tls": "node",
                                   "nodeCount": 1, "targetConcurrency": 2000})  # fmt: skip
    assert not s.node_os.http2_directive, "this machine's Nginx is Debian 12's"
    plan = capacity.plan(s)
    node = render.node(plan, s, render.placeholder_secrets(plan))
    # Nginx's workers (www-data) read the error page: not under pytest's 0700 directories.
    root = Path(tempfile.mkdtemp(prefix="pyscale-edge-tls-"))
    root.chmod(0o755)
    config = nginx_tree(node, s, root, tls_enabled=True)
    delete_namespace(NAMESPACE)  # left over from an interrupted run
    subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
    nginx = None
    try:
        subprocess.run(["ip", "-n", NAMESPACE, "link", "set", "lo", "up"], check=True)
        nginx = subprocess.Popen(
            ["ip", "netns", "exec", NAMESPACE, "nginx", "-c", str(config),
             "-p", f"{config.parent}/", "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_until(lambda: handshake("-tls1_3").returncode == 0, "Nginx's TLS listener", 20)
        yield
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        delete_namespace(NAMESPACE)
        subprocess.run(["rm", "-rf", str(root)], check=False)


def in_namespace(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", NAMESPACE, *argv],
        input="", capture_output=True, text=True, errors="replace", timeout=30,
    )  # fmt: skip


def handshake(*options: str, name: str = DOMAIN) -> subprocess.CompletedProcess[str]:
    """openssl s_client against the node's port 443 (exit 0: the handshake completed)."""
    return in_namespace("openssl", "s_client", "-connect", "127.0.0.1:443",
                        "-servername", name, *options)  # fmt: skip


def test_tls_1_2_and_1_3_with_forward_secret_ciphers(tls_server: None) -> None:
    tls12 = handshake("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert tls12.returncode == 0, tls12.stderr
    assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256" in tls12.stdout
    tls13 = handshake("-tls1_3")
    assert tls13.returncode == 0, tls13.stderr
    assert "New, TLSv1.3" in tls13.stdout


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_older_protocols_are_refused_by_the_server(tls_server: None, version: str) -> None:
    # SECLEVEL=0: this machine's OpenSSL would not even offer them; the server must refuse.
    refused = handshake(version, "-cipher", "DEFAULT@SECLEVEL=0")
    assert refused.returncode != 0
    assert "alert protocol version" in refused.stderr, refused.stderr


@pytest.mark.parametrize("cipher", ["AES128-GCM-SHA256", "AES256-SHA256"])
def test_ciphers_without_forward_secrecy_are_refused(tls_server: None, cipher: str) -> None:
    """Static RSA key exchange: a recorded session is readable by whoever gets the key."""
    refused = handshake("-tls1_2", "-cipher", cipher)
    assert refused.returncode != 0
    assert "alert handshake failure" in refused.stderr, refused.stderr


def test_an_unknown_name_gets_no_certificate(tls_server: None) -> None:
    refused = handshake("-tls1_3", name="other.example.com")
    assert refused.returncode != 0
    assert "unrecognized name" in refused.stderr, refused.stderr


def test_http2_is_offered_at_the_nodes_nginx_version(tls_server: None) -> None:
    assert "ALPN protocol: h2" in handshake("-alpn", "h2,http/1.1").stdout


def curl(url: str, *options: str) -> tuple[str, str]:
    """The answer's head (lower-cased) and body, through curl in the namespace."""
    done = in_namespace("curl", "-sk", "-D", "-", "--resolve", f"{DOMAIN}:443:127.0.0.1",
                        "--resolve", f"{DOMAIN}:80:127.0.0.1", *options, url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition("\n\n")  # text mode: CRLF read as \n
    return head.lower(), body


def test_https_answers_carry_hsts_and_plain_http_redirects_without_it(tls_server: None) -> None:
    head, body = curl(f"https://{DOMAIN}/", "--http2")
    assert head.startswith("http/2 502")  # no app behind this node: the error page
    assert body == ERROR_PAGE.read_text()
    assert f"strict-transport-security: max-age={render.NODE.hsts_max_age_s}\n" in head
    assert head.count("strict-transport-security") == 1
    assert "x-frame-options: deny" in head and "x-content-type-options: nosniff" in head
    redirect, _ = curl(f"http://{DOMAIN}/path?q=1")
    assert redirect.startswith("http/1.1 301")
    assert f"location: https://{DOMAIN}/path?q=1" in redirect
    assert "strict-transport-security" not in redirect
