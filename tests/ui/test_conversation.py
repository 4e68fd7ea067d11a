"""The conversation: prompt input, streamed Markdown, tool blocks, errors — on the real runtime."""

from __future__ import annotations

from pathlib import Path

from ui_support import EDIT_STEPS, finish_turn, send, started

from joiner.ui.widgets.conversation import AssistantMessage, Notice, UserMessage
from joiner.ui.widgets.prompt_input import PromptHistory
from joiner.ui.widgets.tool_block import ToolBlock


async def test_prompt_streams_answer_and_tools(make_app, workspace: Path) -> None:
    app = make_app(EDIT_STEPS, permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await finish_turn(pilot)
        kinds = [type(w).__name__ for w in app.conversation.children]
        assert kinds == ["UserMessage", "AssistantMessage", "ToolBlock", "ToolBlock",
                         "AssistantMessage"]
        user = app.conversation.query_one(UserMessage)
        assert user.text == "fix add"
        answers = list(app.conversation.query(AssistantMessage))
        assert answers[-1].text == EDIT_STEPS[2]["text"]
        assert answers[-1].source == EDIT_STEPS[2]["text"]  # what the segments show
        blocks = list(app.conversation.query(ToolBlock))
        assert [b.tool_name for b in blocks] == ["read_file", "edit_file"]
        assert all(b.state == "done" for b in blocks)
        assert "+1 -1" in str(blocks[1].title)
        assert workspace.joinpath("calc.py").read_text().endswith("a + b\n")
        assert app.prompt.text == ""  # the sent prompt left the input


async def test_deltas_are_batched_not_rendered_per_token(make_app) -> None:
    long_text = "".join(f"word{i} " for i in range(3000)) + "\n\nThe end.\n"
    app = make_app([{"text": long_text}], permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "write a lot")
        await finish_turn(pilot)
        answer = app.conversation.query_one(AssistantMessage)
        assert answer.source == long_text
        deltas = len(long_text) // 16  # the scripted provider's chunk size
        assert answer.flushes < deltas / 20, (answer.flushes, deltas)


async def test_tool_block_expands_to_show_arguments_result_and_diff(make_app) -> None:
    app = make_app(EDIT_STEPS, permission_mode="auto")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await finish_turn(pilot)
        edit = list(app.conversation.query(ToolBlock))[1]
        assert edit.collapsed
        edit.collapsed = False
        await pilot.pause()
        assert edit._diff.display and edit._result.display
        diff = edit._diff.content
        assert "+    return a + b" in diff.code and diff.lexer.name == "Diff"
        assert "Edited calc.py" in str(edit._result.content)
        assert "old_string" in str(edit._arguments.content)


async def test_provider_error_is_a_calm_notice_and_the_app_goes_on(make_app) -> None:
    app = make_app([{"text": "one answer"}], permission_mode="auto")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        await send(pilot, "second")  # the script has no second answer: a provider error
        await finish_turn(pilot)
        notices = [n for n in app.conversation.query(Notice) if n.level == "error"]
        assert notices and "no more answers" in notices[-1].text
        assert not app.busy and app.is_running


async def test_enter_sends_ctrl_j_adds_a_newline(make_app) -> None:
    app = make_app([{"text": "ok"}], permission_mode="auto")
    async with app.run_test() as pilot:
        await started(pilot)
        app.prompt.focus()
        await pilot.press("a", "ctrl+j", "b")
        assert app.prompt.text == "a\nb"
        await pilot.press("enter")
        await finish_turn(pilot)
        assert app.conversation.query_one(UserMessage).text == "a\nb"


async def test_up_and_down_walk_the_history_keeping_the_draft(make_app) -> None:
    app = make_app([{"text": "one"}, {"text": "two"}], permission_mode="auto")
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await finish_turn(pilot)
        await send(pilot, "second")
        await finish_turn(pilot)
        await pilot.press("d", "r")
        await pilot.press("up")
        assert app.prompt.text == "second"
        await pilot.press("up")
        assert app.prompt.text == "first"
        await pilot.press("down", "down")
        assert app.prompt.text == "dr"


def test_prompt_history_model() -> None:
    history = PromptHistory(limit=3)
    for text in ["a", "b", "b", "c", "d"]:
        history.add(text)
    assert history.entries == ["b", "c", "d"]
    assert history.previous("draft") == "d"
    assert history.previous("d") == "c"
    assert history.previous("c") == "b"
    assert history.previous("b") is None
    assert history.next() == "c"
    assert history.next() == "d"
    assert history.next() == "draft"
    assert history.next() is None
