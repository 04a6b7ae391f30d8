"""Compares an event type's old and new JSON Schemas: which changes break its publishers or readers.

Every difference is an effect on the set of valid documents, then judged by who is hurt:

    effect      example                                      input (we read)   result (we write)
    removed     a property is gone                           breaking          breaking
    required+   a new property that must be present          breaking          breaking
    optional+   a new property that may be absent            additive          additive
    changed     type, pattern, format or default replaced    breaking          breaking
    narrower    enum value dropped, bound tightened,         breaking          additive
                optional -> required, null no longer allowed,
                an `allOf` condition added
    wider       enum value added, bound loosened,            additive          breaking
                required -> optional, null now allowed,
                an `allOf` condition dropped

An input's publishers break when we accept less; a result's readers break when we may send
more than they were promised. A new optional property is additive either way by policy
(docs/schema-evolution.md): readers ignore properties they do not know.
Annotations (title, description, examples, `x-businessChecks`) are not compared. Conditions
across properties (`allOf` of `if`/`then`, e.g. "the block named by `track`") are compared
whole: one added is narrower, one dropped wider, one edited both.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["input", "result"]
Effect = Literal["removed", "required+", "optional+", "changed", "narrower", "wider"]

_BREAKING: dict[Role, frozenset[str]] = {
    "input": frozenset({"removed", "required+", "changed", "narrower"}),
    "result": frozenset({"removed", "required+", "changed", "wider"}),
}
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum",
                 "x-maxUtf8Bytes")
_REPLACED = ("pattern", "format", "default")

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    effect: Effect
    what: str

    def breaking(self, role: Role) -> bool:
        return self.effect in _BREAKING[role]

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def _resolve(schema: Schema, root: Schema) -> Schema:
    """Follows local `$ref`s (`#/$defs/Name`, or any `#/a/b` pointer) to the schema."""
    seen = 0
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema, seen = target, seen + 1
        if seen > 50:
            raise ValueError(f"$ref cycle at {schema}")
    return schema


def _kind(schema: Schema) -> str:
    if isinstance(schema.get("type"), str):
        return str(schema["type"])
    if "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        kinds = {_json_kind(v) for v in values}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    if "properties" in schema:
        return "object"
    return "any"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), "any")


def _values(schema: Schema) -> set[str] | None:
    if "const" in schema:
        return {json.dumps(schema["const"], sort_keys=True)}
    if "enum" in schema:
        return {json.dumps(v, sort_keys=True) for v in schema["enum"]}
    return None


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root
        self.changes: list[Change] = []

    def add(self, path: str, effect: Effect, what: str) -> None:
        self.changes.append(Change(path, effect, what))

    def branches(self, schema: Schema, root: Schema) -> list[Schema]:
        schema = _resolve(schema, root)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options is None:
            if isinstance(schema.get("type"), list):  # {"type": ["string", "null"]}
                return [{**schema, "type": t} for t in schema["type"]]
            return [schema]
        return [b for option in options for b in self.branches(option, root)]

    def schema(self, old: Schema, new: Schema, path: str) -> None:
        olds, news = self.branches(old, self.old_root), self.branches(new, self.new_root)
        if len(olds) == len(news) == 1 and _kind(olds[0]) != _kind(news[0]):
            self.add(path, "changed", f"type {_kind(olds[0])} became {_kind(news[0])}")
            return
        by_kind = {_kind(b): b for b in news}
        old_kinds = {_kind(b) for b in olds}
        for branch in olds:
            kind = _kind(branch)
            if kind not in by_kind:
                self.add(path, "narrower", f"no longer accepts {kind}")
            else:
                self.single(branch, by_kind[kind], path)
        for kind in by_kind:
            if kind not in old_kinds:
                self.add(path, "wider", f"now also accepts {kind}")

    def single(self, old: Schema, new: Schema, path: str) -> None:
        self.values(old, new, path)
        self.bounds(old, new, path)
        for key in _REPLACED:
            if key in old and key in new and old[key] != new[key]:
                self.add(path, "changed", f"{key} {old[key]!r} became {new[key]!r}")
            elif key in new and key not in old and key != "default":
                self.add(path, "narrower", f"{key} {new[key]!r} added")
            elif key in old and key not in new and key != "default":
                self.add(path, "wider", f"{key} {old[key]!r} dropped")
        if "properties" in old or "properties" in new or _kind(old) == "object":
            self.properties(old, new, path)
        self.conditions(old, new, path)
        if "items" in old or "items" in new:
            self.schema(old.get("items", {}), new.get("items", {}), f"{path}[]")

    def values(self, old: Schema, new: Schema, path: str) -> None:
        before, after = _values(old), _values(new)
        if before is None and after is None:
            return
        if after is None:
            self.add(path, "wider", f"no longer limited to {sorted(before or ())}")
        elif before is None:
            self.add(path, "narrower", f"now limited to {sorted(after)}")
        else:
            if before - after:
                self.add(path, "narrower", f"no longer accepts {sorted(before - after)}")
            if after - before:
                self.add(path, "wider", f"now also accepts {sorted(after - before)}")

    def conditions(self, old: Schema, new: Schema, path: str) -> None:
        before = {json.dumps(c, sort_keys=True) for c in old.get("allOf", ())}
        after = {json.dumps(c, sort_keys=True) for c in new.get("allOf", ())}
        for condition in sorted(after - before):
            self.add(path, "narrower", f"condition added: {condition}")
        for condition in sorted(before - after):
            self.add(path, "wider", f"condition dropped: {condition}")

    def bounds(self, old: Schema, new: Schema, path: str) -> None:
        for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            lower = key in _LOWER_BOUNDS
            tighter = b is not None and (a is None or (b > a if lower else b < a))
            self.add(path, "narrower" if tighter else "wider", f"{key} {a} became {b}")

    def properties(self, old: Schema, new: Schema, path: str) -> None:
        before, after = old.get("properties", {}), new.get("properties", {})
        was_required, is_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in before:
            where = f"{path}.{name}"
            if name not in after:
                self.add(where, "removed", "property removed")
                continue
            self.schema(before[name], after[name], where)
            if name in was_required and name not in is_required:
                self.add(where, "wider", "no longer required")
            elif name in is_required and name not in was_required:
                self.add(where, "narrower", "now required")
        for name in after:
            if name not in before:
                required = name in is_required
                self.add(f"{path}.{name}", "required+" if required else "optional+",
                         f"new {'required' if required else 'optional'} property")
        self.extra(old.get("additionalProperties", True), new.get("additionalProperties", True),
                   path)

    def extra(self, old: Any, new: Any, path: str) -> None:
        if old is False and new is not False:
            self.add(path, "wider", "now accepts properties it does not list")
        elif new is False and old is not False:
            self.add(path, "narrower", "no longer accepts properties it does not list")
        elif isinstance(old, Mapping) and isinstance(new, Mapping):
            self.schema(old, new, f"{path}.*")
        elif old is True and isinstance(new, Mapping):
            self.add(path, "narrower", "properties it does not list now have a schema")


def compare(old: Schema, new: Schema) -> list[Change]:
    """Every difference between two versions of one schema that a validator would notice."""
    comparison = _Comparison(old, new)
    comparison.schema(old, new, "$")
    return comparison.changes


def compare_catalogues(old: Mapping[str, Schema], new: Mapping[str, Schema]
                       ) -> dict[str, list[Change]]:
    """Per event type (of one role): its changes; a type that disappeared is `removed`, a
    new type `optional+` (nothing published before depended on it)."""
    changes: dict[str, list[Change]] = {}
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes[name] = [Change("$", "removed", "event type removed")]
        elif name not in old:
            changes[name] = [Change("$", "optional+", "new event type")]
        else:
            found = compare(old[name], new[name])
            if found:
                changes[name] = found
    return changes


def breaking(changes: Mapping[str, list[Change]], role: Role) -> dict[str, list[Change]]:
    """Only the breaking changes, per event type."""
    kept = {name: [c for c in found if c.breaking(role)] for name, found in changes.items()}
    return {name: found for name, found in kept.items() if found}
