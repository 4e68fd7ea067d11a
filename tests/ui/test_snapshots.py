"""Snapshots (pytest-textual-snapshot) of the main screen, palette, approval modal, workflow
view and replay screen, on real scripted runs. Update after a deliberate change of look with
``pytest tests/ui/test_snapshots.py --snapshot-update`` and review the SVGs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ui_support import EDIT_STEPS, finish_turn, send, wait_for

from joiner.runtime import RunOptions
from joiner.ui.app import JoinerApp
from joiner.ui.replay import ReplayApp
from joiner.ui.screens.approval import ApprovalScreen
from joiner.ui.screens.replay import load_timeline

FIXED = Path("/tmp/joiner-ui-snapshots")  # the paths shown on screen must not vary
SESSION = "5e55104d"


@pytest.fixture
def snap_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.rmtree(FIXED, ignore_errors=True)
    (FIXED / "ws" / ".git").mkdir(parents=True)
    (FIXED / "ws" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    monkeypatch.setenv("JOINER_HOME", str(tmp_path / "home"))
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "NO_COLOR"):
        monkeypatch.delenv(key, raising=False)

    def make(steps, **options) -> JoinerApp:
        script = FIXED / "s.json"
        script.write_text(json.dumps(steps))
        return JoinerApp(RunOptions(model=f"scripted/{script}", cwd=FIXED / "ws", **options))

    yield make
    shutil.rmtree(FIXED, ignore_errors=True)


def _steady(app: JoinerApp) -> None:
    """Pin what changes from run to run: the session's random id, cursor blinks, and the
    workflow's durations (milliseconds that vary with the machine's load)."""
    for area in app.screen.query("Input, TextArea"):
        area.cursor_blink = False
    if app.session is not None and app.session.session_id is not None:
        app.status.session_id = SESSION
        app.status.redraw()
    for i, step in enumerate(app.workflow.model.steps):
        step.started, step.ended, step.duration_ms = 1e9 + i, 1e9 + i + 0.5, None
    app.workflow.redraw()


async def _turn(pilot, text: str = "fix add") -> None:
    await send(pilot, text)
    await finish_turn(pilot)
    _steady(pilot.app)
    await pilot.pause(0.1)


def test_main_screen_80x24(snap_app, snap_compare) -> None:
    app = snap_app(EDIT_STEPS, permission_mode="auto", max_budget_usd="1")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_turn)


def test_palette(snap_app, snap_compare) -> None:
    async def open_palette(pilot) -> None:
        await _turn(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"mode")
        await pilot.pause(0.6)
        _steady(pilot.app)

    assert snap_compare(snap_app(EDIT_STEPS, permission_mode="auto"), terminal_size=(100, 30),
                        run_before=open_palette)


def test_approval_modal(snap_app, snap_compare) -> None:
    async def ask(pilot) -> None:
        _steady(pilot.app)
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
        await wait_for(pilot, lambda: pilot.app.screen.armed)
        _steady(pilot.app)

    assert snap_compare(snap_app(EDIT_STEPS), terminal_size=(100, 30), run_before=ask)


def test_workflow_view(snap_app, snap_compare) -> None:
    async def show(pilot) -> None:
        await _turn(pilot)
        await pilot.press("ctrl+o")
        _steady(pilot.app)
        await pilot.pause(0.1)

    assert snap_compare(snap_app(EDIT_STEPS, permission_mode="auto"), terminal_size=(120, 30),
                        run_before=show)


def test_replay_screen(snap_app, snap_compare) -> None:
    import asyncio

    app = snap_app(EDIT_STEPS, permission_mode="auto")

    async def record() -> None:
        async with app.run_test() as pilot:
            await _turn(pilot)

    asyncio.run(record())
    timeline = load_timeline(app.session.store, app.session.session_id)
    timeline.session_id = SESSION + "0" * 24
    for i, event in enumerate(timeline.events):  # a steady clock: one event every 0.5 s
        event.time = 1_700_000_000 + i / 2
        if "duration_ms" in event.data:
            event.data["duration_ms"] = 500.0
    timeline.engine.start = timeline.events[0].time

    async def step(pilot) -> None:
        for _ in range(len(timeline.events) - 3):
            await pilot.press("right")
        await pilot.pause(0.1)

    assert snap_compare(ReplayApp(timeline), terminal_size=(120, 30), run_before=step)
