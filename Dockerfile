# The haodian image used by compose.yaml: the `haodian` CLI and its dependencies.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY schema ./schema
COPY handlers ./handlers
COPY workers ./workers
COPY sql ./sql
RUN pip install --no-cache-dir -e .
USER nobody
ENTRYPOINT ["haodian"]
