"""What each PostgreSQL role may do to each table: a default per role, and the tables that
differ from it, listed here and nowhere else.

A table a later migration adds gets the default (ALTER DEFAULT PRIVILEGES gives it at
creation, `haodian migrate` checks it after); a table that needs something else gets a
line in EXCEPTIONS. A sequence follows its table: a role that may INSERT into a table may
use the table's serial sequence.
"""

from enum import StrEnum


class Part(StrEnum):
    RUNTIME = "runtime"
    READONLY = "readonly"
    GATEWAY = "gateway"


DML = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
READ = frozenset({"SELECT"})
NOTHING: frozenset[str] = frozenset()
SEQUENCE_USE = frozenset({"USAGE"})

DEFAULT: dict[Part, frozenset[str]] = {
    Part.RUNTIME: DML,
    Part.READONLY: READ,
    Part.GATEWAY: NOTHING,
}

# Business policy data: operators change it (as the migration role), workers only read it.
POLICY_TABLES = (
    "policies", "qualification_kinds", "store_types", "deposit_requirements",
    "store_name_banned_words", "categories", "category_qualifications",
    "category_store_type_exclusions", "provinces", "advertising_terms",
)

EXCEPTIONS: dict[str, dict[Part, frozenset[str]]] = {
    # Hashes of the gateway's bearer tokens: the gateway checks, adds and revokes them;
    # nobody else reads them.
    "gateway_tokens": {Part.RUNTIME: NOTHING, Part.READONLY: NOTHING,
                       Part.GATEWAY: frozenset({"SELECT", "INSERT", "UPDATE"})},
    # The audit of DLQ replays and purges: appended by the monitor and `haodian dlq`
    # (read-only role), never changed; workers only delete rows past the retention window.
    "dlq_audit": {Part.RUNTIME: frozenset({"SELECT", "DELETE"}),
                  Part.READONLY: frozenset({"SELECT", "INSERT"})},
    # Dead letters: workers ingest them; the monitor and `haodian dlq` (read-only role)
    # ingest what waits before reading, mark replayed rows and delete purged ones.
    "dead_letters": {Part.READONLY: DML},
    "schema_migrations": {Part.RUNTIME: READ},
    **{table: {Part.RUNTIME: READ} for table in POLICY_TABLES},
}


def table_privileges(table: str, part: Part) -> frozenset[str]:
    return EXCEPTIONS.get(table, {}).get(part, DEFAULT[part])


def sequence_privileges(owner_table: str | None, part: Part) -> frozenset[str]:
    """USAGE (nextval) for whoever may INSERT into the sequence's table; a sequence of no
    table is the runtime's."""
    if owner_table is None:
        return SEQUENCE_USE if part is Part.RUNTIME else NOTHING
    return SEQUENCE_USE if "INSERT" in table_privileges(owner_table, part) else NOTHING
