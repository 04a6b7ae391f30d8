"""The CloudEvents 1.0 envelope (JSON structured mode) shared by inputs and results."""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
)

from schema.common import LINE, SHORTSTR, HeaderText, Timestamp

CONTENT_TYPE = "application/cloudevents+json"
ACCEPTED_CONTENT_TYPES = frozenset({CONTENT_TYPE, "application/json", ""})
# CloudEvents extension attribute names: lower-case letters and digits.
EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"
# Extension values are CloudEvents strings (header-sized), integers (32-bit signed, as
# CloudEvents defines them) or booleans; null means absent.
_KINDS = {str: "string", bool: "boolean", int: "integer", type(None): "null"}
ExtensionValue = Annotated[
    Annotated[HeaderText, Tag("string")]
    | Annotated[StrictInt, Field(ge=-2**31, le=2**31 - 1), Tag("integer")]
    | Annotated[StrictBool, Tag("boolean")] | Annotated[None, Tag("null")],
    Discriminator(lambda value: _KINDS.get(type(value)),
                  custom_error_type="extension_value",
                  custom_error_message="an extension attribute is a string, an integer or a "
                                       "boolean")]
# id, source and type as they may travel: AMQP message-id, header, routing key.
Key = Annotated[StrictStr, Field(min_length=1, max_length=128), LINE, SHORTSTR]


class Envelope(BaseModel):
    """The context attributes of one CloudEvent; `data` is validated per type elsewhere."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    # Every attribute may travel in an AMQP short string or header (id as message-id,
    # type as routing key; all of them in binary mode): at most 255 bytes of UTF-8.
    __pydantic_extra__: dict[str, ExtensionValue] = Field(init=False)

    specversion: Literal["1.0"]
    id: Key
    source: Annotated[StrictStr, Field(min_length=1, max_length=256), LINE, SHORTSTR]
    type: Key
    time: Timestamp
    datacontenttype: Literal["application/json"] | None = None
    dataschema: HeaderText | None = None
    subject: HeaderText | None = None
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
