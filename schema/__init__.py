"""Wire contracts: pydantic models of the CloudEvents envelope and every event's data."""
