"""Permission modes: which tool calls run without asking, which ask the face, which are refused.

| mode           | read | edit (write_file, edit_file) | execute (run_shell, MCP) |
|----------------|------|------------------------------|--------------------------|
| `default`      | yes  | ask                          | ask                      |
| `accept-edits` | yes  | yes                          | ask                      |
| `plan`         | yes  | refused (not even offered)   | refused (not even offered)|
| `auto`         | yes  | yes                          | yes                      |

The kind is the tool's own: ``edit`` is for tools that only change files in the workspace (what
``accept-edits`` lets through); a tool that can do anything else — a shell command, an MCP tool
not annotated read-only — is ``execute``.

"ask" means: the face's ``ask`` callback decides (the TUI shows a modal with the diff); with no
callback (a headless run) the call is refused, and the refusal tells the model and the user which
mode would allow it.

Session allowances: if ``ask`` returns ``Approval(allowed=True, reason="session")``, the gate
remembers the tool's name and allows every later call of that tool in this gate's life (one
session) without asking again. ``allow_for_session(name)`` does the same directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, TypeVar

from joiner.core import Approval, ApprovalRequest, Tool

PermissionMode = Literal["default", "accept-edits", "plan", "auto"]
PERMISSION_MODES: tuple[str, ...] = ("default", "accept-edits", "plan", "auto")
SESSION = "session"  # the Approval reason that means "allow this tool for the rest of the session"

AskCallback = Callable[[ApprovalRequest], Awaitable[Approval]]
T = TypeVar("T", bound=Tool)

_WHAT = {"edit": "file edits", "execute": "shell commands"}


def check_mode(mode: str) -> str:
    if mode not in PERMISSION_MODES:
        raise ValueError(f"unknown permission mode {mode!r}; use one of: "
                         + ", ".join(PERMISSION_MODES))
    return mode


def _needs_asking(mode: str, kind: str) -> bool | None:
    """True: ask; False: allowed; None: refused outright."""
    if kind == "read" or mode == "auto":
        return False
    if mode == "plan":
        return None
    return not (mode == "accept-edits" and kind == "edit")


def _what(request: ApprovalRequest) -> str:
    if request.tool.startswith("mcp__"):  # MCP tools are named mcp__SERVER__TOOL
        return f"calls of the MCP tool {request.tool}"
    return _WHAT.get(request.kind, f"{request.kind} tools")


def _headless_refusal(mode: str, request: ApprovalRequest) -> str:
    fix = "auto" if request.kind != "edit" else "accept-edits or auto"
    return (f"the permission mode '{mode}' does not allow {_what(request)} in a headless run "
            f"(use --permission-mode {fix})")


def _plan_refusal(request: ApprovalRequest) -> str:
    return ("the permission mode 'plan' allows only read-only tools, not "
            f"{_what(request)} (use --permission-mode accept-edits or auto to make changes)")


class PermissionGate:
    """The core ``Approver`` for a permission mode, asking the face where the mode says so."""

    def __init__(self, mode: str = "default", ask: AskCallback | None = None) -> None:
        self._mode = check_mode(mode)
        self.ask = ask
        self._session_allowed: set[str] = set()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        """The face may switch modes mid-session (e.g. a key binding in the TUI)."""
        self._mode = check_mode(value)

    def allow_for_session(self, tool: str) -> None:
        self._session_allowed.add(tool)

    @property
    def session_allowed(self) -> frozenset[str]:
        return frozenset(self._session_allowed)

    async def approve(self, request: ApprovalRequest) -> Approval:
        decision = _needs_asking(self._mode, request.kind)
        if decision is None:
            return Approval(False, _plan_refusal(request))
        if not decision or request.tool in self._session_allowed:
            return Approval(True, f"allowed by the permission mode '{self._mode}'"
                            if not decision else "allowed for this session")
        if self.ask is None:
            return Approval(False, _headless_refusal(self._mode, request))
        approval = await self.ask(request)
        if approval.allowed and approval.reason == SESSION:
            self._session_allowed.add(request.tool)
        return approval


def tools_for_mode(tools: Sequence[T], mode: str) -> list[T]:
    """The tools offered to the model in ``mode``: in ``plan`` only the read tools."""
    if check_mode(mode) == "plan":
        return [tool for tool in tools if tool.kind == "read"]
    return list(tools)
