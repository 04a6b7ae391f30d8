"""Every PostgreSQL connection and pool of haodian, opened one way from the database URL.

The URL may end in `?statement_cache_size=N`: asyncpg's per-connection cache of named
prepared statements (default 100). Behind PgBouncer in transaction mode set it to 0:
PgBouncer before 1.21 (Debian 12 ships 1.18) hands each transaction any server
connection, where a statement prepared on another one does not exist.

The URL may name several servers, libpq's multi-host form (docs/operations.md, Failover):

    postgresql://pg-a:5432,pg-b:5432/haodian?target_session_attrs=read-write

asyncpg tries them in order and keeps the first that accepts writes; a pool reconnects
the same way, so after a standby's promotion new connections find the new primary.
Several hosts without `target_session_attrs=read-write` (or `primary`) are refused: the
first reachable server might be a standby, and every haodian connection writes.

A commit waiting for a synchronous standby that someone cancels (`pg_cancel_backend`)
returns success with a WARNING: committed locally, maybe not on the standby. Every
connection opened here notes that warning as it arrives; `commit_not_replicated(conn)`
tells the runtime, which then treats the batch as not committed (docs/operations.md,
Failover).
"""

import ssl
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

CACHE_PARAMETER = "statement_cache_size"
DEFAULT_STATEMENT_CACHE_SIZE = 100  # asyncpg's own default
TARGET_PARAMETER = "target_session_attrs"
WRITABLE_TARGETS = ("read-write", "primary")
# Every server a multi-host URL names answered, none takes writes (a failover under way,
# or a demoted primary): the database is away, like an OSError when none answers.
NoWritableServer = asyncpg.exceptions.TargetServerAttributeNotMatched
SYNC_WAIT_CANCELLED = "canceling wait for synchronous replication"


class Connection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg has no types
    """asyncpg's connection, reading one server notice as it arrives: the warning that a
    commit's wait for the synchronous standby was cancelled (committed locally only)."""

    __slots__ = ("_unreplicated_commit",)

    def _process_log_message(self, fields: dict[str, str], last_query: str) -> None:
        if SYNC_WAIT_CANCELLED in fields.get("M", ""):
            self._unreplicated_commit = True
        super()._process_log_message(fields, last_query)


def commit_not_replicated(conn: Any) -> bool:
    """True once after a commit on `conn` (or a pool's proxy of it) whose wait for the
    synchronous standby was cancelled: its effects may be on the primary only."""
    raw = getattr(conn, "_con", None) or conn
    seen = bool(getattr(raw, "_unreplicated_commit", False))
    if seen:
        raw._unreplicated_commit = False
    return seen


def hosts(url: object) -> list[str]:
    """The `host:port` items of a URL's server list, as written."""
    netloc = urlsplit(str(url)).netloc
    return [h for h in netloc.rpartition("@")[2].split(",") if h]


def split_url(url: object) -> tuple[str, int]:
    """The URL asyncpg gets and the statement cache size it names; ValueError if bad."""
    parts = urlsplit(str(url))
    query = parse_qsl(parts.query, keep_blank_values=True)
    size = DEFAULT_STATEMENT_CACHE_SIZE
    rest = []
    target = ""
    for key, value in query:
        if key == TARGET_PARAMETER:
            target = value
        if key != CACHE_PARAMETER:
            rest.append((key, value))
        elif not value.isdigit():
            raise ValueError(f"{CACHE_PARAMETER} must be a whole number >= 0, not {value!r}")
        else:
            size = int(value)
    if len(hosts(url)) > 1 and target not in WRITABLE_TARGETS:
        raise ValueError(f"several hosts need ?{TARGET_PARAMETER}=read-write (or primary): "
                         "haodian writes, and the first server reachable may be a standby")
    return urlunsplit(parts._replace(query=urlencode(rest))), size


class DatabaseTLSRefused(ConnectionError):
    """The server's TLS certificate did not verify (sslmode=verify-ca/verify-full)."""


def _tls_refused(exc: ssl.SSLCertVerificationError, url: object) -> DatabaseTLSRefused:
    query = dict(parse_qsl(urlsplit(str(url)).query))
    root = query.get("sslrootcert", "~/.postgresql/root.crt")
    return DatabaseTLSRefused(
        f"PostgreSQL TLS certificate of {', '.join(hosts(url))} not trusted: "
        f"{exc.verify_message or exc} (sslmode={query.get('sslmode', 'prefer')}, verified "
        f"against {root}; set ?sslrootcert= in HAODIAN_DATABASE_URL to the CA that signed "
        "the server's certificate, and name the host the certificate names)")


async def connect(url: object, **kwargs: Any) -> asyncpg.Connection:
    dsn, cache = split_url(url)
    try:
        return await asyncpg.connect(dsn, statement_cache_size=cache,
                                     connection_class=Connection, **kwargs)
    except ssl.SSLCertVerificationError as exc:
        raise _tls_refused(exc, url) from exc


async def create_pool(url: object, **kwargs: Any) -> asyncpg.Pool:
    dsn, cache = split_url(url)
    try:
        return await asyncpg.create_pool(dsn, statement_cache_size=cache,
                                         connection_class=Connection, **kwargs)
    except ssl.SSLCertVerificationError as exc:
        raise _tls_refused(exc, url) from exc
