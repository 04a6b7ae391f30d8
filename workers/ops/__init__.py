"""Operations: worker health and metrics, heartbeats, supervisor, status, scaling, monitor."""
