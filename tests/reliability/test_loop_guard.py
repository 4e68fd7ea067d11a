"""Loop detection and its note: one source of truth (the ``loop_note`` event) for the loop and
for a resumed session."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from joiner.core import Approval, ApprovalRequest, ToolOutput
from joiner.core.events import Event
from joiner.core.guards import LoopGuard, with_note
from joiner.core.loop import Agent
from joiner.core.messages import Message, ToolCall, ToolSpec, Usage
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import StoreSink, open_store, rebuild_messages


def turn(text: str, calls: list[tuple[str, str]], results: list[str]) -> tuple[Message,
                                                                                  list[Message]]:
    tool_calls = [ToolCall(f"c{i}", name, args) for i, (name, args) in enumerate(calls)]
    answer = Message("assistant", text, tool_calls)
    return answer, [Message.tool_result(c, r) for c, r in zip(tool_calls, results, strict=True)]


def verdicts(turns: list[tuple[Message, list[Message]]]) -> list[str]:
    guard = LoopGuard()
    return [guard.observe(answer, results) for answer, results in turns]


def test_same_calls_and_results_repeat_whatever_the_text() -> None:
    turns = [turn(f"attempt {n}", [("read_file", '{"path": "a"}')], ["A"]) for n in range(5)]
    assert verdicts(turns) == ["ok", "ok", "warn", "ok", "stop"]


def test_arguments_compare_as_json_values() -> None:
    spellings = ['{"path": "a", "limit": 5}', '{"limit":5,"path":"a"}',
                 '{ "path" : "a", "limit": 5 }']
    turns = [turn("", [("read_file", spellings[n % 3])], ["A"]) for n in range(5)]
    assert verdicts(turns)[-1] == "stop"


def test_the_same_answer_repeats_whatever_the_results() -> None:
    turns = [turn("Running the tests.", [("run_shell", '{"command": "pytest"}')],
                  [f"1 failed in {n}.0{n}s"]) for n in range(5)]
    assert verdicts(turns) == ["ok", "ok", "warn", "ok", "stop"]


def test_progress_is_not_a_loop() -> None:
    reading = [turn("Reading on.", [("read_file", f'{{"path": "a", "offset": {n * 100}}}')],
                    [f"lines {n}"]) for n in range(8)]
    assert set(verdicts(reading)) == {"ok"}
    # a repeat broken by a different step starts the count again
    same = turn("", [("grep", '{"pattern": "x"}')], ["none"])
    other = turn("", [("list_files", "{}")], ["a.py"])
    assert verdicts([same, same, other, same, same]) == ["ok"] * 5


class Note:
    kind = "read"
    spec = ToolSpec("note", "echo", {"type": "object", "properties": {"text": {"type": "string"}}})

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        return ToolOutput(str(arguments.get("text", "")).upper())

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None


class Allow:
    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(True)


class Meter:
    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        return usage.to_dict()

    def total(self) -> dict[str, Any]:
        return {"cost_usd": 0.0}

    def budget_exceeded(self) -> str | None:
        return None


def test_the_note_is_an_event_and_the_rebuilt_conversation_has_it(tmp_path: Path) -> None:
    step = {"text": "", "tool_calls": [{"name": "note", "arguments": {"text": "same"}}]}
    provider = ScriptedProvider([step, step, step, {"text": "I will stop."}])
    with open_store(tmp_path / "sessions.db") as store:
        sid = store.create_session("/ws", "scripted/test")
        agent = Agent(provider, [Note()], Allow(), StoreSink(store, sid), Meter())
        run = asyncio.run(agent.run("loop please"))
        assert run.stop_reason == "end_turn"
        [note] = store.events(sid, types=["loop_note"])
        last_result = store.events(sid, types=["tool_result"])[-1]
        assert note.seq is not None and last_result.seq is not None
        assert note.seq > last_result.seq  # recorded after the result it amends
        assert note.data == {"tool_call_id": "call_2_0", "note": LoopGuard().note}
        # the stored result is as the tool returned it; the note is added on top, once
        assert last_result.data["message"]["text"] == "SAME"
        sent = provider.requests[3].messages[-1]
        assert sent.text == with_note("SAME", LoopGuard().note)
        rebuilt = rebuild_messages(store.events(sid))
        assert [m.to_dict() for m in rebuilt] == [m.to_dict() for m in run.messages]


def test_history_takes_the_note_from_the_log_not_from_a_guard() -> None:
    call = ToolCall("c1", "note", '{"text": "x"}')

    def events(*extra: Event) -> list[Event]:
        listed = [Event("user_prompt", {"message": Message.user("go").to_dict()}),
                  Event("assistant_message", {"message": Message("assistant", "",
                                                                 [call]).to_dict()}),
                  Event("tool_result", {"message": Message.tool_result(call, "X").to_dict()}),
                  *extra]
        for seq, event in enumerate(listed, 1):
            event.seq = seq
        return listed

    plain = rebuild_messages(events())
    assert plain[-1].text == "X"
    noted = rebuild_messages(events(Event("loop_note", {"tool_call_id": "c1", "note": "stop"})))
    assert noted[-1].text == with_note("X", "stop")
    # a note for a call that is not there changes nothing
    stray = rebuild_messages(events(Event("loop_note", {"tool_call_id": "zz", "note": "stop"})))
    assert [m.to_dict() for m in stray] == [m.to_dict() for m in plain]
