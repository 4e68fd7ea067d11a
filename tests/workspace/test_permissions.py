from __future__ import annotations

from pathlib import Path

import pytest

from joiner.core import Approval, ApprovalRequest, ToolKind
from joiner.tools import builtin_tools
from joiner.workspace.guard import Workspace
from joiner.workspace.permissions import PERMISSION_MODES, PermissionGate, tools_for_mode


def request(kind: ToolKind, tool: str | None = None) -> ApprovalRequest:
    name = tool or {"read": "read_file", "edit": "edit_file", "execute": "run_shell"}[kind]
    return ApprovalRequest("call_1", name, kind, {})


async def decide(mode: str, kind: ToolKind, ask: object = None) -> Approval:
    return await PermissionGate(mode, ask).approve(request(kind))  # type: ignore[arg-type]


async def test_default_headless_refuses_edits_and_shell_with_a_way_out() -> None:
    edit = await decide("default", "edit")
    assert not edit.allowed
    assert edit.reason == ("the permission mode 'default' does not allow file edits in a "
                           "headless run (use --permission-mode accept-edits or auto)")
    shell = await decide("default", "execute")
    assert not shell.allowed
    assert "shell commands" in shell.reason and "--permission-mode auto" in shell.reason


async def test_reads_are_allowed_in_every_mode() -> None:
    for mode in PERMISSION_MODES:
        assert (await decide(mode, "read")).allowed


async def test_accept_edits_allows_edits_but_not_shell_headless() -> None:
    assert (await decide("accept-edits", "edit")).allowed
    shell = await decide("accept-edits", "execute")
    assert not shell.allowed
    assert "'accept-edits'" in shell.reason and "--permission-mode auto" in shell.reason


async def test_plan_refuses_changes_even_with_a_callback() -> None:
    asked: list[ApprovalRequest] = []

    async def ask(req: ApprovalRequest) -> Approval:
        asked.append(req)
        return Approval(True)

    for kind in ("edit", "execute"):
        approval = await decide("plan", kind, ask)  # type: ignore[arg-type]
        assert not approval.allowed
        assert "'plan' allows only read-only tools" in approval.reason
    assert asked == []


async def test_auto_allows_everything() -> None:
    for kind in ("read", "edit", "execute"):
        assert (await decide("auto", kind)).allowed  # type: ignore[arg-type]


async def test_default_asks_the_face_and_passes_its_answer_on() -> None:
    asked: list[ApprovalRequest] = []

    async def ask(req: ApprovalRequest) -> Approval:
        asked.append(req)
        return Approval(req.kind == "edit", "" if req.kind == "edit" else "not now")

    gate = PermissionGate("default", ask)
    assert (await gate.approve(request("edit"))).allowed
    refused = await gate.approve(request("execute"))
    assert not refused.allowed and refused.reason == "not now"
    assert [r.kind for r in asked] == ["edit", "execute"]


async def test_session_allowance_is_remembered_per_tool() -> None:
    asked: list[str] = []

    async def ask(req: ApprovalRequest) -> Approval:
        asked.append(req.tool)
        return Approval(True, "session" if req.tool == "run_shell" else "")

    gate = PermissionGate("default", ask)
    for _ in range(3):
        assert (await gate.approve(request("execute"))).allowed
        assert (await gate.approve(request("edit"))).allowed
    assert asked == ["run_shell", "edit_file", "edit_file", "edit_file"]
    assert gate.session_allowed == {"run_shell"}


async def test_accept_edits_still_asks_for_shell_when_there_is_a_face() -> None:
    async def ask(req: ApprovalRequest) -> Approval:
        return Approval(False, "the user said no")

    gate = PermissionGate("accept-edits", ask)
    assert (await gate.approve(request("edit"))).allowed
    assert (await gate.approve(request("execute"))).reason == "the user said no"


async def test_mode_can_be_switched_and_is_checked() -> None:
    gate = PermissionGate("default")
    assert not (await gate.approve(request("edit"))).allowed
    gate.mode = "auto"
    assert (await gate.approve(request("edit"))).allowed
    with pytest.raises(ValueError, match="unknown permission mode"):
        gate.mode = "yolo"
    with pytest.raises(ValueError, match="accept-edits"):
        PermissionGate("acceptEdits")


def test_tools_for_mode_offers_only_read_tools_in_plan(tmp_path: Path) -> None:
    tools = builtin_tools(Workspace(tmp_path))
    names = [t.spec.name for t in tools_for_mode(tools, "plan")]
    assert names == ["read_file", "list_files", "grep"]
    for mode in ("default", "accept-edits", "auto"):
        assert len(tools_for_mode(tools, mode)) == 6
    with pytest.raises(ValueError):
        tools_for_mode(tools, "nope")


async def test_refusals_name_an_mcp_tool() -> None:
    approval = await PermissionGate("default").approve(
        ApprovalRequest("c", "mcp__github__create_issue", "execute", {}))
    assert approval.reason == ("the permission mode 'default' does not allow calls of the MCP "
                               "tool mcp__github__create_issue in a headless run (use "
                               "--permission-mode auto)")
