"""Slash commands and the Ctrl+P palette run the same command functions."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from ui_support import finish_turn, send, started, wait_for

from joiner.ui.commands import COMMANDS, palette_entries, parse_slash
from joiner.ui.widgets.conversation import Notice


def _notices(app) -> list[str]:
    return [n.text for n in app.conversation.query(Notice)]


async def _run(pilot, line: str) -> None:
    await send(pilot, line)
    await wait_for(pilot, lambda: not any(w.group == "command" and not w.is_finished
                                          for w in pilot.app.workers))
    await pilot.pause(0.05)


async def test_help_lists_every_command(make_app) -> None:
    app = make_app([])
    async with app.run_test(size=(100, 40)) as pilot:
        await _run(pilot, "/help")
        text = _notices(app)[-1]
        assert all(f"/{name}" in text for name in COMMANDS)
        assert "Esc interrupt" in text and "Ctrl+P" in text


async def test_mode_model_and_budget_rebuild_the_session_and_keep_it(make_app) -> None:
    app = make_app([{"text": "one"}, {"text": "two"}], permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        session_id = app.session.session_id
        await _run(pilot, "/mode plan")
        assert app.session.permission_mode == "plan" and app.status.mode == "plan"
        await _run(pilot, "/budget 2.5")
        assert app.session.budget == 2.5 and app.tracker.budget == 2.5
        await _run(pilot, "/mode sideways")
        assert "one of: default, accept-edits, plan, auto" in _notices(app)[-1]
        await _run(pilot, "/model nosuch/thing")
        assert "unknown provider 'nosuch'" in _notices(app)[-1]
        assert app.session.session_id == session_id  # still the same session
        await send(pilot, "second")
        await finish_turn(pilot)
        assert app.session.session_id == session_id
        prompts = [e.data["message"]["text"] for e in app.session.store.events(session_id)
                   if e.type == "user_prompt"]
        assert prompts == ["first", "second"]


async def test_clear_starts_fresh_and_resume_goes_back(make_app) -> None:
    app = make_app([{"text": "one"}, {"text": "two"}], permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        old = app.session.session_id
        await _run(pilot, "/clear")
        assert app.session.session_id is None
        assert [type(w).__name__ for w in app.conversation.children] == ["Notice"]
        await _run(pilot, f"/resume {old[:8]}")
        assert app.session.session_id == old
        texts = [getattr(w, "text", "") for w in app.conversation.children]
        assert texts[:2] == ["first", "one"]
        await _run(pilot, "/resume zzzz")
        assert "zzzz" in _notices(app)[-1]


async def test_fork_switches_to_a_copy(make_app) -> None:
    app = make_app([{"text": "one"}], permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        original = app.session.session_id
        await _run(pilot, "/fork")
        assert app.session.session_id != original
        assert app.session.store.get(app.session.session_id).parent_id == original
        assert "Forked into session" in _notices(app)[-1]


async def test_export_writes_markdown(make_app, workspace: Path) -> None:
    app = make_app([{"text": "The answer."}], permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "a question")
        await finish_turn(pilot)
        await _run(pilot, "/export transcript.md")
        text = workspace.joinpath("transcript.md").read_text()
        assert "a question" in text and "The answer." in text


async def test_unknown_commands_and_commands_needing_a_session_say_so(make_app) -> None:
    app = make_app([])
    async with app.run_test(size=(100, 40)) as pilot:
        await _run(pilot, "/frobnicate")
        assert _notices(app)[-1] == "Unknown command /frobnicate; /help lists them."
        for line in ("/compact", "/undo", "/fork", "/export"):
            await _run(pilot, line)
            assert _notices(app)[-1].startswith("This session has nothing recorded yet")


async def test_palette_runs_the_same_commands(make_app) -> None:
    app = make_app([])
    async with app.run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"permission mode: auto")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.permission_mode == "auto")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"model")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.prompt.text == "/model ")


def test_parse_and_palette_entries() -> None:
    command, arg, name = parse_slash("/model  openai/gpt-5 ")
    assert command is COMMANDS["model"] and arg == "openai/gpt-5" and name == "model"
    assert parse_slash("/nope")[0] is None
    lines = [line for _, _, line in palette_entries()]
    assert "/mode plan" in lines and "/model " in lines and "/undo" in lines
