"""Approvals: the modal shows the diff or the exact command; y / a / n decide, by keyboard."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static
from ui_support import EDIT_STEPS, finish_turn, send, wait_for

from joiner.core.events import APPROVAL
from joiner.ui.screens import approval
from joiner.ui.screens.approval import ApprovalScreen
from joiner.ui.widgets.tool_block import ToolBlock


async def _modal(pilot, timeout: float = 10.0) -> ApprovalScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), timeout)
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.armed)
    return screen


def _body(screen: ApprovalScreen) -> str:
    syntax = screen.query_one("#approval-body Static").content
    return syntax.code


async def test_edit_shows_its_diff_and_allow_once_applies_it(make_app, workspace: Path) -> None:
    app = make_app(EDIT_STEPS)  # default mode: edits ask
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        screen = await _modal(pilot)
        assert screen.request.tool == "edit_file"
        body = _body(screen)
        assert "-    return a - b" in body and "+    return a + b" in body
        assert workspace.joinpath("calc.py").read_text().endswith("a - b\n")  # not yet
        await pilot.press("y")
        await finish_turn(pilot)
        assert workspace.joinpath("calc.py").read_text().endswith("a + b\n")


async def test_deny_refuses_and_the_file_stays(make_app, workspace: Path) -> None:
    app = make_app(EDIT_STEPS)
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await _modal(pilot)
        await pilot.press("n")
        await finish_turn(pilot)
        assert workspace.joinpath("calc.py").read_text().endswith("a - b\n")
        edit = list(app.conversation.query(ToolBlock))[1]
        assert edit.state == "refused"
        steps = {s.label.split()[0]: s.state for s in app.workflow.model.steps if s.kind == "tool"}
        assert steps == {"read_file": "done", "edit_file": "refused"}


async def test_shell_command_is_shown_exactly(make_app) -> None:
    command = "python -c 'print(40 + 2)' && echo done"
    steps = [{"tool_calls": [{"name": "run_shell", "arguments": {"command": command}}]},
             {"text": "ran it"}]
    app = make_app(steps, permission_mode="accept-edits")  # shell still asks
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "run it")
        screen = await _modal(pilot)
        assert _body(screen) == command
        await pilot.press("y")
        await finish_turn(pilot)
        block = app.conversation.query_one(ToolBlock)
        assert block.state == "done" and "42" in str(block._result.content)


async def test_allow_for_session_is_not_asked_again(make_app, workspace: Path) -> None:
    edit = {"tool_calls": [{"name": "write_file",
                            "arguments": {"path": "a.txt", "content": "one\n"}}]}
    again = {"tool_calls": [{"name": "write_file",
                             "arguments": {"path": "b.txt", "content": "two\n"}}]}
    app = make_app([edit, {"text": "wrote a"}, again, {"text": "wrote b"}])
    asked: list[str] = []
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "write a")
        screen = await _modal(pilot)
        asked.append(screen.request.tool)
        await pilot.press("a")
        await finish_turn(pilot)
        await send(pilot, "write b")  # a second prompt: the allowance holds for the session
        await finish_turn(pilot)
        assert not isinstance(app.screen, ApprovalScreen)
    assert asked == ["write_file"]
    assert workspace.joinpath("b.txt").read_text() == "two\n"
    events = list(app.session.store.events(app.session.session_id))
    decisions = [e.data["decision"] for e in events if e.type == APPROVAL]
    assert decisions == ["allow", "allow"]


async def test_keys_typed_as_the_modal_opens_do_not_decide(make_app, workspace: Path,
                                                           monkeypatch) -> None:
    monkeypatch.setattr(approval, "ARM_DELAY", 2.0)  # wide, so a loaded machine keeps it
    app = make_app(EDIT_STEPS)
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "fix add")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("a", "y")  # mid-word, before the modal is armed
        assert isinstance(app.screen, ApprovalScreen)
        assert workspace.joinpath("calc.py").read_text().endswith("a - b\n")
        await wait_for(pilot, lambda: app.screen.armed)
        await pilot.press("escape")  # Esc denies
        await finish_turn(pilot)
        assert workspace.joinpath("calc.py").read_text().endswith("a - b\n")


ECHO_SERVER = Path(__file__).parents[1] / "mcp" / "servers" / "echo_server.py"


async def test_an_mcp_tool_is_named_with_its_server_and_shows_its_arguments(
        make_app, workspace: Path) -> None:
    """An MCP tool that is not read-only asks as a shell command does, in its own words: the
    tool, its server, and the arguments it would get (JSON), never "run a shell command"."""
    import sys

    from joiner.mcp.edit import add_server

    add_server(workspace / ".joiner" / "config.toml", "echo",
               {"command": sys.executable, "args": [str(ECHO_SERVER)]})
    steps = [{"tool_calls": [{"name": "mcp__echo__add", "arguments": {"a": 2, "b": 40}}]},
             {"text": "added"}]
    app = make_app(steps, permission_mode="accept-edits")
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "add them")
        screen = await _modal(pilot, timeout=30)  # the server starts first
        title = str(screen.query_one("#approval-title", Static).content)
        assert title == "Joiner wants to use the MCP tool add of server echo"
        assert "shell" not in title
        assert json.loads(_body(screen)) == {"a": 2, "b": 40}
        assert _body(screen) == '{\n  "a": 2,\n  "b": 40\n}'
        assert not screen.query("#approval-target")
        await pilot.press("y")
        await finish_turn(pilot)
        block = app.conversation.query_one(ToolBlock)
        assert block.state == "done" and "42" in str(block._result.content)


def test_mcp_names_split_into_server_and_tool() -> None:
    assert approval.mcp_tool("mcp__github__create_issue") == ("github", "create_issue")
    assert approval.mcp_tool("mcp__my-db__run__query") == ("my-db", "run__query")
    assert approval.mcp_tool("run_shell") is None
    assert approval.mcp_tool("mcp__only") is None
