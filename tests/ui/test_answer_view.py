"""The answer widget: drafts while a stream outruns reading, Markdown at rest, drawn only
where it is seen (scrolling, resizing, the theme), long histories drawn in the background."""

from __future__ import annotations

from ui_support import finish_turn, send, started, wait_for

from joiner.ui.answer_blocks import DRAFT, MARKDOWN
from joiner.ui.widgets.conversation import AssistantMessage


def long_answer(sections: int = 30) -> str:
    return "".join(f"## Step {i}\n\nThe function `add_{i}` now returns the sum of both "
                   "arguments instead of their difference.\n\n- changed `calc.py`\n- ran the "
                   f"tests\n\n```python\ndef add_{i}(a, b):\n    return a + b\n```\n\n"
                   for i in range(1, sections + 1))


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def kinds_in_view(answer: AssistantMessage) -> set[str]:
    view = answer._view()
    assert view is not None
    blocks = answer._column.blocks
    return {blocks[i].key[2] for i in answer._column.span(view.top, view.bottom)
            if blocks[i].key is not None}


async def empty_answer(app, pilot) -> AssistantMessage:  # type: ignore[no-untyped-def]
    """Once the app is up, a new answer in the conversation, fed by the test itself."""
    await started(pilot)
    answer = AssistantMessage()
    await app.conversation.mount(answer)
    await pilot.pause()
    return answer


async def test_a_long_answer_ends_as_markdown_in_every_line(make_app) -> None:
    text = long_answer()
    app = make_app([{"text": text}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "explain")
        await finish_turn(pilot)
        answer = app.conversation.query_one(AssistantMessage)
        await wait_for(pilot, lambda: answer.settled)
        assert answer.source == text and answer.text == text
        column = answer._column
        assert column.height == sum(b.height for b in column.blocks) + len(column.blocks) - 1
        assert column.laid_height == column.height == answer.size.height
        shown = screen_text(app)
        assert "Step 30" in shown and "## Step" not in shown and "```" not in shown
        app.conversation.scroll_home(animate=False)
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Step 1" in shown and "## Step" not in shown and "```" not in shown


async def test_a_fast_stream_is_drafted_then_drawn_as_markdown(make_app) -> None:
    text = long_answer(6)
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        answer = await empty_answer(app, pilot)
        answer.feed(text[: len(text) // 2])  # far more than a frame's worth: a fast stream
        answer.flush()
        await pilot.pause(0.1)
        assert answer._fast and kinds_in_view(answer) == {DRAFT}
        assert "## Step" in screen_text(app)  # the raw text, as it came
        answer.complete(text)
        await wait_for(pilot, lambda: answer.settled)
        assert answer.source == text and kinds_in_view(answer) == {MARKDOWN}
        assert "## Step" not in screen_text(app)


async def test_a_slow_stream_shows_its_growing_piece_as_markdown(make_app) -> None:
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        answer = await empty_answer(app, pilot)
        for piece in ["## Plan\n\n", "First I read **calc.py**", ", then I fix it."]:
            answer.feed(piece)  # a few characters a frame: a reader's pace
            answer.flush()
            await pilot.pause(0.05)
        assert not answer._fast and not answer._done
        assert kinds_in_view(answer) == {MARKDOWN}
        shown = screen_text(app)
        assert "Plan" in shown and "## Plan" not in shown and "**" not in shown


async def test_theme_and_width_changes_redraw_the_lines(make_app) -> None:
    app = make_app([{"text": long_answer(8)}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "explain")
        await finish_turn(pilot)
        answer = app.conversation.query_one(AssistantMessage)
        await wait_for(pilot, lambda: answer.settled)
        width = answer._column.blocks[0].key[0]
        await pilot.press("ctrl+t")  # the light theme: code drawn with the light code theme
        await wait_for(pilot, lambda: answer.settled and answer._dark is False)
        assert {b.key[1] for b in answer._column.blocks} == {False}
        await pilot.resize_terminal(70, 30)
        await wait_for(pilot, lambda: answer.settled and answer._column.blocks[0].key[0] != width)
        strips = app.screen._compositor.render_strips()
        assert max(len(strip.text.rstrip()) for strip in strips) <= 70


async def test_a_long_history_is_shown_at_its_end_and_drawn_in_the_background(make_app) -> None:
    app = make_app([{"text": "hi"}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        conversation = app.conversation
        with conversation.batch():  # as a resumed session is shown
            for i in range(150):
                conversation.add_user(f"prompt {i}")
                conversation.end_answer(long_answer(1).replace("Step 1", f"Answer {i}"))
        answers = list(conversation.query(AssistantMessage))
        assert len(answers) == 150
        await wait_for(pilot, lambda: answers[-1].settled_in_view)
        assert "Answer 149" in screen_text(app)
        await wait_for(pilot, lambda: all(a.settled for a in answers), timeout=60)
        assert conversation.following and not conversation.settler.waiting
        for answer in answers:  # every height is known: scrolling needs no more layout
            assert answer._column.laid_height == answer._column.height
        conversation.scroll_home(animate=False)
        await pilot.pause(0.1)
        assert "Answer 0" in screen_text(app) and "## " not in screen_text(app)


async def test_while_an_answer_streams_its_garbage_passes_run_between_frames(make_app) -> None:
    import gc

    from joiner.ui import gc_policy

    app = make_app([{"text": "hi"}], permission_mode="auto")
    normal = gc.get_threshold()[0]
    passes: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] < 2:
            passes.append(info["generation"])

    async with app.run_test(size=(100, 30)) as pilot:
        answer = await empty_answer(app, pilot)
        gc.callbacks.append(seen)
        try:
            answer.feed(long_answer(3))
            answer.flush()
            assert answer._gc.holding and gc.get_threshold()[0] == gc_policy.STREAM_THRESHOLD
            await wait_for(pilot, lambda: bool(passes))  # a pass of ours, after the frame
            assert answer._gc.holding and gc.get_threshold()[0] == gc_policy.STREAM_THRESHOLD
            answer.complete(long_answer(4))
            await wait_for(pilot, lambda: not answer._gc.holding)
            assert gc.get_threshold()[0] == normal
            second = AssistantMessage()  # a second answer, removed while it streams
            await app.conversation.mount(second)
            second.feed(long_answer(2))
            await wait_for(pilot, lambda: second._gc.holding)
            await second.remove()
            assert not second._gc.holding and gc.get_threshold()[0] == normal
        finally:
            gc.callbacks.remove(seen)
