"""workers.schema_compat over hand-made schema pairs: what breaks publishers, and readers."""

from typing import Any

import pytest

from workers.contract.schema_compat import Change, breaking, compare, compare_catalogues

STR = {"type": "string", "minLength": 1, "maxLength": 64}
FEN = {"type": "integer", "minimum": 0}
PLAN = {"enum": ["legacy_mall", "standard"], "type": "string"}


def obj(required: tuple[str, ...] = ("id", "amount_fen"), **props: Any) -> dict[str, Any]:
    properties = {"id": STR, "amount_fen": FEN, **props}
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def event(data: dict[str, Any], defs: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": ["type", "data"],
                              "properties": {"type": {"const": "deposit.paid"}, "data": data}}
    if defs:
        schema["$defs"] = defs
    return schema


def summary(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c.path, c.effect) for c in compare(event(old), event(new))]


def test_identical_schemas_and_annotation_edits_are_no_change() -> None:
    old = obj()
    new = {**obj(), "title": "Deposit paid", "description": "now documented"}
    assert compare(event(old), event(old)) == []
    assert compare(event(old), event(new)) == []


@pytest.mark.parametrize(("new", "expected"), [
    (obj(plan=PLAN), [("$.data.plan", "optional+")]),
    (obj(("id", "amount_fen", "plan"), plan=PLAN), [("$.data.plan", "required+")]),
    ({**obj(), "properties": {"id": STR}, "required": ["id"]},
     [("$.data.amount_fen", "removed")]),
    (obj(amount_fen={"type": "number", "minimum": 0}), [("$.data.amount_fen", "changed")]),
    (obj(amount_fen={"type": "string"}), [("$.data.amount_fen", "changed")]),
    (obj(amount_fen={"type": "integer", "minimum": 1}), [("$.data.amount_fen", "narrower")]),
    (obj(amount_fen={"type": "integer"}), [("$.data.amount_fen", "wider")]),
    (obj(("id",)), [("$.data.amount_fen", "wider")]),
    (obj(id={**STR, "maxLength": 32}), [("$.data.id", "narrower")]),
    (obj(id={**STR, "pattern": "^[a-z]+$"}), [("$.data.id", "narrower")]),
    ({**obj(), "additionalProperties": True}, [("$.data", "wider")]),
])
def test_each_kind_of_change_is_found(new: dict[str, Any], expected: list[tuple[str, str]]
                                      ) -> None:
    assert summary(obj(), new) == expected


def test_enum_values_dropped_are_narrower_and_added_are_wider() -> None:
    old = obj(plan=PLAN)
    fewer = obj(plan={"enum": ["standard"], "type": "string"})
    more = obj(plan={"enum": ["legacy_mall", "standard", "premium"], "type": "string"})
    assert [str(c) for c in compare(event(old), event(fewer))] == [
        "$.data.plan: no longer accepts ['\"legacy_mall\"']"]
    assert summary(old, more) == [("$.data.plan", "wider")]
    assert summary(obj(plan={"const": "standard"}), obj(plan=PLAN)) == [
        ("$.data.plan", "wider")]


def test_nullable_fields_compare_branch_by_branch() -> None:
    nullable = obj(brand={"anyOf": [STR, {"type": "null"}], "default": None})
    plain = obj(brand=STR)
    assert summary(nullable, plain) == [("$.data.brand", "narrower")]
    assert summary(plain, nullable) == [("$.data.brand", "wider")]
    longer = obj(brand={"anyOf": [{**STR, "maxLength": 128}, {"type": "null"}],
                        "default": None})
    assert summary(nullable, longer) == [("$.data.brand", "wider")]


def test_refs_are_followed_in_each_schema_and_nested_changes_named_by_path() -> None:
    item = {"type": "object", "properties": {"kind": STR, "valid_until": {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}},
        "required": ["kind", "valid_until"], "additionalProperties": False}
    old = event(obj(items={"type": "array", "items": {"$ref": "#/$defs/Qualification"}}),
                {"Qualification": item})
    changed = {**item, "properties": {**item["properties"],
                                      "valid_until": {"type": "string", "format": "date-time"}}}
    new = event(obj(items={"type": "array", "items": {"$ref": "#/$defs/Q2"}}),
                {"Q2": changed})
    assert [(c.path, c.effect) for c in compare(old, new)] == [
        ("$.data.items[].valid_until", "changed"),  # date -> date-time
        ("$.data.items[].valid_until", "narrower"),  # null no longer accepted
    ]


def test_a_changed_default_changes_what_an_absent_field_means() -> None:
    old = obj(note={"type": "string", "default": "none"})
    new = obj(note={"type": "string", "default": "n/a"})
    assert summary(old, new) == [("$.data.note", "changed")]


@pytest.mark.parametrize(("effect", "input_breaks", "result_breaks"), [
    ("removed", True, True), ("required+", True, True), ("changed", True, True),
    ("optional+", False, False), ("narrower", True, False), ("wider", False, True),
])
def test_who_breaks_depends_on_the_direction(effect: Any, input_breaks: bool,
                                             result_breaks: bool) -> None:
    change = Change("$.data.x", effect, "")
    assert (change.breaking("input"), change.breaking("result")) == (input_breaks,
                                                                      result_breaks)


def test_catalogues_report_removed_and_new_types_and_keep_only_breaking() -> None:
    old = {"deposit.paid": event(obj()), "deposit.gone": event(obj())}
    new = {"deposit.paid": event(obj(("id",), plan=PLAN)), "deposit.new": event(obj())}
    changes = compare_catalogues(old, new)
    assert {name: [(c.path, c.effect) for c in found] for name, found in changes.items()} == {
        "deposit.gone": [("$", "removed")],
        "deposit.new": [("$", "optional+")],
        "deposit.paid": [("$.data.amount_fen", "wider"), ("$.data.plan", "optional+")],
    }
    assert set(breaking(changes, "input")) == {"deposit.gone"}
    assert set(breaking(changes, "result")) == {"deposit.gone", "deposit.paid"}


TRACK_RULE = {"if": {"properties": {"track": {"const": "interest"}}, "required": ["track"]},
              "then": {"required": ["interest"]}}
OTHER_RULE = {"if": {"properties": {"track": {"const": "enterprise"}}, "required": ["track"]},
              "then": {"required": ["enterprise"]}}


def test_allof_conditions_added_are_narrower_dropped_wider_edited_both() -> None:
    """A condition across fields ("the block named by `track`") changes which documents
    are valid as much as a bound does, so the gate sees it."""
    plain, one = obj(), {**obj(), "allOf": [TRACK_RULE]}
    two = {**obj(), "allOf": [TRACK_RULE, OTHER_RULE]}
    edited = {**obj(), "allOf": [{**TRACK_RULE, "then": {"required": ["enterprise"]}}]}
    assert summary(plain, one) == [("$.data", "narrower")]
    assert summary(one, two) == [("$.data", "narrower")]
    assert summary(two, one) == [("$.data", "wider")]
    assert sorted(summary(one, edited)) == [("$.data", "narrower"), ("$.data", "wider")]
    assert summary(one, {**obj(), "allOf": [dict(reversed(TRACK_RULE.items()))]}) == []
    [change] = compare(event(plain), event(one))
    assert change.breaking("input") and not change.breaking("result")
    assert "condition added" in str(change)


def test_business_check_annotations_are_no_change() -> None:
    checked = obj(id={**STR, "x-businessChecks": [{"reason": "id_number_invalid",
                                                   "pattern": "^[0-9]{17}[0-9X]$"}]})
    assert compare(event(obj()), event(checked)) == []
