"""The CloudEvents 1.0 envelope (JSON structured mode) shared by inputs and results."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from schema.common import Timestamp

CONTENT_TYPE = "application/cloudevents+json"
ACCEPTED_CONTENT_TYPES = frozenset({CONTENT_TYPE, "application/json", ""})
# CloudEvents extension attribute names: lower-case letters and digits.
EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"


class Envelope(BaseModel):
    """The context attributes of one CloudEvent; `data` is validated per type elsewhere."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    specversion: Literal["1.0"]
    id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    source: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    type: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    time: Timestamp
    datacontenttype: Literal["application/json"] | None = None
    dataschema: StrictStr | None = None
    subject: StrictStr | None = None
    data: dict[str, Any]


class ResultEnvelope(BaseModel):
    """What haodian publishes on `haodian.results`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: Literal["haodian"] = "haodian"
    type: str
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    subject: str
    causationid: str
    data: dict[str, Any]
