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


def export(directory: Path) -> list[Path]:
    """Writes inputs/<type>.json and results/<type>.json; returns the paths."""
    inputs, results = catalogue()
    written = []
    for kind, table, envelope in (("inputs", inputs, Envelope),
                                  ("results", results, ResultEnvelope)):
        folder = directory / kind
        folder.mkdir(parents=True, exist_ok=True)
        for event_type, model in sorted(table.items()):
            path = folder / f"{event_type}.json"
            path.write_text(json.dumps(event_schema(event_type, model, envelope), indent=2,
                                       ensure_ascii=False, sort_keys=True) + "\n")
            written.append(path)
    return written
