"""The call grammar's schemas, the grammar text and parsing a generated call (no model)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joiner.core.messages import ToolSpec
from joiner.providers._local_grammar import (
    LONG_STRING,
    SHORT_STRING,
    CallParseError,
    call_grammar,
    call_schema,
    parse_call,
)
from joiner.providers._local_grounding import Grounding

WRITTEN_LIKE_THE_PROMPT = {"whitespace_flexible": False, "key_separator": ": ",
                           "item_separator": ", "}

# Shaped like the JSON Schema the tools room generates from Pydantic models.
READ = ToolSpec("read_file", "Read a file.", {
    "type": "object", "additionalProperties": False, "required": ["path"],
    "properties": {"path": {"type": "string", "description": "Path."},
                   "offset": {"type": "integer", "minimum": 0},
                   "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}})
EDIT = ToolSpec("edit_file", "Edit.", {
    "type": "object", "required": ["path", "old_string", "new_string"],
    "properties": {"path": {"type": "string"}, "old_string": {"type": "string"},
                   "new_string": {"type": "string"},
                   "replace_all": {"type": "boolean", "default": False}}})
LIST = ToolSpec("list_files", "List.", {
    "type": "object", "properties": {"pattern": {"type": "string"},
                                     "path": {"type": "string"}}})
NESTED = ToolSpec("mcp__db__query", "Query.", {
    "type": "object", "required": ["filter", "mode"],
    "$defs": {"Filter": {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50}}}},
    "properties": {"filter": {"$ref": "#/$defs/Filter"},
                   "mode": {"enum": ["fast", "full"]},
                   "blob": {"type": "object"}}})


def test_required_arguments_are_kept_optional_numbers_and_flags_dropped() -> None:
    schema = call_schema(READ)
    assert schema == {"type": "object", "additionalProperties": False, "required": ["path"],
                      "properties": {"path": {"type": "string", "maxLength": SHORT_STRING}},
                      "x-guidance": WRITTEN_LIKE_THE_PROMPT}
    edit = call_schema(EDIT)
    assert list(edit["properties"]) == ["path", "old_string", "new_string"]
    assert edit["properties"]["new_string"]["maxLength"] == LONG_STRING


def test_json_is_written_like_the_prompt_without_free_whitespace() -> None:
    # with flexible whitespace the model can fill its budget with newlines in the object
    assert call_schema(NESTED)["x-guidance"] == WRITTEN_LIKE_THE_PROMPT
    odd = ToolSpec("odd", "not an object", {"type": "array"})
    assert call_schema(odd)["properties"] == {}


def test_an_optional_path_without_candidates_is_left_out() -> None:
    assert call_schema(LIST)["properties"] == {}
    grounded = call_schema(LIST, Grounding(paths=["utils"]))
    assert grounded["properties"] == {"path": {"enum": ["utils"]}}
    assert grounded["required"] == []


def test_grounded_arguments_become_a_choice_among_candidates() -> None:
    g = Grounding(paths=["greet.py"], words=["GREETING"], texts=["Hello", "Hi"])
    edit = call_schema(EDIT, g)["properties"]
    assert edit["path"] == {"enum": ["greet.py"]}
    assert edit["old_string"] == {"enum": ["Hello", "Hi"]}
    g.pair = ("Hello", "Hi")
    edit = call_schema(EDIT, g)["properties"]
    assert (edit["old_string"], edit["new_string"]) == ({"enum": ["Hello"]}, {"enum": ["Hi"]})


def test_nested_schemas_keep_their_shape_with_bounds() -> None:
    schema = call_schema(NESTED)
    assert schema["required"] == ["filter", "mode"]
    inner = schema["properties"]["filter"]
    assert inner["properties"]["tags"] == {"type": "array", "maxItems": 8, "items": {
        "type": "string", "maxLength": SHORT_STRING}}
    assert inner["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 50}
    assert schema["properties"]["mode"] == {"enum": ["fast", "full"]}


def test_the_grammar_has_one_alternative_per_tool() -> None:
    grammar = call_grammar([READ, EDIT])
    lines = grammar.splitlines()
    assert lines[0] == "%llguidance {}"
    assert lines[1] == "start: call0 | call1"
    assert lines[2].startswith('call0: " read_file " %json {')
    assert json.loads(lines[3].split("%json ", 1)[1]) == call_schema(EDIT)
    with pytest.raises(ValueError):
        call_grammar([])


def test_a_tool_name_with_quotes_stays_one_literal() -> None:
    odd = ToolSpec('we"ird\\name', "x", {"type": "object", "properties": {}})
    line = call_grammar([odd]).splitlines()[2]
    assert line.startswith('call0: " we\\"ird\\\\name " %json')


def test_parse_call_splits_name_and_arguments() -> None:
    assert parse_call(' read_file {"path": "calc.py"}', ["read_file"]) == (
        "read_file", '{"path": "calc.py"}')
    assert parse_call(" list_files {}", ["list_files"]) == ("list_files", "{}")


@pytest.mark.parametrize("text", [" nope {}", ' read_file {"path": ', " read_file [1]", ""])
def test_parse_call_rejects_what_is_not_a_call(text: str) -> None:
    with pytest.raises(CallParseError):
        parse_call(text, ["read_file"])


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20) | st.integers(), max_size=4))
def test_parse_call_round_trips_any_object(args: dict[str, object]) -> None:
    name, raw = parse_call(" t " + json.dumps(args), ["t"])
    assert name == "t" and json.loads(raw) == args
