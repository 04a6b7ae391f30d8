"""Field types shared by every event model: identifiers, money, timestamps, dates."""

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

# Identifiers are strings of 1-64 characters (docs/rules.md §2.2).
Id = Annotated[StrictStr, Field(min_length=1, max_length=64)]
# Money is integer fen; StrictInt refuses 12.0 and "12" alike.
Fen = Annotated[StrictInt, Field(ge=0)]
# RFC 3339 with an offset; a naive timestamp is refused.
Timestamp = AwareDatetime
Day = date


class EventData(BaseModel):
    """Base of every event's `data`: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
