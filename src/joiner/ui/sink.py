"""Events to widgets: the one place that knows what each event looks like on screen.

The live app passes a ``ViewSink`` to ``Session.run``; the replay screen and a resumed
session feed it stored events (``live=False``), so a past step looks as it did live.
``emit`` runs inside the agent's task and only touches the widgets: it never awaits,
and a text delta costs a list append (the answer widget flushes at the frame rate).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from joiner.core.events import (
    APPROVAL,
    ASSISTANT_MESSAGE,
    ASSISTANT_PARTIAL,
    ERROR,
    INTERRUPTED,
    REQUEST_START,
    RETRY,
    TEXT_DELTA,
    TOOL_CALL,
    TOOL_CALL_DELTA,
    TOOL_RESULT,
    USAGE,
    USER_PROMPT,
    WARNING,
    Event,
)
from joiner.ui.widgets.conversation import Conversation
from joiner.ui.widgets.tracker import TokenTracker
from joiner.ui.widgets.workflow import WorkflowView

WRITING = "writing…"
STOP_NOTES = {
    "budget": "Budget reached",
    "max_turns": "Turn limit reached",
    "loop": "Stopped a loop",
    "error": "The model request failed",
}


class ViewSink:
    def __init__(self, conversation: Conversation, tracker: TokenTracker | None,
                 workflow: WorkflowView | None, *, live: bool = True,
                 on_activity: Callable[[str], None] | None = None,
                 on_session: Callable[[], None] | None = None) -> None:
        self.conversation = conversation
        self.tracker = tracker
        self.workflow = workflow
        self.live = live
        self.on_activity = on_activity or (lambda text: None)
        self.on_session = on_session or (lambda: None)
        self._activity = ""
        self.events = 0

    def _set_activity(self, text: str) -> None:
        if text != self._activity:
            self._activity = text
            self.on_activity(text)

    def emit(self, event: Event) -> None:
        self.events += 1
        if event.type == TEXT_DELTA:  # the hot path: keep it first and cheap
            self.conversation.feed(event.data.get("text", ""))
            if self._activity != WRITING:
                self._set_activity(WRITING)
            return
        if event.type == TOOL_CALL_DELTA:
            self._set_activity("preparing a tool call…")
            return
        if self.workflow is not None:
            self.workflow.apply(event)
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event.data)

    # -- handlers -------------------------------------------------------------------------------
    def _user_prompt(self, data: dict[str, Any]) -> None:
        if not self.live:  # live, the app showed the prompt the moment it was sent
            self.conversation.add_user(str(data.get("message", {}).get("text", "")))
        self.on_session()

    def _request_start(self, data: dict[str, Any]) -> None:
        self._set_activity("thinking…")

    def _assistant_message(self, data: dict[str, Any]) -> None:
        self.conversation.end_answer(str(data.get("message", {}).get("text", "")))

    def _assistant_partial(self, data: dict[str, Any]) -> None:
        self.conversation.end_answer(str(data.get("text", "")))
        if data.get("error") and data.get("error") != "interrupted":
            self.conversation.add_notice(f"The answer was cut: {data['error']}", "warning")

    def _usage(self, data: dict[str, Any]) -> None:
        if self.tracker is not None:
            self.tracker.record(data)

    def _tool_call(self, data: dict[str, Any]) -> None:
        call_id = str(data.get("id"))
        self.conversation.add_tool_call(call_id, str(data.get("name", "?")),
                                        data.get("arguments", "{}"))
        self._set_activity(f"running {data.get('name', 'a tool')}…")
        if self.live and self.workflow is not None:
            # the calls start once the loop yields to the tool runner's tasks
            self.conversation.call_later(self.workflow.mark, call_id, "running")
        if self.live:
            block = self.conversation.tool(call_id)
            if block is not None:
                self.conversation.call_later(_promote, block)

    def _approval(self, data: dict[str, Any]) -> None:
        block = self.conversation.tool(data.get("id"))
        if block is not None:
            allowed = data.get("decision") == "allow"
            block.set_state("running" if allowed else "refused")

    def _tool_result(self, data: dict[str, Any]) -> None:
        block = self.conversation.tool(data.get("message", {}).get("tool_call_id"))
        if block is not None:
            block.finish(data)

    def _retry(self, data: dict[str, Any]) -> None:
        self.conversation.add_notice(
            f"{data.get('error', 'the request failed')} — retrying in "
            f"{float(data.get('wait_s') or 0):.1f}s (attempt {data.get('attempt', '?')})",
            "warning")

    def _warning(self, data: dict[str, Any]) -> None:
        self.conversation.add_notice(str(data.get("message", "")), "warning")

    def _error(self, data: dict[str, Any]) -> None:
        stop = str(data.get("stop_reason", "error"))
        if stop == "interrupted":
            return  # the interrupted event says it
        self.conversation.end_answer()
        title = STOP_NOTES.get(stop, "Stopped")
        hint = " Your session is kept; send a prompt to go on." if self.live else ""
        self.conversation.add_notice(f"{title}: {data.get('message', '')}{hint}",
                                     "warning" if stop in ("budget", "max_turns") else "error")

    def _interrupted(self, data: dict[str, Any]) -> None:
        self.conversation.end_answer()
        hint = " The session is kept; send a prompt to go on." if self.live else ""
        self.conversation.add_notice(f"Interrupted.{hint}", "warning")


def _promote(block: Any) -> None:
    if block.state == "queued":
        block.set_state("running")


_HANDLERS: dict[str, Callable[[ViewSink, dict[str, Any]], None]] = {
    USER_PROMPT: ViewSink._user_prompt,
    REQUEST_START: ViewSink._request_start,
    ASSISTANT_MESSAGE: ViewSink._assistant_message,
    ASSISTANT_PARTIAL: ViewSink._assistant_partial,
    USAGE: ViewSink._usage,
    TOOL_CALL: ViewSink._tool_call,
    APPROVAL: ViewSink._approval,
    TOOL_RESULT: ViewSink._tool_result,
    RETRY: ViewSink._retry,
    WARNING: ViewSink._warning,
    ERROR: ViewSink._error,
    INTERRUPTED: ViewSink._interrupted,
}
