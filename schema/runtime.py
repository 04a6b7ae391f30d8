"""The runtime's own result events (not tied to a domain)."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictStr

from schema.common import EventData


class EventRejected(EventData):
    """`event.rejected`: an input that could not be processed; the raw message is kept in
    its domain's DLQ with the reason in its headers."""

    event_id: Annotated[StrictStr, Field(min_length=1)]  # as read, even when too long
    event_source: StrictStr | None
    event_type: StrictStr | None
    reasons: Annotated[list[StrictStr], Field(min_length=1)]


RESULTS: dict[str, type[BaseModel]] = {"event.rejected": EventRejected}
