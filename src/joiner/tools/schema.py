"""Argument models and the JSON Schema made from them (the Pydantic half of ``base``).

A tool's JSON Schema (what the model is told) is generated from its argument model and cleaned of
Pydantic's noise: no ``title`` keys, no ``anyOf [X, null]`` for optional fields (a ``null`` sent
for an optional argument still means "not given"), ``additionalProperties: false``, one
description per field. Validation errors are pydantic ``ValidationError``s, which the core turns
into a tool error for the model.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class ToolArgs(BaseModel):
    """Base of argument models: unknown arguments are refused, ``null`` means "not given"."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            optional = {name for name, f in cls.model_fields.items() if not f.is_required()}
            return {k: v for k, v in data.items() if not (v is None and k in optional)}
        return data


def _clean(node: Any) -> Any:
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        else:
            out[key] = _clean(value)
    variants = out.get("anyOf")
    if isinstance(variants, list) and len(variants) == 2 and {"type": "null"} in variants:
        out.pop("anyOf")
        other = next(v for v in variants if v != {"type": "null"})
        out = {**other, **out}
    if out.get("default", 0) is None:
        out.pop("default")
    return out


@cache
def _cleaned_schema(args: type[BaseModel]) -> dict[str, Any]:
    schema = _clean(args.model_json_schema())
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


def json_schema(args: type[BaseModel]) -> dict[str, Any]:
    """The cleaned JSON Schema of an argument model (a fresh copy: callers may change it)."""
    return copy.deepcopy(_cleaned_schema(args))
