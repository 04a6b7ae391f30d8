"""Business rules, one package per domain; no broker, no driver, no clock."""
