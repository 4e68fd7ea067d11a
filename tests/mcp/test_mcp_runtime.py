"""A whole run (``runtime.Session``) with an MCP server and AGENTS.md, on the scripted provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp_kit import echo_table

from joiner.core import Approval, ApprovalRequest
from joiner.core.events import TOOL_RESULT, Event
from joiner.mcp.edit import add_server
from joiner.runtime import RunOptions, Session


class Events:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def results(self) -> list[dict[str, Any]]:
        return [e.data["message"] for e in self.events if e.type == TOOL_RESULT]


def configure(repo: Path, servers: dict[str, dict], steps: list[dict]) -> Path:
    for name, table in servers.items():
        add_server(repo / ".joiner" / "config.toml", name, table)
    script = repo / "steps.json"
    script.write_text(json.dumps(steps))
    return script


def call(name: str, **arguments: Any) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


async def test_the_model_gets_the_servers_answer_and_agents_md(repo: Path, home: Path) -> None:
    (home / "AGENTS.md").write_text("User rule: answer in English.")
    (repo / "AGENTS.md").write_text("Project rule: codeword PELICAN-42.")
    script = configure(repo, {"echo": echo_table()}, [
        call("mcp__echo__echo", text="from the model"),
        call("mcp__echo__add", a=1, b=2),
        {"text": "done"},
    ])
    lines: list[str] = []
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo), warn=lines.append)
    sink = Events()
    result = await session.run("use the echo server", [sink])
    assert result.stop_reason == "end_turn" and lines == []

    first, second, third = session.provider.requests
    assert {"mcp__echo__echo", "mcp__echo__add", "read_file"} <= {t.name for t in first.tools}
    assert f"# AGENTS.md: {home / 'AGENTS.md'}\n\nUser rule" in first.system
    project_rule = f"# AGENTS.md: {repo / 'AGENTS.md'}\n\nProject rule: codeword PELICAN-42."
    assert project_rule in first.system
    echo_result = second.messages[-1]
    assert (echo_result.role, echo_result.text, echo_result.is_error) == (
        "tool", "from the model", False)
    # not read-only: in the default mode a headless run refuses it, as it refuses a file write
    refused = third.messages[-1]
    assert refused.is_error and refused.text.startswith("Refused")
    assert sink.results()[0]["text"] == "from the model"


async def test_plan_mode_offers_read_only_mcp_tools_only(repo: Path, home: Path) -> None:
    script = configure(repo, {"echo": echo_table()}, [{"text": "planned"}])
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo, permission_mode="plan"))
    await session.run("plan", [])
    names = {t.name for t in session.provider.requests[0].tools}
    assert "mcp__echo__echo" in names and "mcp__echo__add" not in names


async def test_a_broken_server_is_a_warning_and_the_run_goes_on(repo: Path, home: Path) -> None:
    script = configure(repo, {"echo": echo_table(), "missing": {"command": "no-such-cmd-xyz"}}, [
        call("mcp__echo__crash"),
        call("mcp__echo__echo", text="anyone?"),
        {"text": "finished anyway"},
    ])
    lines: list[str] = []
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo, permission_mode="auto"),
                      warn=lines.append)
    result = await session.run("crash it", [])
    assert (result.stop_reason, result.result) == ("end_turn", "finished anyway")
    assert len(lines) == 2
    assert "'missing' did not start: command not found: no-such-cmd-xyz" in lines[0]
    assert "'echo' stopped during the run" in lines[1]
    crashed = session.provider.requests[1].messages[-1]
    after = session.provider.requests[2].messages[-1]
    assert crashed.is_error and "MCP server 'echo' stopped" in crashed.text
    assert after.is_error and "is not running" in after.text


async def test_secrets_are_not_stored_in_the_session(repo: Path, home: Path) -> None:
    secret = "ghp_0123456789abcdefSECRET"
    script = configure(repo, {"echo": echo_table("--exit", env={"ECHO_TOKEN": secret})},
                       [{"text": "ok"}])
    lines: list[str] = []
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo), warn=lines.append)
    await session.run("hi", [])
    assert lines and all(secret not in line for line in lines)
    stored = json.dumps([e.data for e in session.store.events(session.session_id)], default=str)
    assert secret not in stored and secret not in session.provider.requests[0].system


async def test_accept_edits_refuses_a_not_read_only_mcp_tool_headless(repo: Path,
                                                                      home: Path) -> None:
    """An MCP tool that is not read-only may do anything: accept-edits lets file edits through,
    not it (a headless run has no one to ask, so it is refused with a way out)."""
    script = configure(repo, {"echo": echo_table()}, [
        call("mcp__echo__add", a=1, b=2), call("mcp__echo__echo", text="still here"),
        {"text": "done"}])
    session = Session(RunOptions(model=f"scripted/{script}", cwd=repo,
                                 permission_mode="accept-edits"))
    await session.run("add", [])
    refused = session.provider.requests[1].messages[-1]
    assert refused.is_error
    assert refused.text == (
        "Refused: the permission mode 'accept-edits' does not allow calls of the MCP tool "
        "mcp__echo__add in a headless run (use --permission-mode auto).")
    read_only = session.provider.requests[2].messages[-1]
    assert (read_only.text, read_only.is_error) == ("still here", False)


async def test_a_not_read_only_mcp_tool_goes_through_the_approver(repo: Path,
                                                                  home: Path) -> None:
    asked: list[tuple[str, str, str]] = []

    async def ask(request: ApprovalRequest) -> Approval:
        asked.append((mode, request.tool, request.kind))
        return Approval(mode == "default", "" if mode == "default" else "no thanks")

    answers = {}
    script = configure(repo, {"echo": echo_table()},
                       [call("mcp__echo__add", a=2, b=40), {"text": "done"}])
    for mode in ("default", "accept-edits", "auto"):
        session = Session(RunOptions(model=f"scripted/{script}", cwd=repo,
                                     permission_mode=mode), ask=ask)
        await session.run("add", [])
        answer = session.provider.requests[1].messages[-1]
        answers[mode] = (answer.text, answer.is_error)
    assert asked == [("default", "mcp__echo__add", "execute"),
                     ("accept-edits", "mcp__echo__add", "execute")]  # auto does not ask
    assert answers == {"default": ("42", False), "accept-edits": ("Refused: no thanks.", True),
                       "auto": ("42", False)}
