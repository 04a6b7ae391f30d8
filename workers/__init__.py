"""The runtime: settings, topology, consumer loop, outbox, retries, DLQ, CLI and monitor."""
