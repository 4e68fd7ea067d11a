from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, ValidationError
from tool_support import make_tools

from joiner.core import Tool
from joiner.tools import Limits, ToolArgs, define_tool, json_schema


def walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *[d for v in node.values() for d in walk(v)]]
    if isinstance(node, list):
        return [d for v in node for d in walk(v)]
    return []


def test_builtin_schemas_are_clean(tmp_path: Path) -> None:
    tools = make_tools(tmp_path)
    assert list(tools) == ["read_file", "write_file", "edit_file", "list_files", "grep",
                           "run_shell"]
    for tool in tools.values():
        schema = tool.spec.parameters
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        for node in walk(schema):
            assert "title" not in node
            assert "anyOf" not in node
            assert node.get("default", 0) is not None
        for name, prop in schema["properties"].items():
            assert prop.get("description"), (tool.spec.name, name)
            assert prop["type"] in ("string", "integer", "number", "boolean")
    assert tools["read_file"].spec.parameters["required"] == ["path"]
    assert tools["edit_file"].spec.parameters["required"] == ["path", "old_string", "new_string"]
    assert "required" not in tools["list_files"].spec.parameters
    kinds = {name: tool.kind for name, tool in tools.items()}
    assert kinds == {"read_file": "read", "write_file": "edit", "edit_file": "edit",
                     "list_files": "read", "grep": "read", "run_shell": "execute"}


def test_every_builtin_satisfies_the_core_protocol(tmp_path: Path) -> None:
    for tool in make_tools(tmp_path).values():
        assert isinstance(tool, Tool)


def test_a_property_named_title_is_kept() -> None:
    class Args(ToolArgs):
        title: str = Field(description="The title.")

    assert json_schema(Args)["properties"] == {
        "title": {"type": "string", "description": "The title."}}


def test_schemas_are_copies(tmp_path: Path) -> None:
    first = make_tools(tmp_path)["read_file"]
    first.spec.parameters["properties"]["path"]["description"] = "changed"
    assert make_tools(tmp_path)["read_file"].spec.parameters["properties"]["path"][
        "description"] != "changed"


async def test_define_tool_from_a_function() -> None:
    class EchoArgs(ToolArgs):
        text: str = Field(description="What to echo.")
        times: int = Field(1, ge=1, description="How often.")

    @define_tool("echo", "Echo the text.", "read", EchoArgs)
    async def echo(args: EchoArgs) -> str:
        return args.text * args.times

    assert isinstance(echo, Tool)
    assert echo.spec.name == "echo" and echo.kind == "read"
    assert echo.spec.parameters["properties"]["times"] == {
        "default": 1, "description": "How often.", "minimum": 1, "type": "integer"}
    assert (await echo.run({"text": "ab", "times": 2})).text == "abab"
    with pytest.raises(ValidationError):
        await echo.run({"text": "ab", "times": 0})
    with pytest.raises(ValidationError):
        await echo.run({"text": "ab", "loud": True})
    assert await echo.preview({"text": "x"}) is None


def test_limits_from_config() -> None:
    assert Limits.from_mapping(None) == Limits()
    limits = Limits.from_mapping({"read_max_lines": 10, "shell_timeout": 5})
    assert limits.read_max_lines == 10 and limits.shell_timeout == 5.0
    with pytest.raises(ValueError, match="unknown tool limit 'read_max_line'"):
        Limits.from_mapping({"read_max_line": 10})
    for bad in (0, -1, "10", True, 1.5):
        with pytest.raises(ValueError, match="read_max_lines"):
            Limits.from_mapping({"read_max_lines": bad})
