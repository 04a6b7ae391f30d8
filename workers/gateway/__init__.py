"""`haodian gateway`: CloudEvents over HTTP into haodian.events, answered after the confirm.

    config.py      HAODIAN_GATEWAY_* settings (size limits, confirm timeout, token cache)
    tokens.py      per-source bearer tokens, stored as SHA-256 hashes in PostgreSQL
    binding.py     the CloudEvents HTTP protocol binding: structured, binary and batch
    broker.py      one confirming AMQP channel, reconnected on demand
    app.py         the Starlette application: routes, checks, status codes
    access.py      structured access logs (never the token)
    openapi.py     the OpenAPI document, generated from schema/
    commands.py    what `haodian gateway ...` runs
"""
