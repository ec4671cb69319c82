"""JSON Schema of the routing config, with the condition language generated from the vocabulary."""

from __future__ import annotations

from typing import Any

from leadroute.domain.config import ConfigModel
from leadroute.domain.fields import OPERATOR_HELP, OPERATORS, FieldType, Vocabulary

_SCALAR = {"type": ["string", "number", "boolean"]}


def _operand(op: str, kind: FieldType) -> dict[str, Any]:
    if op in ("in", "not_in"):
        return {"type": "array", "items": _SCALAR}
    if op == "between":
        return {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    if op in ("gt", "gte", "lt", "lte"):
        return {"type": "number"}
    if op in ("exists", "missing"):
        return {"type": "boolean"}
    if op == "matches":
        return {"type": "string", "format": "regex"}
    return {"type": "number"} if kind is FieldType.NUMBER else _SCALAR


def condition_schema(vocabulary: Vocabulary) -> dict[str, Any]:
    ref = {"$ref": "#/$defs/Condition"}
    properties: dict[str, Any] = {
        "all": {
            "type": "array",
            "items": ref,
            "minItems": 1,
            "description": "every condition holds",
        },
        "any": {
            "type": "array",
            "items": ref,
            "minItems": 1,
            "description": "at least one condition holds",
        },
        "not": {**ref, "description": "the condition does not hold"},
        "jsonlogic": {"description": "a JsonLogic expression (jsonlogic.com)"},
        "territory": {
            "description": "the lead is in this territory (or one of a list)",
            "type": ["string", "array"],
        },
        "segment": {
            "description": "the lead's size segment is this one (or one of a list)",
            "type": ["string", "array"],
        },
    }
    for spec in vocabulary.fields.values():
        properties[spec.name] = _field_schema(spec.type, f"{spec.description} ({spec.type.value})")
    return {
        "anyOf": [
            {"type": ["null", "boolean"]},
            {"type": "array", "items": ref, "description": "every condition holds"},
            {
                "type": "object",
                "properties": properties,
                # fields a config declares under `fields:`; `leadroute check` flags unknown ones
                "additionalProperties": _field_schema(
                    FieldType.STRING, "a declared custom field", numeric=True
                ),
            },
        ]
    }


def _field_schema(kind: FieldType, description: str, *, numeric: bool = False) -> dict[str, Any]:
    names = OPERATORS[kind] + (("gt", "gte", "lt", "lte", "between") if numeric else ())
    ops = {op: {**_operand(op, kind), "description": OPERATOR_HELP[op]} for op in names}
    return {
        "description": description,
        "anyOf": [
            _SCALAR,
            {"type": "array", "items": _SCALAR, "description": "is one of"},
            {
                "type": "object",
                "properties": ops,
                "additionalProperties": False,
                "minProperties": 1,
            },
        ],
    }


# Short forms the config accepts: `distribute: pool_id`, `queue: name`, `assign: rep`,
# `hold: reason`, `assign_owner: true`.
_SHORT_FORMS = {
    "assign_owner": {"type": ["boolean", "null", "string"]},
    "distribute": {"type": "string"},
    "assign": {"type": "string"},
    "queue": {"type": "string"},
    "hold": {"type": ["string", "boolean", "null"]},
}


def config_schema(vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """The JSON Schema of a routing config file."""
    vocabulary = vocabulary or Vocabulary()
    schema = ConfigModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadroute routing config"
    defs = schema.setdefault("$defs", {})
    defs["Condition"] = condition_schema(vocabulary)
    for action, short in _SHORT_FORMS.items():
        prop = defs["ActionModel"]["properties"][action]
        prop["anyOf"] = [*prop["anyOf"], short]
    defs["ActionModel"]["minProperties"] = 1
    defs["ActionModel"]["maxProperties"] = 1
    node = defs["NodeModel"]["properties"]
    node["when"] = {"$ref": "#/$defs/Condition", "description": "condition; omitted means always"}
    return schema
