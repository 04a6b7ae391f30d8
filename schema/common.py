"""Field types shared by every event model: identifiers, text, money, timestamps, dates."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
)
from pydantic.config import JsonDict, JsonValue
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# What PostgreSQL's bigint and integer columns hold.
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
# The largest single amount an input may carry: ¥10 billion. No order, refund, price or
# deposit comes near it, and a store-month or a ledger balance summing millions of such
# amounts still fits a bigint (docs/rules.md §2.2).
MAX_AMOUNT_FEN = 10**12
# An AMQP 0-9-1 short string (message id, type, routing key) holds 255 bytes.
SHORTSTR_MAX_BYTES = 255

# C0 controls (NUL included), DEL and C1 controls, as a character class; the same text
# is a Python and an ECMA-262 (JSON Schema) pattern.
CONTROL = r"\u0000-\u001f\u007f-\u009f"
# Free text may keep TAB, LF and CR (a product description has lines).
CONTROL_BUT_LAYOUT = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"


@dataclass(frozen=True, slots=True)
class NoControlCharacters:
    """Refuses control characters in a string; `ranges` is the class of those refused."""

    ranges: str = CONTROL

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        found = re.compile(f"[{self.ranges}]").search

        def check(value: str) -> str:
            hit = found(value)
            if hit is not None:
                raise PydanticCustomError(
                    "control_character",
                    "control character U+{code} at position {position} is not allowed",
                    {"code": f"{ord(hit.group()):04X}", "position": hit.start()})
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = f"^[^{self.ranges}]*$"
        return json_schema


@dataclass(frozen=True, slots=True)
class MaxUtf8Bytes:
    """Bounds a string by its UTF-8 length, what a broker or a header counts; JSON Schema
    has no keyword for it, so the schema carries `x-maxUtf8Bytes`."""

    limit: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        limit = self.limit

        def check(value: str) -> str:
            # 4 bytes is the most a character takes: short strings need no encoding.
            if len(value) * 4 > limit and len(encoded := value.encode()) > limit:
                raise PydanticCustomError(
                    "string_too_many_bytes",
                    "String should have at most {limit} bytes in UTF-8, not {size}",
                    {"limit": limit, "size": len(encoded)})
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["x-maxUtf8Bytes"] = self.limit
        return json_schema


# Put after a string's Field(...) bounds, so those keep pydantic's own messages.
LINE = NoControlCharacters()  # one line of text: every control character refused
FREE_TEXT = NoControlCharacters(CONTROL_BUT_LAYOUT)  # several lines: TAB, LF, CR allowed
SHORTSTR = MaxUtf8Bytes(SHORTSTR_MAX_BYTES)

# A value that may travel in an AMQP short string or header (envelope attributes).
HeaderText = Annotated[StrictStr, LINE, SHORTSTR]
# Identifiers are one line of 1-64 characters (docs/rules.md §2.2).
Id = Annotated[StrictStr, Field(min_length=1, max_length=64), LINE]
# Money is integer fen; StrictInt refuses 12.0 and "12" alike. Results and totals are
# bounded by their bigint columns, one amount on an input by MAX_AMOUNT_FEN.
Fen = Annotated[StrictInt, Field(ge=0, le=BIGINT_MAX)]
AmountFen = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_FEN)]
# RFC 3339 with an offset; a naive timestamp is refused.
Timestamp = AwareDatetime
Day = date


def check_entry(reason: str, result: str, **format_: JsonValue) -> JsonDict:
    """One entry of `x-businessChecks`: the reason code, the result type that carries it,
    and the format (`pattern`, `patternByProfession`) where the check has one."""
    return {"reason": reason, "result": result, **format_}


def checked(description: str, *checks: JsonDict) -> Any:
    """A field checked by a domain's rules, not by the schema: its `description` names the
    rule and the reason code, the annotation `x-businessChecks` lists the checks. Neither
    validates anything: a failing value is accepted and answered with a business result,
    and a validating keyword (a `pattern`) would refuse events haodian processes, a
    breaking narrowing (docs/schema-evolution.md)."""
    listed: list[JsonValue] = [*checks]
    return Field(description=description, json_schema_extra={"x-businessChecks": listed})


class EventData(BaseModel):
    """Base of every event's `data`: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
