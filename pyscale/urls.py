"""PostgreSQL connection strings as the nodes receive them (DATABASE_URL, DATABASE_READ_URLS).

Both clouds' managed PostgreSQL accept TLS only, so every URL carries sslmode=require: a
client left at libpq's default `prefer` would fall back to clear text against anything that
answered without TLS.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def require_tls(uri: str) -> str:
    """`uri` with sslmode=require, replacing whatever sslmode it had."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "sslmode"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("sslmode", "require")])))


def postgres_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """A libpq URL with the user and password percent-encoded, and sslmode=require."""
    return require_tls(
        f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"
    )
