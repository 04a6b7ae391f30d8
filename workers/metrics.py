"""Prometheus metrics of a worker process (served on --metrics-port when set)."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("haodian_messages_total", "Input messages by outcome",
                   ["domain", "type", "outcome"])
BATCH_SIZE = Histogram("haodian_batch_size", "Messages per consumer batch", ["domain"],
                       buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000))
HANDLE_SECONDS = Histogram("haodian_batch_commit_seconds",
                           "Handlers plus commit of one batch", ["domain"])
LAG_SECONDS = Histogram("haodian_event_lag_seconds", "Event time to commit", ["domain"],
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
RETRIES = Counter("haodian_retries_total", "Messages sent to the retry path", ["domain", "reason"])
DEAD_LETTERS = Counter("haodian_dead_letters_total", "Messages sent to the DLQ",
                       ["domain", "reason"])
OUTBOX_BACKLOG = Gauge("haodian_outbox_backlog", "Result events committed but not yet confirmed")
DB_OUTAGES = Counter("haodian_database_waits_total", "Batches held while the database was down",
                     ["domain"])
