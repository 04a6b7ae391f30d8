"""JSON Schema files, one per event type, generated from schema/."""

import importlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schema import runtime as runtime_schema
from schema.envelope import Envelope, ResultEnvelope
from workers.registry import DOMAIN_NAMES

RUNTIME_RESULTS: dict[str, type[BaseModel]] = dict(runtime_schema.RESULTS)


def catalogue() -> tuple[dict[str, type[BaseModel]], dict[str, type[BaseModel]]]:
    """(inputs, results): event type -> data model, over every domain and the runtime."""
    inputs: dict[str, type[BaseModel]] = {}
    results: dict[str, type[BaseModel]] = dict(RUNTIME_RESULTS)
    for name in DOMAIN_NAMES:
        module = importlib.import_module(f"schema.{name}")
        inputs.update(module.INPUTS)
        results.update(module.RESULTS)
    return inputs, results


def event_schema(event_type: str, model: type[BaseModel], envelope: type[BaseModel]
                 ) -> dict[str, Any]:
    schema = envelope.model_json_schema()
    data_schema = model.model_json_schema()
    defs = {**schema.pop("$defs", {}), **data_schema.pop("$defs", {})}
    schema["properties"]["type"] = {"const": event_type, "type": "string"}
    schema["properties"]["data"] = data_schema
    schema["required"] = sorted(set(schema.get("required", [])) | {"data", "type"})
    schema["title"] = event_type
    schema["description"] = f"A `{event_type}` CloudEvent (JSON structured mode)."
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    if defs:
        schema["$defs"] = defs
    return schema


KINDS = ("inputs", "results")
REGENERATE = "haodian schema export docs/schemas"


def schemas() -> dict[str, dict[str, dict[str, Any]]]:
    """{"inputs": {type: schema}, "results": {type: schema}}, as `export` writes them."""
    inputs, results = catalogue()
    return {kind: {event_type: event_schema(event_type, model, envelope)
                   for event_type, model in sorted(table.items())}
            for kind, table, envelope in (("inputs", inputs, Envelope),
                                          ("results", results, ResultEnvelope))}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export(directory: Path) -> list[Path]:
    """Writes inputs/<type>.json and results/<type>.json, removes the files of types that
    no longer exist there; returns the paths written."""
    written = []
    for kind, table in schemas().items():
        folder = directory / kind
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.json"):
            if stale.stem not in table:
                stale.unlink()
        for event_type, schema in table.items():
            path = folder / f"{event_type}.json"
            path.write_text(render(schema))
            written.append(path)
    return written
