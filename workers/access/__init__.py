"""Least privilege: the PostgreSQL roles and RabbitMQ users of each part, as code."""
