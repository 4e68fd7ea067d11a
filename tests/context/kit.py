"""Helpers of the context tests: a scripted model that also answers summarizing requests,
an event recorder, and files to read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from joiner.core import ProviderError
from joiner.core.events import Event
from joiner.core.messages import Message, ModelRequest, ModelResponse, StreamItem, Usage
from joiner.providers.scripted import ScriptedProvider
from joiner.testing.loopback import LoopbackServer

SUMMARY = "Summary: files were read one by one; nothing was changed yet."


def is_summary_request(request: ModelRequest) -> bool:
    """The fitter's summarizing request is the one sent without tools."""
    return not request.tools


class SummarizingProvider(ScriptedProvider):
    """Answers the conversation from its script and every summarizing request with
    ``summary`` (or fails it with ``fail_summary``). ``requests`` holds the conversation's
    requests, ``summaries`` the summarizing ones. ``reported`` scales the input tokens it
    reports: ``lambda request: tokens``."""

    def __init__(self, steps: Iterable[Message | dict[str, Any]], summary: str = SUMMARY,
                 fail_summary: bool = False, reported: Any = None) -> None:
        super().__init__(steps)
        self.summary = summary
        self.fail_summary = fail_summary
        self.summaries: list[ModelRequest] = []
        self.reported = reported

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        if is_summary_request(request):
            self.summaries.append(request)
            if self.fail_summary:
                raise ProviderError(self.name, "no summary today", retryable=False)
            yield ModelResponse(Message("assistant", self.summary), Usage(50, 20), "end_turn",
                                self.name)
            return
        async for item in super().stream(request):
            if isinstance(item, ModelResponse) and self.reported is not None:
                item.usage = Usage(self.reported(request), 5)
            yield item


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]


def write_numbered_files(root: Path, names: Iterable[str], lines: int = 1500) -> None:
    """Files of ``lines`` Python-like lines, each line different."""
    for name in names:
        stem = Path(name).stem
        (root / name).write_text("".join(
            f"def {stem}_function_{i}(value):  # line {i + 1} of {name}: returns value + {i}\n"
            for i in range(lines)))


def read_steps(names: Iterable[str], final: str = "Done.") -> list[dict[str, Any]]:
    return [{"tool_calls": [{"name": "read_file", "arguments": {"path": n}}]} for n in names] \
        + [{"text": final}]


class SummarizingLoopback(LoopbackServer):
    """The loopback server, answering the fitter's summarizing requests (sent without tools)
    with a summary, outside the script."""

    def __init__(self, script: list[Any], summary: str = SUMMARY, **options: Any) -> None:
        super().__init__(script, **options)
        self.summary = summary
        self._summary_next = False

    def _record(self, path: str, headers: dict[str, str], body: Any) -> None:
        self._summary_next = isinstance(body, dict) and not body.get("tools")
        super()._record(path, headers, body)

    def _next_step(self) -> tuple[dict[str, Any] | None, int]:
        if self._summary_next:
            return {"text": self.summary}, 0
        return super()._next_step()


def request_bodies(server: LoopbackServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if isinstance(r.body, dict)]


def body_tokens(body: dict[str, Any]) -> int:
    """Our estimate of a recorded Chat Completions request's input."""
    from joiner.context.estimate import estimate_text

    text = "".join(str(m.get("content") or "") + json.dumps(m.get("tool_calls") or "")
                   for m in body["messages"])
    return estimate_text(text) + estimate_text(json.dumps(body.get("tools") or [])) \
        + 4 * len(body["messages"])
