"""A small JSON Schema (2020-12) checker for the keywords pydantic emits.

jsonschema is not a dependency of the project; this covers exactly the keywords found in
the exported files, and `unsupported_keywords` lets a test fail when a new one appears
instead of silently ignoring a constraint.
"""

import re
from datetime import date, datetime
from typing import Any

CHECKED = frozenset({
    "type", "properties", "required", "additionalProperties", "const", "enum", "anyOf",
    "$ref", "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum",
    "exclusiveMinimum", "format", "maximum", "oneOf", "x-maxUtf8Bytes", "allOf", "if", "then",
    "else"})
# `x-businessChecks` documents the rules' checks; like `description`, it validates nothing.
ANNOTATIONS = frozenset({"title", "description", "default", "$schema", "$defs",
                         "x-businessChecks"})
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def unsupported_keywords(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key not in CHECKED | ANNOTATIONS:
                found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= unsupported_keywords(sub)
            elif key not in ("const", "enum", "default", "required") and key not in ANNOTATIONS:
                found |= unsupported_keywords(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= unsupported_keywords(item)
    return found


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "null": type(None),
                              "object": dict, "array": list}[name])


def _format_ok(value: str, fmt: str) -> bool:
    try:
        if fmt == "date":
            date.fromisoformat(value)
            return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        if fmt == "date-time":
            return bool(_RFC3339.match(value)) and datetime.fromisoformat(value) is not None
    except ValueError:
        return False
    raise AssertionError(f"format {fmt!r} is not checked here")


def errors(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
           path: str = "$") -> list[str]:
    """Every violation of `schema` by `instance`, as 'path: what'."""
    root = root if root is not None else schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return errors(instance, root["$defs"][name], root, path)
    if "anyOf" in schema:
        if all(errors(instance, option, root, path) for option in schema["anyOf"]):
            return [f"{path}: matches none of anyOf"]
        return []
    if "oneOf" in schema:
        matching = [o for o in schema["oneOf"] if not errors(instance, o, root, path)]
        return [] if len(matching) == 1 else [f"{path}: matches {len(matching)} of oneOf"]
    found: list[str] = []
    if "type" in schema and not _is_type(instance, schema["type"]):
        return [f"{path}: not of type {schema['type']}"]
    for part in schema.get("allOf", []):
        found += errors(instance, part, root, path)
    if "if" in schema:
        branch = "else" if errors(instance, schema["if"], root, path) else "then"
        found += errors(instance, schema.get(branch, {}), root, path)
    if "const" in schema and instance != schema["const"]:
        found.append(f"{path}: is not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        found.append(f"{path}: not one of {schema['enum']}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            found.append(f"{path}: too short")
        if len(instance) > schema.get("maxLength", len(instance)):
            found.append(f"{path}: too long")
        if len(instance.encode()) > schema.get("x-maxUtf8Bytes", len(instance.encode())):
            found.append(f"{path}: too many bytes")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            found.append(f"{path}: does not match {schema['pattern']}")
        if "format" in schema and not _format_ok(instance, schema["format"]):
            found.append(f"{path}: not a {schema['format']}")
    if _is_type(instance, "number"):
        if "minimum" in schema and instance < schema["minimum"]:
            found.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            found.append(f"{path}: above {schema['maximum']}")
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            found.append(f"{path}: not above {schema['exclusiveMinimum']}")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            found.append(f"{path}: too few items")
        if len(instance) > schema.get("maxItems", len(instance)):
            found.append(f"{path}: too many items")
        for i, item in enumerate(instance):
            found += errors(item, schema.get("items", {}), root, f"{path}[{i}]")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        found += [f"{path}: {name} is required" for name in schema.get("required", [])
                  if name not in instance]
        for name, value in instance.items():
            if name in properties:
                found += errors(value, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {name} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(value, schema["additionalProperties"], root, f"{path}.{name}")
    return found
