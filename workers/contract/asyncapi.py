"""docs/asyncapi.yaml: the AsyncAPI 3.0 document of the wire contract, generated from schema/.

Two channels, one per exchange of docs/rules.md §2.1; one operation per event type whose AMQP
binding names the routing key (`cc`, = the type) and persistent delivery; one message per
type whose payload is the whole CloudEvent (structured mode) with the type's `data`
schema in components/schemas. The JSON Schemas are those of `haodian schema export`.
"""

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from schema.envelope import CONTENT_TYPE, Envelope, ResultEnvelope
from workers import topology
from workers.contract.schema_export import catalogue, event_schema

REGENERATE = "python -m workers.contract.asyncapi docs/asyncapi.yaml"
AMQP_BINDING = "0.3.0"
PERSISTENT = 2

INFO = f"""\
The wire contract of haodian (docs/rules.md §2). Generated from `schema/` by
`{REGENERATE}`; do not edit by hand (a unit test fails while it is stale).

Upstream systems publish CloudEvents 1.0 to the topic exchange `haodian.events` with
routing key = the event's `type`, persistent (delivery mode 2), preferably with publisher
confirms. Structured mode: the body is the whole event as JSON, content type
`application/cloudevents+json` (`application/json` or none is accepted too). Binary mode
(CloudEvents AMQP binding) is accepted as well: the attributes in headers named
`cloudEvents_<attribute>` (or `cloudEvents:<attribute>`), `data` as the JSON body,
content type `application/json`.

`(source, id)` is the idempotency key: the same key twice has its effects once; the same
key with a different event is refused as `conflicting_duplicate`. Unknown fields in
`data` are refused, money is integer fen (`*_fen`), timestamps are RFC 3339 with an
offset. A refused message is kept as received in the dead-letter queue
`haodian.<domain>.dlq` with its reason in the `x-haodian-reason` header, and an
`event.rejected` result is published. Results go to the topic exchange `haodian.results`,
routing key = result type, with `source: haodian`, `subject` = the entity id and
`causationid` = the input's `id`.

Guides: docs/publishing.md (examples in Python, shell and Node), docs/schema-evolution.md
(what may change within a type), docs/reason-codes.md (every reason code).
"""

CHANNELS = {
    "events": (topology.EVENTS, "Upstream events", "receive",
               "Every input event, routing key = its type. Types no domain binds are kept "
               "in `haodian.unroutable` (the exchange's alternate exchange), never dropped."),
    "results": (topology.RESULTS, "haodian's results", "send",
                "Every result event, routing key = its type. Bind your own queue with the "
                "keys you need (`settlement.*`, `#`, ...)."),
}


# One broker per environment, each with its own host and vhost (docs/publishing.md): the
# vhost is a server variable, the AMQP URL's path, as AsyncAPI's own AMQP examples write it.
SERVER: dict[str, Any] = {
    "host": "{host}:{port}", "pathname": "/{vhost}", "protocol": "amqp",
    "protocolVersion": "0.9.1",
    "description": "RabbitMQ; each environment has its own host and vhost, so connect to "
                   "`amqp://user:password@{host}:{port}/{vhost}` with the vhost "
                   "percent-encoded (the default vhost `/` is `%2F`).",
    "variables": {
        "host": {"default": "127.0.0.1"}, "port": {"default": "5672"},
        "vhost": {"default": "/", "description": "The environment's RabbitMQ virtual host "
                  "(its name; `/` is RabbitMQ's default vhost). The exchanges of every "
                  "channel live in it."}}}


def _hoist(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Moves `$defs` into components/schemas (refused if a name means two schemas)."""
    for name, definition in schema.pop("$defs", {}).items():
        if shared.setdefault(name, _rewrite_refs(definition)) != _rewrite_refs(definition):
            raise ValueError(f"two different schemas are named {name!r}")
    hoisted: dict[str, Any] = _rewrite_refs(schema)
    return hoisted


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else
                    _rewrite_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


def _message(event_type: str, model: type[BaseModel], envelope: type[BaseModel],
             shared: dict[str, Any]) -> dict[str, Any]:
    data = _hoist(model.model_json_schema(), shared)
    payload = _hoist(event_schema(event_type, model, envelope), shared)
    payload.pop("$schema", None)  # an AsyncAPI schema object, a superset of JSON Schema
    name = model.__name__
    if shared.setdefault(name, data) != data:
        raise ValueError(f"two different schemas are named {name!r}")
    payload["properties"]["data"] = {"$ref": f"#/components/schemas/{name}"}
    message: dict[str, Any] = {
        "name": event_type, "title": event_type,
        "summary": " ".join(str(data.get("description", event_type)).split()),
        "contentType": CONTENT_TYPE, "payload": payload,
    }
    if envelope is ResultEnvelope:  # our results carry the AMQP `type`; inputs need not
        message["bindings"] = {"amqp": {"messageType": event_type,
                                        "bindingVersion": AMQP_BINDING}}
    return message


def _channel(key: str, types: list[str]) -> dict[str, Any]:
    address, title, _, description = CHANNELS[key]
    return {
        "address": address, "title": title, "description": description,
        "messages": {t: {"$ref": f"#/components/messages/{t}"} for t in types},
        # No `vhost` here: the exchange lives in the environment's vhost, the server
        # variable `vhost` (the binding's own field would fix one for every environment).
        "bindings": {"amqp": {
            "is": "routingKey",
            "exchange": {"name": address, "type": "topic", "durable": True,
                         "autoDelete": False},
            "bindingVersion": AMQP_BINDING}},
    }


def _operation(key: str, event_type: str) -> dict[str, Any]:
    _, _, action, _ = CHANNELS[key]
    amqp: dict[str, Any] = {"cc": [event_type], "deliveryMode": PERSISTENT}
    if action == "receive":
        amqp["ack"] = True
    return {
        "action": action, "channel": {"$ref": f"#/channels/{key}"},
        "title": f"haodian {action}s {event_type}",
        "summary": f"Routing key `{event_type}` on `{CHANNELS[key][0]}`.",
        "messages": [{"$ref": f"#/channels/{key}/messages/{event_type}"}],
        "bindings": {"amqp": {**amqp, "bindingVersion": AMQP_BINDING}},
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as plain data."""
    inputs, results = catalogue()
    shared: dict[str, Any] = {
        "CloudEvent": _hoist(Envelope.model_json_schema(), {}),
        "ResultCloudEvent": _hoist(ResultEnvelope.model_json_schema(), {}),
    }
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for key, table, envelope in (("events", inputs, Envelope),
                                 ("results", results, ResultEnvelope)):
        for event_type, model in sorted(table.items()):
            messages[event_type] = _message(event_type, model, envelope, shared)
            verb = "receive" if key == "events" else "send"
            operations[f"{verb}.{event_type}"] = _operation(key, event_type)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "haodian events", "version": version("haodian"), "description": INFO},
        "defaultContentType": CONTENT_TYPE,
        "servers": {"broker": SERVER},
        "channels": {"events": _channel("events", sorted(inputs)),
                     "results": _channel("results", sorted(results))},
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(shared.items()))},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the descriptions read as written."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render() -> str:
    return yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {REGENERATE}")
    Path(sys.argv[1]).write_text(render())
