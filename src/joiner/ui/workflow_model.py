"""The run as a list of steps (model requests and tool calls), rebuilt from events.

Pure logic, no widgets: the live workflow panel and the replay screen both feed it
events in order and draw ``steps``. States: ``queued``, ``running``, ``approval``
(waiting for the user), ``retrying``, ``done``, ``failed``, ``refused``, ``interrupted``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joiner.core.events import (
    APPROVAL,
    ASSISTANT_MESSAGE,
    ASSISTANT_PARTIAL,
    ERROR,
    INTERRUPTED,
    REQUEST_START,
    RETRY,
    TOOL_CALL,
    TOOL_RESULT,
    USAGE,
    USER_PROMPT,
    Event,
)

FINISHED = frozenset({"done", "failed", "refused", "interrupted"})


@dataclass(slots=True)
class Step:
    key: str
    kind: str  # "prompt" | "request" | "tool"
    label: str
    state: str
    started: float
    ended: float | None = None
    duration_ms: float | None = None
    tokens: tuple[int, int] | None = None  # (input incl. cache, output)
    depth: int = 0

    def elapsed_ms(self, now: float) -> float:
        if self.duration_ms is not None:
            return self.duration_ms
        return ((self.ended if self.ended is not None else now) - self.started) * 1000


class WorkflowModel:
    """Applies events in order; ``steps`` is the workflow so far."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._by_key: dict[str, Step] = {}
        self._request: Step | None = None
        self._turns = 0

    def apply(self, event: Event) -> Step | None:
        """Update the model with one event; returns the step it changed, if any."""
        handler = _HANDLERS.get(event.type)
        return handler(self, event) if handler else None

    def mark_running(self, call_id: str) -> Step | None:
        """A queued call has started (the face knows it: the loop yielded to the tools)."""
        return self._set(call_id, "running", only_from=("queued",))

    def mark_approval(self, call_id: str) -> Step | None:
        return self._set(call_id, "approval")

    def running(self) -> bool:
        return any(s.state not in FINISHED for s in self.steps if s.kind != "prompt")

    # -- handlers -------------------------------------------------------------------------------
    def _add(self, step: Step) -> Step:
        self.steps.append(step)
        self._by_key[step.key] = step
        return step

    def _set(self, key: str, state: str, only_from: tuple[str, ...] = ()) -> Step | None:
        step = self._by_key.get(key)
        if step is None or (only_from and step.state not in only_from):
            return None
        step.state = state
        return step

    def _finish(self, step: Step, state: str, when: float) -> Step:
        step.state = state
        step.ended = when
        return step

    def _prompt(self, event: Event) -> Step:
        self._turns += 1
        text = str(event.data.get("message", {}).get("text", ""))
        return self._add(Step(f"prompt:{self._turns}", "prompt", _one_line(text, 60), "done",
                              event.time, event.time))

    def _request_start(self, event: Event) -> Step:
        turn = event.data.get("turn", "?")
        step = Step(f"request:{self._turns}:{turn}", "request",
                    f"model request {turn}", "running", event.time, depth=1)
        self._request = self._add(step)
        return step

    def _retry(self, event: Event) -> Step | None:
        if self._request is None:
            return None
        self._request.state = "retrying"
        return self._request

    def _answer(self, event: Event) -> Step | None:
        if self._request is None:
            return None
        return self._finish(self._request, "done", event.time)

    def _partial(self, event: Event) -> Step | None:
        if self._request is None or self._request.state in FINISHED:
            return None
        return self._finish(self._request, "interrupted", event.time)

    def _usage(self, event: Event) -> Step | None:
        if self._request is None:
            return None
        d = event.data
        tokens_in = sum(int(d.get(k) or 0) for k in
                        ("input_tokens", "cache_read_tokens", "cache_write_tokens"))
        self._request.tokens = (tokens_in, int(d.get("output_tokens") or 0))
        return self._request

    def _tool_call(self, event: Event) -> Step:
        d = event.data
        label = f"{d.get('name', '?')} {summarize_arguments(d.get('name', ''), d.get('arguments'))}"
        return self._add(Step(str(d.get("id")), "tool", label.strip(), "queued", event.time,
                              depth=2))

    def _approval(self, event: Event) -> Step | None:
        allowed = event.data.get("decision") == "allow"
        step = self._by_key.get(str(event.data.get("id")))
        if step is None:
            return None
        if allowed:
            step.state = "running"
            return step
        return self._finish(step, "refused", event.time)

    def _tool_result(self, event: Event) -> Step | None:
        d = event.data
        message = d.get("message", {})
        step = self._by_key.get(str(message.get("tool_call_id")))
        if step is None:
            return None
        if d.get("interrupted"):
            state = "interrupted"
        elif d.get("refused"):
            state = "refused"
        else:
            state = "failed" if message.get("is_error") else "done"
        if d.get("duration_ms") is not None:
            step.duration_ms = float(d["duration_ms"])
        return self._finish(step, state, event.time)

    def _stopped(self, event: Event) -> Step | None:
        """An interruption or error ends whatever is still open."""
        state = "interrupted" if event.type == INTERRUPTED else "failed"
        changed = None
        for step in self.steps:
            if step.kind != "prompt" and step.state not in FINISHED:
                changed = self._finish(step, state, event.time)
        return changed


_HANDLERS = {
    USER_PROMPT: WorkflowModel._prompt,
    REQUEST_START: WorkflowModel._request_start,
    RETRY: WorkflowModel._retry,
    ASSISTANT_MESSAGE: WorkflowModel._answer,
    ASSISTANT_PARTIAL: WorkflowModel._partial,
    USAGE: WorkflowModel._usage,
    TOOL_CALL: WorkflowModel._tool_call,
    APPROVAL: WorkflowModel._approval,
    TOOL_RESULT: WorkflowModel._tool_result,
    INTERRUPTED: WorkflowModel._stopped,
    ERROR: WorkflowModel._stopped,
}


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def summarize_arguments(name: str, arguments: Any, limit: int = 48) -> str:
    """A short, human view of a call's arguments: the command, the path, or compact JSON."""
    args = parse_arguments(arguments)
    if isinstance(args, dict):
        for key in ("command", "path", "pattern"):
            if isinstance(args.get(key), str):
                prefix = "$ " if key == "command" else ""
                return _one_line(prefix + args[key], limit)
        return _one_line(json.dumps(args, ensure_ascii=False), limit)
    return _one_line(str(args), limit)
