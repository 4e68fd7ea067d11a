"""Constrained tool calls for the embedded model.

A tool call is generated after the prompt's ``Action:`` under an llguidance grammar:
one alternative per tool, ``" NAME " + JSON``, where the JSON follows a simplified copy
of the tool's schema. So every call the tiny model makes names a real tool and parses.

Simplification keeps what a 270M model can fill in sensibly: the required arguments and
an optional ``path``; other optional arguments (``offset``, ``replace_all``, ``glob``,
``timeout``) keep their defaults. Every string gets a ``maxLength``, so a confused model
cannot ramble inside a quoted string forever; arguments that name something may be
restricted to the conversation's candidates (``_local_grounding``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from joiner.core.messages import ToolSpec
from joiner.providers._local_grounding import PATH_KEYS, Grounding

SHORT_STRING = 200  # paths, patterns, commands
LONG_STRING = 1500  # file contents and replacement text
LONG_FIELDS = frozenset({"content", "old_string", "new_string", "text", "body"})
MAX_ARRAY_ITEMS = 8


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict):
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _non_null(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` (Pydantic's ``anyOf: [X, {type: null}]``) becomes ``X``."""
    schema = _resolve(schema, defs)
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        rest = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return {**_resolve(rest[0], defs), **merged}
    return schema


def _value_schema(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    schema = _non_null(schema, defs)
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return {"enum": schema["enum"]}
    kind = schema.get("type")
    if kind == "string":
        return {"type": "string",
                "maxLength": LONG_STRING if name in LONG_FIELDS else SHORT_STRING}
    if kind == "integer":
        out: dict[str, Any] = {"type": "integer"}
        for key in ("minimum", "maximum"):
            if isinstance(schema.get(key), int):
                out[key] = schema[key]
        return out
    if kind in ("number", "boolean"):
        return {"type": kind}
    if kind == "array":
        items = schema.get("items")
        item = _value_schema(name, items, defs) if isinstance(items, dict) else {"type": "string"}
        return {"type": "array", "items": item, "maxItems": MAX_ARRAY_ITEMS}
    if kind == "object" and isinstance(schema.get("properties"), dict):
        return _object_schema(schema, defs, top=False)
    return {"type": "string", "maxLength": SHORT_STRING}  # unknown shapes: a bounded string


def _is_string(schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    return _non_null(schema, defs).get("type") == "string"


def _object_schema(schema: dict[str, Any], defs: dict[str, Any], *, top: bool,
                   grounding: Grounding | None = None) -> dict[str, Any]:
    """At the top level only the required arguments and an optional path are kept; an
    argument with grounded candidates becomes an enum of them (see ``_local_grounding``);
    an optional one without candidates is left out."""
    props: dict[str, Any] = schema.get("properties") or {}
    required = [r for r in schema.get("required") or [] if r in props]
    kept: dict[str, Any] = {}
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        candidates = (grounding.for_key(name, name in required)
                      if grounding is not None and top else [])
        optional_path = name in PATH_KEYS and _is_string(prop, defs)
        if name not in required and top and not (optional_path and candidates):
            continue
        kept[name] = {"enum": candidates} if candidates and _is_string(prop, defs) \
            else _value_schema(name, prop, defs)
    return {"type": "object", "properties": kept,
            "required": [r for r in required if r in kept], "additionalProperties": False}


def call_schema(spec: ToolSpec, grounding: Grounding | None = None) -> dict[str, Any]:
    """The JSON Schema the arguments of a call to ``spec`` are generated under."""
    params = spec.parameters if isinstance(spec.parameters, dict) else {}
    defs = params.get("$defs") or {}
    if params.get("type", "object") != "object":
        params, defs = {"type": "object", "properties": {}}, {}
    schema = _object_schema(params, defs, top=True, grounding=grounding)
    # JSON as the prompt writes it: without this, a grammar allows any whitespace between
    # tokens, and the model can fill its whole budget with newlines inside the object
    schema["x-guidance"] = {"whitespace_flexible": False, "key_separator": ": ",
                            "item_separator": ", "}
    return schema


def call_grammar(tools: Sequence[ToolSpec], grounding: Grounding | None = None) -> str:
    """An llguidance grammar for the text after ``Action:``: `` NAME {json}``."""
    if not tools:
        raise ValueError("a call grammar needs at least one tool")
    lines = ["%llguidance {}", "start: " + " | ".join(f"call{i}" for i in range(len(tools)))]
    for i, spec in enumerate(tools):
        schema = call_schema(spec, grounding)
        # json.dumps escapes quotes and backslashes, so any tool name is a safe literal
        lines.append(f"call{i}: {json.dumps(' ' + spec.name + ' ')} "
                     f"%json {json.dumps(schema, separators=(',', ':'))}")
    return "\n".join(lines) + "\n"


class CallParseError(ValueError):
    """Generated text is not ``NAME {json object}`` for one of the tools."""


def parse_call(text: str, tool_names: Sequence[str]) -> tuple[str, str]:
    """Split `` NAME {json}`` into the tool's name and its arguments as compact JSON."""
    name, _, raw = text.strip().partition(" ")
    if name not in tool_names:
        raise CallParseError(f"unknown tool {name!r}")
    try:
        args = json.loads(raw)
    except json.JSONDecodeError as err:
        raise CallParseError(f"arguments are not JSON: {err}") from None
    if not isinstance(args, dict):
        raise CallParseError("arguments are not a JSON object")
    return name, json.dumps(args, ensure_ascii=False)
