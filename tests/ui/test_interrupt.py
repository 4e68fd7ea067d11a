"""Esc stops the running turn at once, keeps what was typed, and the session goes on."""

from __future__ import annotations

import time

import pytest
from ui_support import finish_turn, send, wait_for

from joiner.ui.widgets.conversation import AssistantMessage, Notice, UserMessage


@pytest.fixture
def stalled_server(loopback, monkeypatch):
    server = loopback([{"text": "never shown", "stall_s": 20}, {"text": "Second answer."}])
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    return server


async def test_escape_interrupts_at_once_and_keeps_the_draft(make_app, stalled_server) -> None:
    app = make_app([], model="openai/loopback-model", permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first question")
        await wait_for(pilot, lambda: len(stalled_server.requests) == 1)
        await pilot.press(*"half typed")
        started = time.monotonic()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.busy, timeout=5)
        assert time.monotonic() - started < 2  # not the server's 20 s stall
        assert app.prompt.text == "half typed"
        notices = [n.text for n in app.conversation.query(Notice)]
        assert any(text.startswith("Interrupted.") for text in notices)
        session_id = app.session.session_id
        assert app.session.store.get(session_id).status == "interrupted"
        assert "interrupted" in [e.type for e in app.session.store.events(session_id)]

        app.prompt.clear()
        await send(pilot, "go on")
        await finish_turn(pilot)
        assert [a.text for a in app.conversation.query(AssistantMessage)] == ["Second answer."]
        second = stalled_server.requests[1].body["messages"]
        assert [m["content"] for m in second if m["role"] == "user"] == ["first question",
                                                                          "go on"]
        assert [w.text for w in app.conversation.query(UserMessage)] == ["first question",
                                                                          "go on"]


async def test_escape_when_idle_changes_nothing(make_app) -> None:
    app = make_app([{"text": "ok"}], permission_mode="auto")
    async with app.run_test() as pilot:
        await send(pilot, "hello")
        await finish_turn(pilot)
        await pilot.press(*"draft")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.prompt.text == "draft" and not app.query(Notice)


async def test_ctrl_q_during_a_turn_quits_and_records_the_interruption(make_app,
                                                                      stalled_server) -> None:
    app = make_app([], model="openai/loopback-model", permission_mode="auto")
    async with app.run_test() as pilot:
        await send(pilot, "first question")
        await wait_for(pilot, lambda: len(stalled_server.requests) == 1)
        session_id = app.session.session_id
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, timeout=5)
    from joiner.sessions import open_store

    store = open_store()  # the app closed its own on the way out
    try:
        assert store.get(session_id).status == "interrupted"
    finally:
        store.close()
