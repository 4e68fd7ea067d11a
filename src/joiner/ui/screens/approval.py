"""The approval modal: the exact shell command, the diff of an edit or the arguments of an
MCP tool's call, then a decision.

Keys: ``y``/Enter allow once, ``a`` allow for this session (the permission gate
remembers it), ``n``/Esc deny. Dismisses with an ``Approval``. The keys are armed
``ARM_DELAY`` seconds after the modal opens, so keystrokes of a prompt being typed when
it pops up (a ``y`` or an ``a``) never approve anything by accident.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from joiner.core import Approval, ApprovalRequest
from joiner.ui.timers import call_after
from joiner.ui.widgets.tool_block import arguments_text, cut_lines, diff_renderable

ARM_DELAY = 0.4
VERBS = {"execute": "run a shell command", "edit": "change files"}
MCP_PREFIX = "mcp__"  # MCP tools are named mcp__SERVER__TOOL (joiner.mcp.tool.tool_name)
ARGUMENT_LINES = 60


def mcp_tool(name: str) -> tuple[str, str] | None:
    """``(server, tool)`` of an MCP tool's name, or None for a built-in tool. A server name
    with ``__`` in it cannot be told from the tool's: the first ``__`` splits them."""
    if not name.startswith(MCP_PREFIX):
        return None
    server, _, tool = name[len(MCP_PREFIX):].partition("__")
    return (server, tool) if server and tool else None


def request_title(request: ApprovalRequest) -> Text:
    """``Joiner wants to <what> with <tool>``: what the call may do, in words."""
    mcp = mcp_tool(request.tool)
    if mcp is not None:
        server, tool = mcp
        return Text.assemble("Joiner wants to ", ("use the MCP tool ", "bold"), (tool, "bold"),
                             " of server ", (server, "bold"))
    verb = VERBS.get(request.kind, "use a tool")
    return Text.assemble("Joiner wants to ", (verb, "bold"), f" with {request.tool}")


def arguments_json(arguments: dict[str, Any]) -> Syntax:
    text = json.dumps(arguments, indent=2, ensure_ascii=False, default=str)
    return Syntax(cut_lines(text, ARGUMENT_LINES), "json", theme="ansi_dark", word_wrap=True,
                  background_color="default")


def request_body(request: ApprovalRequest) -> Any:
    """What the user must see to decide: an MCP call's arguments (it may do anything with
    them), the command itself, else the diff, else the arguments."""
    if mcp_tool(request.tool) is not None:
        return arguments_json(request.arguments)
    command = request.arguments.get("command")
    if request.kind == "execute" and isinstance(command, str):
        return Syntax(command, "bash", theme="ansi_dark", word_wrap=True,
                      background_color="default")
    if request.diff:
        return diff_renderable(request.diff)
    return Text(cut_lines(arguments_text(request.tool, request.arguments), 60))


class ApprovalScreen(ModalScreen[Approval]):
    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "allow_once", "Allow once", priority=True),
        Binding("a", "allow_session", "Allow for session", priority=True),
        Binding("n,escape", "deny", "Deny", priority=True),
    ]

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__()
        self.request = request
        self.armed = False

    def on_mount(self) -> None:
        call_after(self, ARM_DELAY, self._arm)  # never lost, or no key would decide

    def _arm(self) -> None:
        self.armed = True

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(id="approval-dialog") as dialog:
            dialog.border_title = "Approval needed"
            yield Static(request_title(request), id="approval-title")
            target = request.arguments.get("path")
            if isinstance(target, str) and mcp_tool(request.tool) is None:
                yield Static(Text(target, "bold"), id="approval-target")
            with VerticalScroll(id="approval-body"):
                yield Static(request_body(request))
            with Horizontal(id="approval-buttons"):
                yield Button("Allow once (y)", id="allow-once", variant="success", compact=True)
                yield Button("Allow for session (a)", id="allow-session", variant="primary",
                             compact=True)
                yield Button("Deny (n)", id="deny", variant="error", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"allow-once": self.action_allow_once, "allow-session": self.action_allow_session,
                   "deny": self.action_deny}
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def _decide(self, approval: Approval) -> None:
        if self.armed:
            self.dismiss(approval)

    def action_allow_once(self) -> None:
        self._decide(Approval(True, "once"))

    def action_allow_session(self) -> None:
        self._decide(Approval(True, "session"))

    def action_deny(self) -> None:
        self._decide(Approval(False, "denied by the user"))
