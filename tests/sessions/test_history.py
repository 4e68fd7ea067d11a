"""Rebuilding the conversation from the log: exactly what the loop had, never bricked."""

from __future__ import annotations

import random

from agent_kit import dicts, note_call, run_agent
from session_events import answer, prompt, result

from joiner.core.events import Event
from joiner.core.messages import Message
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import rebuild_messages, usage_totals
from joiner.sessions.history import INTERRUPTED_RESULT
from joiner.sessions.sqlite_store import SQLiteStore


async def test_a_real_run_is_rebuilt_exactly_and_resumes_with_it(store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "scripted/test")
    first = ScriptedProvider([
        # two calls: the slow one finishes last, so results are logged out of call order
        {"text": "Reading.", "tool_calls": [note_call("slow", 0.05), note_call("fast", 0)]},
        {"text": "All done."},
    ])
    run = await run_agent(store, sid, first, "Summarize the notes")
    assert run.stop_reason == "end_turn"
    logged = [e.data["message"]["text"] for e in store.events(sid, types=["tool_result"])]
    assert logged == ["FAST", "SLOW"]
    assert dicts(rebuild_messages(store.events(sid))) == dicts(run.messages)

    second = ScriptedProvider([{"text": "Again done."}])
    run2 = await run_agent(store, sid, second, "And now?")
    sent = second.requests[0].messages
    assert dicts(sent) == [*dicts(run.messages), Message.user("And now?").to_dict()]
    assert dicts(rebuild_messages(store.events(sid))) == dicts(run2.messages)
    totals = usage_totals(store, sid)
    assert totals["input_tokens"] == 30 and totals["output_tokens"] == 15
    assert abs(totals["cost_usd"] - 0.003) < 1e-12


async def test_the_loop_guard_note_is_rebuilt_too(store: SQLiteStore) -> None:
    sid = store.create_session("/ws", "scripted/test")
    same = {"text": "", "tool_calls": [note_call("same", 0)]}
    provider = ScriptedProvider([same, same, same, same, {"text": "ok, stopping"}])
    run = await run_agent(store, sid, provider, "loop please")
    assert any("[joiner]" in m.text for m in run.messages)
    assert dicts(rebuild_messages(store.events(sid))) == dicts(run.messages)


def test_a_dangling_tool_call_gets_an_interrupted_result() -> None:
    events = [prompt("go"), answer("calling", [("c1", "note", {}), ("c2", "note", {})]),
              result("c2", "note", "TWO")]
    for i, e in enumerate(events, 1):
        e.seq = i
    messages = rebuild_messages(events)
    assert [m.role for m in messages] == ["user", "assistant", "tool", "tool"]
    assert [m.tool_call_id for m in messages[2:]] == ["c1", "c2"]
    assert messages[2].is_error and messages[2].text == INTERRUPTED_RESULT
    assert messages[3].text == "TWO" and not messages[3].is_error


def test_reused_call_ids_pair_with_the_nearest_open_call() -> None:
    # a resumed session whose provider numbers calls from zero again
    events = [prompt("one"), answer("", [("call_0_0", "note", {"text": "a"})]),
              result("call_0_0", "note", "A"), answer("first done"),
              prompt("two"), answer("", [("call_0_0", "note", {"text": "b"})]),
              result("call_0_0", "note", "B"), answer("second done")]
    texts = [(m.role, m.text) for m in rebuild_messages(events)]
    assert texts == [("user", "one"), ("assistant", ""), ("tool", "A"), ("assistant", "first done"),
                     ("user", "two"), ("assistant", ""), ("tool", "B"),
                     ("assistant", "second done")]


def test_events_other_than_the_conversation_are_ignored_and_seq_orders() -> None:
    events = [prompt("p"), Event("request_start", {"turn": 1}),
              Event("assistant_partial", {"text": "cut", "error": "x"}),
              Event("retry", {"attempt": 1}), answer("a"),
              result("ghost", "note", "orphan result of no call")]
    for i, e in enumerate(events, 1):
        e.seq = i
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)
    assert [(m.role, m.text) for m in rebuild_messages(shuffled)] == [("user", "p"),
                                                                    ("assistant", "a")]
