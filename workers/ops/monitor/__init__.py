"""`haodian monitor`: the HTTP dashboard (queues, DLQ, workers, business panels)."""
