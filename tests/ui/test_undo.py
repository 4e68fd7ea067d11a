"""/undo and /redo (and the palette's Undo) preview the change set's diff, then apply it."""

from __future__ import annotations

from pathlib import Path

from ui_support import EDIT_STEPS, finish_turn, send, wait_for

from joiner.ui.screens.confirm import ConfirmScreen
from joiner.ui.widgets.conversation import Notice


async def _confirm(pilot, answer: str) -> str:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    diff = pilot.app.screen.diff
    await pilot.press(answer)
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen))
    await pilot.pause(0.1)
    return diff


async def test_undo_previews_then_reverts_and_redo_reapplies(make_app, workspace: Path) -> None:
    calc = workspace / "calc.py"
    app = make_app(EDIT_STEPS, permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await finish_turn(pilot)
        assert calc.read_text().endswith("a + b\n")
        await send(pilot, "/undo")
        diff = await _confirm(pilot, "n")  # cancelled: nothing changes
        assert "a + b" in diff and "a - b" in diff
        assert calc.read_text().endswith("a + b\n")
        await send(pilot, "/undo")
        await _confirm(pilot, "y")
        assert calc.read_text().endswith("a - b\n")
        assert "Undid the changes of 'fix add'" in app.conversation.query(Notice).last().text
        await send(pilot, "/redo")
        await _confirm(pilot, "y")
        assert calc.read_text().endswith("a + b\n")
        await send(pilot, "/redo")
        await wait_for(pilot, lambda: "redo" in app.conversation.query(Notice).last().text)
        assert not isinstance(app.screen, ConfirmScreen)
