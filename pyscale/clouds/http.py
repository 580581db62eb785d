"""A small JSON-over-HTTPS client for the rollout gate's few cloud API calls.

The gate runs inside `pulumi up` (a dynamic provider) and in `bench.rollout`; the standard
library is enough for a handful of GETs and POSTs, and keeps the cloud SDKs' own HTTP
stacks (and their versions) out of the provider process.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from pyscale.rollout.gate import ProbeError

TIMEOUT_S = 15
# Answers a retry can fix: the gate treats them as "not yet".
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


class ApiError(RuntimeError):
    def __init__(self, status: int, url: str, body: str) -> None:
        self.status = status
        super().__init__(f"{status} from {url}: {body[:300]}")


def request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any] | None = None,
    missing_ok: bool = False,
) -> Any:
    """The decoded JSON answer (None when empty, or 404 with `missing_ok`). A transient
    status raises ApiError; any other error status raises ProbeError, which stops the gate
    at once."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        if error.code == 404 and missing_ok:
            return None
        if error.code in TRANSIENT:
            raise ApiError(error.code, url, detail) from error
        raise ProbeError(f"{method} {url}: {error.code} {detail[:300]}") from error
    return json.loads(text) if text.strip() else None


def local_override(environ: Mapping[str, str], variable: str, default: str) -> str:
    """`default`, or the loopback URL in `variable` (the rollout rehearsal's stand-in API).
    Anything else is refused: the token must not be sent to another host."""
    url = environ.get(variable)
    if not url:
        return default
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ProbeError(f"{variable} = {url!r}: only a loopback URL may replace {default}")
    return url.rstrip("/")
