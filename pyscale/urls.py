"""PostgreSQL connection strings as the nodes receive them (DATABASE_URL, DATABASE_READ_URLS).

Both clouds' managed PostgreSQL accept TLS only, so every URL carries sslmode=require: a
client left at libpq's default `prefer` would fall back to clear text against anything that
answered without TLS. On the node, where the provider's CA certificate is written, the URLs
verify the server too (`verify_server`): `require` encrypts but would talk to anyone who
answers with any certificate.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def require_tls(uri: str) -> str:
    """`uri` with sslmode=require, replacing whatever sslmode it had."""
    return _with_query(uri, ("sslmode",), [("sslmode", "require")])


def _with_query(uri: str, drop: tuple[str, ...], add: list[tuple[str, str]]) -> str:
    """`uri` with the `drop` parameters removed and `add` appended; every other parameter
    kept as it was (empty ones too), spaces as %20, which libpq decodes and `+` is not."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    encoded = urlencode([*query, *add], safe="/", quote_via=quote)
    return urlunsplit(parts._replace(query=encoded))


def verify_server(uri: str, ca_file: str) -> str:
    """`uri` verifying the server against the CA certificates in `ca_file` and its host
    name against the certificate: libpq's sslmode=verify-full with sslrootcert for
    postgresql://, redis-py's ssl_ca_certs for rediss:// (which checks the host name by
    default). Any other URL (a local node's plain services) is returned as it is."""
    scheme = urlsplit(uri).scheme
    if scheme in ("postgresql", "postgres"):
        return _with_query(
            uri, ("sslmode", "sslrootcert"), [("sslmode", "verify-full"), ("sslrootcert", ca_file)]
        )
    if scheme == "rediss":
        return _with_query(
            uri,
            ("ssl_ca_certs", "ssl_cert_reqs", "ssl_check_hostname"),
            [("ssl_ca_certs", ca_file)],
        )
    return uri


def postgres_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """A libpq URL with the user and password percent-encoded, and sslmode=require."""
    return require_tls(
        f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"
    )
