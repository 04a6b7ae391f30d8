"""Driver exceptions translated, at one boundary, into what the runtime does about them.

    DatabaseUnavailable   the database cannot be reached: keep the batch, wait, retry it
    is_retryable_tx()     serialization failure, deadlock: the transaction may be retried
"""

import asyncio

import asyncpg


class DatabaseUnavailable(Exception):
    """PostgreSQL is down or restarting; nothing about the messages is wrong."""


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
