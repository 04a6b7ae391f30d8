"""docs/asyncapi.yaml: current, valid AsyncAPI 3.0, and true to the catalogue and topology."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from test_schema_export import CATALOGUE_INPUTS, CATALOGUE_RESULTS, input_event, result_event

from workers import topology
from workers.contract import asyncapi

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "asyncapi.yaml"
# The official JSON Schema of AsyncAPI 3.0.0, schemas/3.0.0-without-$id.json of the npm
# package @asyncapi/specs 6.11.1 (Apache-2.0), kept as published.
OFFICIAL = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOC.read_text())
    return loaded


def test_document_is_current() -> None:
    assert DOC.read_text() == asyncapi.render(), (
        f"docs/asyncapi.yaml is stale; regenerate it with `{asyncapi.REGENERATE}`")


def test_document_is_valid_against_the_official_asyncapi_3_schema(doc: dict[str, Any]) -> None:
    validator = jsonschema_rs.Draft7Validator(json.loads(OFFICIAL.read_text()))
    found = [f"{'/'.join(map(str, e.instance_path))}: {e.message[:200]}"
             for e in validator.iter_errors(doc)]
    assert found == []


def test_the_official_schema_does_refuse_a_broken_document(doc: dict[str, Any]) -> None:
    validator = jsonschema_rs.Draft7Validator(json.loads(OFFICIAL.read_text()))
    broken = json.loads(json.dumps(doc))
    del broken["info"]["version"]
    broken["operations"]["receive.order.confirmed"]["action"] = "publish"  # AsyncAPI 2 word
    assert not validator.is_valid(broken)


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    target: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def test_required_fields_and_every_reference_resolves(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    for server in doc["servers"].values():
        assert server["host"] and server["protocol"] == "amqp"
    for operation in doc["operations"].values():
        assert operation["action"] in ("send", "receive") and "$ref" in operation["channel"]
    for ref in set(refs(doc)):
        assert ref.startswith("#/"), ref
        resolve(doc, ref)  # KeyError names a dangling reference


def test_channels_are_the_two_topic_exchanges_durable(doc: dict[str, Any]) -> None:
    channels = doc["channels"]
    assert {c["address"] for c in channels.values()} == {topology.EVENTS, topology.RESULTS}
    for channel in channels.values():
        exchange = channel["bindings"]["amqp"]["exchange"]
        assert (exchange["name"], exchange["type"], exchange["durable"]) == (
            channel["address"], "topic", True)
    assert set(channels["events"]["messages"]) == CATALOGUE_INPUTS
    assert set(channels["results"]["messages"]) == CATALOGUE_RESULTS


def test_the_vhost_is_a_server_variable_as_each_environment_has_its_own(
        doc: dict[str, Any]) -> None:
    publishing = (ROOT / "docs" / "publishing.md").read_text()
    assert "one vhost per environment" in publishing  # what the document must agree with
    [server] = doc["servers"].values()
    assert server["variables"]["vhost"]["default"] == "/"
    assert server["pathname"] == "/{vhost}"
    templated = re.findall(r"{(\w+)}", server["host"] + server["pathname"])
    assert sorted(templated) == sorted(server["variables"]) == ["host", "port", "vhost"]
    for channel in doc["channels"].values():  # no binding fixes one vhost for all
        assert "vhost" not in channel["bindings"]["amqp"]["exchange"]


def test_one_persistent_operation_per_type_routed_by_its_type(doc: dict[str, Any]) -> None:
    seen = set()
    for operation in doc["operations"].values():
        channel_key = operation["channel"]["$ref"].rsplit("/", 1)[1]
        [message] = operation["messages"]
        event_type = message["$ref"].rsplit("/", 1)[1]
        assert message["$ref"] == f"#/channels/{channel_key}/messages/{event_type}"
        assert operation["action"] == ("receive" if channel_key == "events" else "send")
        amqp = operation["bindings"]["amqp"]
        assert (amqp["cc"], amqp["deliveryMode"]) == ([event_type], 2)
        seen.add(event_type)
    assert seen == CATALOGUE_INPUTS | CATALOGUE_RESULTS


def payload_validator(doc: dict[str, Any], event_type: str) -> jsonschema_rs.Draft7Validator:
    payload = doc["components"]["messages"][event_type]["payload"]
    return jsonschema_rs.Draft7Validator({**payload, "components": doc["components"]},
                                         validate_formats=True)


@pytest.mark.parametrize("event_type", sorted(CATALOGUE_INPUTS | CATALOGUE_RESULTS))
def test_payload_accepts_the_real_event_and_refuses_an_unknown_field(
        doc: dict[str, Any], event_type: str) -> None:
    e = input_event(event_type) if event_type in CATALOGUE_INPUTS else result_event(event_type)
    validator = payload_validator(doc, event_type)
    assert [err.message for err in validator.iter_errors(e)] == []
    assert not validator.is_valid({**e, "data": {**e["data"], "surprise": 1}})
    assert not validator.is_valid({**e, "type": "something.else"})
