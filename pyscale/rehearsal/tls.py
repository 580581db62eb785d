"""The rehearsal's own certificate authority and the certificates it signs for the local
data stores and the ACME server. Made once per machine (the CA is baked into the images,
which are cached), with openssl; nothing here is ever trusted outside a rehearsal image."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CA_DAYS = 3650
CERT_DAYS = 30


class TLSError(RuntimeError):
    """openssl failed; the message holds its output."""


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TLSError(f"openssl {args[0]} failed: {done.stderr.strip()[-2000:]}")


def ca(cache: Path) -> tuple[Path, Path]:
    """(certificate, key) of the rehearsal CA under `cache`, made on first use."""
    cert, key = cache / "rehearsal-ca.crt", cache / "rehearsal-ca.key"
    if not (cert.exists() and key.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-days", str(CA_DAYS), "-subj", "/CN=pyscale rehearsal CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-keyout", str(key), "-out", str(cert))  # fmt: skip
        key.chmod(0o600)
    return cert, key


@dataclass(frozen=True)
class ServerCert:
    """A certificate and key for one service, in files a container can mount."""

    cert: Path
    key: Path


def issue(ca_pair: tuple[Path, Path], out: Path, name: str, sans: Sequence[str]) -> ServerCert:
    """A server certificate for `sans` (IP:... or DNS:... entries) signed by the CA."""
    out.mkdir(parents=True, exist_ok=True)
    key, csr, cert = out / f"{name}.key", out / f"{name}.csr", out / f"{name}.crt"
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(csr))  # fmt: skip
    extensions = out / f"{name}.ext"
    extensions.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName={','.join(sans)}\n"
    )
    ca_cert, ca_key = ca_pair
    # A random serial, not -CAcreateserial: that keeps a serial file beside the shared CA,
    # which rehearsals booting at the same time read and rewrite under each other.
    serial = f"0x{secrets.token_hex(16)}"
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-set_serial", serial, "-days", str(CERT_DAYS), "-extfile", str(extensions),
             "-out", str(cert))  # fmt: skip
    key.chmod(0o644)  # read inside the service's container by its own user
    return ServerCert(cert, key)
