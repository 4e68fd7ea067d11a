"""Far history folded away: the screen is the same at every scroll position folded or not,
scrolling up unfolds it, a new width unfolds it all, a new prompt folds it again."""

from __future__ import annotations

import pytest
from ui_support import finish_turn, send, started, wait_for

from joiner.ui import history_fold
from joiner.ui.widgets.conversation import AssistantMessage, Conversation


def answer(i: int) -> str:
    return (f"## Change {i}\n\nThe helper `step_{i}` now checks its input" + " and more" * (i % 7)
            + f".\n\n- edited `calc.py`\n- ran the tests\n\n```python\ndef step_{i}(a, b):\n"
            "    return a / b\n```\n")


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.fixture
def small_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_fold, "FOLD_AT", 40)
    monkeypatch.setattr(history_fold, "KEEP", 20)
    monkeypatch.setattr(history_fold, "CHUNK", 10)


async def history(pilot, pairs: int) -> Conversation:  # type: ignore[no-untyped-def]
    await started(pilot)
    conversation = pilot.app.conversation
    with conversation.batch():
        for i in range(pairs):
            conversation.add_user(f"Prompt {i}: make step_{i} safe")
            if i % 9 == 4:
                conversation.add_notice(f"note {i}", "warning")
            conversation.end_answer(answer(i))
    answers = list(conversation.query(AssistantMessage))
    await wait_for(pilot, lambda: all(a.settled for a in answers), timeout=60)
    await pilot.pause(0.2)
    return conversation


async def scroll(pilot, conversation: Conversation, y: float) -> str:  # type: ignore[no-untyped-def]
    conversation.scroll_to(y=y, animate=False)
    await pilot.pause(0.05)
    return screen_text(pilot.app)


async def test_the_screen_is_the_same_folded_or_not(make_app, small_fold, monkeypatch) -> None:
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(90, 30)) as pilot:
        monkeypatch.setattr(history_fold, "FOLD_AT", 10**6)  # first, never folded
        conversation = await history(pilot, 60)
        end = conversation.max_scroll_y
        positions = list(range(int(end), -1, -11))
        unfolded = {y: await scroll(pilot, conversation, y) for y in positions}
        await scroll(pilot, conversation, end)
        assert not conversation.fold.folded

        monkeypatch.setattr(history_fold, "FOLD_AT", 40)
        conversation._fold()
        await pilot.pause(0.1)
        shown = conversation.fold.shown()
        assert len(conversation.fold.folded) > 60 and len(shown) >= 20
        assert conversation.max_scroll_y == end and conversation.scroll_y == end
        assert screen_text(app) == unfolded[positions[0]]
        for y in positions:  # up, page by page: unfolded as the view nears the spacer
            assert await scroll(pilot, conversation, y) == unfolded[y], f"at {y}"
        assert not conversation.fold.folded  # at the top: all shown again


async def test_a_jump_to_the_top_unfolds_all_and_a_new_prompt_folds_again(
        make_app, small_fold) -> None:
    app = make_app([{"text": "fine"}], permission_mode="auto")
    async with app.run_test(size=(90, 30)) as pilot:
        conversation = await history(pilot, 40)
        await wait_for(pilot, lambda: bool(conversation.fold.folded))  # once drawn, at the end
        at_end = screen_text(app)
        conversation.scroll_home(animate=False)
        await pilot.pause(0.1)
        assert not conversation.fold.folded and "Prompt 0:" in screen_text(app) != at_end
        conversation.scroll_end(animate=False)
        await pilot.pause(0.05)
        assert not conversation.fold.folded
        await send(pilot, "one more")  # folded as the prompt is added, before its layout
        assert len(conversation.fold.folded) > 40
        await finish_turn(pilot)
        assert conversation.fold.folded
        assert "fine" in screen_text(app) and "one more" in screen_text(app)


async def test_a_new_width_unfolds_everything(make_app, small_fold) -> None:
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(90, 30)) as pilot:
        conversation = await history(pilot, 40)
        await wait_for(pilot, lambda: bool(conversation.fold.folded))
        await pilot.press("ctrl+o")  # the workflow panel takes half the width
        await wait_for(pilot, lambda: not conversation.fold.folded)
        assert all(child.display for child in conversation.fold.shown())
        assert conversation.fold.spacer is not None and not conversation.fold.spacer.display


async def test_a_short_conversation_is_never_folded(make_app) -> None:
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(90, 30)) as pilot:
        conversation = await history(pilot, 20)
        conversation._fold()
        assert not conversation.fold.folded and conversation.fold.spacer is None
