"""Prometheus metrics of a worker process (served on --metrics-port when set).

The batch loop updates them once per batch (counts aggregated per label set), never
with a label lookup per message."""

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("haodian_messages_total", "Input messages by outcome",
                   ["domain", "type", "outcome"])
BATCH_SIZE = Histogram("haodian_batch_size", "Messages per consumer batch", ["domain"],
                       buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000))
HANDLE_SECONDS = Histogram("haodian_batch_commit_seconds",
                           "Handlers plus commit of one batch", ["domain"],
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
AFTER_COMMIT_SECONDS = Histogram("haodian_batch_publish_ack_seconds",
                                 "Result publishing, DLQ/retry copies and acks of one batch",
                                 ["domain"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
LAG_SECONDS = Histogram("haodian_event_lag_seconds", "Event time to commit", ["domain"],
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
RETRIES = Counter("haodian_retries_total", "Messages sent to the retry path", ["domain", "reason"])
BATCH_CONFLICTS = Counter("haodian_batch_conflicts_total",
                          "Whole-batch transactions aborted by a serialization failure, "
                          "deadlock or lock timeout (run again; the last time event by event)",
                          ["domain", "sqlstate"])
DEAD_LETTERS = Counter("haodian_dead_letters_total", "Messages sent to the DLQ",
                       ["domain", "reason"])
OUTBOX_BACKLOG = Gauge("haodian_outbox_backlog", "Result events committed but not yet confirmed")
OUTBOX_OLDEST_SECONDS = Gauge("haodian_outbox_oldest_seconds",
                              "Age of the oldest unpublished result event")
DB_OUTAGES = Counter("haodian_database_waits_total", "Batches held while the database was down",
                     ["domain"])
RETENTION_ROWS_PRUNED = Counter("haodian_retention_rows_pruned_total",
                                "Rows deleted by retention", ["table"])
RETENTION_LAST_SUCCESS = Gauge("haodian_retention_last_success_timestamp_seconds",
                               "When a retention run last finished every table")
TABLE_BYTES = Gauge("haodian_table_size_bytes", "A table's size on disk, indexes included",
                    ["table"])
SYNC_STANDBY_MISSING = Gauge("haodian_sync_standby_missing",
                             "1 when synchronous_standby_names asks for more synchronous "
                             "standbys than stream: commits wait")
REPLICATION_LAG_SECONDS = Gauge("haodian_replication_replay_lag_seconds",
                                "The slowest standby's replay lag, as the primary sees it")
REPLICATION_LAG_BYTES = Gauge("haodian_replication_replay_lag_bytes",
                              "WAL the slowest standby has not replayed yet")
STANDBYS = Gauge("haodian_replication_standbys", "Standbys streaming from the primary")
COMMIT_WAIT_SECONDS = Gauge("haodian_commit_wait_seconds",
                            "How long the oldest batch in flight has been in the database")
READY = Gauge("haodian_worker_ready", "1 when /readyz passes: broker, consumers, database, outbox")


def count_messages(domain: str, outcomes: Iterable[tuple[str, str]]) -> None:
    """One increment per (type, outcome) of a batch."""
    for (event_type, outcome), n in Tally(outcomes).items():
        MESSAGES.labels(domain, event_type, outcome).inc(n)


def observe_lags(domain: str, lags_s: Iterable[float]) -> None:
    child = LAG_SECONDS.labels(domain)
    for lag in lags_s:
        child.observe(lag)
