"""Driver exceptions translated, at one boundary, into what the runtime does about them.

    DatabaseUnavailable   the database cannot be reached, or is shutting down (57P01-03),
                          or no server of a multi-host URL takes writes (a failover under
                          way: only standbys answer, or a read-only transaction, 25006),
                          or a commit whose wait for the sync standby was cancelled
                          (CommitNotReplicated): keep the batch, wait, retry it; no
                          attempt is counted
    is_retryable_tx()     serialization failure, deadlock, lock not available: the whole
                          batch's transaction may be run again at once
    translate()           what one event's failure means (BatchEntry.fail):
        class 22 (data exception)               PermanentError data_invalid
        class 23 (integrity constraint)         PermanentError constraint_violated
        40001, 40P01, 55P03                     TransientError database_conflict
        class 53 (resources), 57014 (canceled,  TransientError database_busy
          statement timeout)
        anything else                           unchanged (retried as handler_error)

A handler that expects a constraint violation (a business outcome) catches it itself;
one that reaches the runtime was caused by the event's data, so retrying cannot help.
"""

import asyncio

import asyncpg

from handlers.base import PermanentError, TransientError


class DatabaseUnavailable(Exception):
    """PostgreSQL is down or restarting; nothing about the messages is wrong."""


class CommitNotReplicated(Exception):
    """A commit returned after its wait for the synchronous standby was cancelled: it may
    be on the primary only, so its messages must not be acked on its word."""


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    # Failover: every server reachable is a standby (target_session_attrs=read-write), or
    # a session landed on one: the database is away, the messages are fine.
    asyncpg.exceptions.TargetServerAttributeNotMatched,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    CommitNotReplicated,  # the retry's commit waits for the standby (its duplicates too)
)

_RETRYABLE_TX = (
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION_ERRORS)


def is_retryable_tx(exc: BaseException) -> bool:
    return isinstance(exc, _RETRYABLE_TX)


# SQLSTATE class (first two characters) or code -> (permanent?, reason code).
_BY_CLASS = {"22": (True, "data_invalid"), "23": (True, "constraint_violated"),
             "53": (False, "database_busy")}
_BY_CODE = {"40001": (False, "database_conflict"), "40P01": (False, "database_conflict"),
            "55P03": (False, "database_conflict"), "57014": (False, "database_busy")}


def translate(exc: BaseException) -> BaseException:
    """A PostgreSQL error as the runtime's Permanent/TransientError (the database's message
    kept as the detail); any other exception unchanged."""
    code = str(getattr(exc, "sqlstate", "") or "")
    known = _BY_CODE.get(code) or _BY_CLASS.get(code[:2])
    if known is None or not isinstance(exc, asyncpg.PostgresError):
        return exc
    permanent, reason = known
    detail = f"SQLSTATE {code}: {exc.args[0] if exc.args else exc}"
    if getattr(exc, "detail", None):
        detail += f" ({exc.detail})"
    return PermanentError(reason, detail) if permanent else TransientError(reason, detail)
