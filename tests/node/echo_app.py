"""A WSGI app for the edge tests that says what reached it: in place of the node's app
behind the same Nginx, on Gunicorn's socket, it answers every request with the request's
headers, address and scheme as the app sees them (JSON).

Query parameters shape the answer: `type` its Content-Type, `header=Name:Value` a header
of the app's own (repeatable), `pad` that many bytes of text more (compressible).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    seen = {
        "headers": {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        },
        "remote_addr": environ.get("REMOTE_ADDR", ""),
        "scheme": environ["wsgi.url_scheme"],
        "pad": "pyscale " * (int(query.get("pad", ["0"])[0]) // 8),
    }
    body = json.dumps(seen).encode()
    content_type = query.get("type", ["application/json"])[0]
    own = [tuple(h.split(":", 1)) for h in query.get("header", [])]
    start_response(
        "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body))), *own]
    )
    return [body]
