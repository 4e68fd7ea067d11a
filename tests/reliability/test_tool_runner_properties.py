"""Whatever tool calls a model makes, the runner answers each with a result and never raises:
random names, random argument text (JSON or not, objects or not), against the real built-in
tools in a workspace; plus a tool that raises and one that runs past the core's timeout."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joiner.core import Approval, ApprovalRequest, ToolOutput
from joiner.core.events import Event
from joiner.core.messages import ToolCall, ToolSpec
from joiner.core.tool_runner import ToolRunner
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace

NAMES = st.sampled_from(["read_file", "write_file", "edit_file", "list_files", "grep",
                         "run_shell", "Read_File", "", "mcp__x__y"]) | st.text(max_size=12)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12)
                           | st.floats(allow_nan=False),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=8)
OBJECTS = st.fixed_dictionaries({}, optional={
    "path": st.sampled_from(["a.txt", "../out.txt", "/etc/hostname", "new.txt", ""])
    | st.text(max_size=10),
    "content": st.text(max_size=20), "old_string": st.text(max_size=5),
    "new_string": st.text(max_size=5), "pattern": st.text(max_size=5),
    "offset": st.integers(-2, 50), "limit": st.integers(-2, 50),
    "command": st.text(max_size=10)}) | st.dictionaries(st.text(max_size=8), JSON_VALUES,
                                                        max_size=4)
ARGUMENTS = (OBJECTS.map(json.dumps) | JSON_VALUES.map(json.dumps) | st.text(max_size=30)
             | st.just(""))


class EditsOnly:
    """Allows file edits; refuses shell commands (random text is never run as a command)."""

    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(request.kind == "edit", "no shell in this test")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


def test_random_tool_calls_always_get_one_result_each(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("alpha\nbeta\n")
    outside = tmp_path / "out.txt"
    outside.write_text("keep\n")
    tools = builtin_tools(Workspace(root), None)

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(calls=st.lists(st.tuples(NAMES, ARGUMENTS), min_size=1, max_size=4))
    def check(calls: list[tuple[str, str]]) -> None:
        sink = Recorder()
        runner = ToolRunner(tools, EditsOnly(), sink, timeout=10)
        made = [ToolCall(f"c{i}", name, args) for i, (name, args) in enumerate(calls)]
        results = asyncio.run(runner.run_all(made))
        assert [r.tool_call_id for r in results] == [c.id for c in made]
        assert all(r.role == "tool" and isinstance(r.text, str) and r.text for r in results)
        for call, result in zip(made, results, strict=True):
            if call.name not in runner.tools:
                assert result.is_error and "unknown tool" in result.text
        stored = [e for e in sink.events if e.type == "tool_result"]
        assert len(stored) == len(made)
        assert outside.read_text() == "keep\n"

    check()


class Misbehaving:
    kind = "read"

    def __init__(self, name: str, behaviour: str) -> None:
        self.spec = ToolSpec(name, "misbehaves", {"type": "object", "properties": {}})
        self.behaviour = behaviour

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        if self.behaviour == "raise":
            raise KeyError("no such key")
        await asyncio.sleep(30)
        return ToolOutput("never")

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None


async def test_a_tool_that_raises_or_hangs_is_a_tool_error() -> None:
    runner = ToolRunner([Misbehaving("raises", "raise"), Misbehaving("hangs", "hang")],
                        EditsOnly(), Recorder(), timeout=0.2)
    raised, hung = await runner.run_all([ToolCall("1", "raises", "{}"),
                                         ToolCall("2", "hangs", "{}")])
    assert raised.is_error and raised.text == "Error: raises failed: KeyError: 'no such key'"
    assert hung.is_error and hung.text == "Error: hangs did not finish within 0.2s."


async def test_a_failing_sink_raises_as_itself_not_as_a_group() -> None:
    """When the session store cannot record a result, the run stops with that error (the
    runtime turns it into one line), not an ExceptionGroup traceback."""

    class Full(Exception):
        pass

    class FullSink:
        def emit(self, event: Event) -> None:
            if event.type == "tool_result":
                raise Full("disk full")

    runner = ToolRunner([Misbehaving("raises", "raise")], EditsOnly(), FullSink())
    with pytest.raises(Full, match="disk full"):
        await runner.run_all([ToolCall("1", "raises", "{}"), ToolCall("2", "raises", "{}")])
