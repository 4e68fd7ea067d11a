"""``ContextManager``: the core's ``ContextFitter``, keeping each request inside the window.

Before each request it estimates the request's size (``estimate``), corrected by what the
provider reported for the last request: the reported input tokens plus an estimate of what was
added since, or the plain estimate scaled by how much the provider's count exceeded it. If the
request does not fit in the window minus room for the answer (and a safety margin), room is
made, in this order:

1. a single tool result of the latest exchange too big for the window is cut (head and tail,
   with a note);
2. old tool results (before the latest exchange) are shortened to head and tail, oldest
   first, each with a note saying what was cut and how to get it again;
3. the older part of the conversation is compacted into one summary message (see
   ``compaction``), recorded as a ``compaction`` event; the latest exchange is kept whole.

It also is an ``EventSink`` (the runtime puts it in the run's fan-out) to read the ``usage``
events (the reported input tokens) and ``tool_result`` events (the files changed).

The loop hands over its whole message list each time; this keeps the view it sends (the
summary in place of the first ``offset`` messages, shortened copies of old results), so
consecutive requests share their prefix and a compaction happens once, not every turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from joiner.context.compaction import (
    CompactionRecord,
    carried_record,
    event_data,
    summarize,
    summary_message,
)
from joiner.context.estimate import estimate_messages, estimate_text, estimate_tools
from joiner.context.shorten import shortened_result
from joiner.context.windows import DEFAULT_WINDOW, Window
from joiner.core import EventSink, Meter, Provider
from joiner.core.events import COMPACTION, TOOL_RESULT, USAGE, WARNING, Event
from joiner.core.messages import Message, ModelRequest, ToolCall
from joiner.core.retry import RetryPolicy

SAFETY = 0.9  # of the input limit: estimates are estimates
SHORTEN_TO = 0.75  # shortening old results goes on until the request is under this share
KEEP_AFTER_COMPACTION = 0.4  # of the budget: recent messages kept whole after a compaction
LATEST_SHARE = 0.6  # of what is left after the system prompt and tools: the latest exchange


class ContextManager:
    """Implements ``ContextFitter`` (``fit``) and ``EventSink`` (``emit``)."""

    def __init__(self, window: Window | None, *, sink: EventSink | None = None,
                 meter: Meter | None = None, retry: RetryPolicy | None = None,
                 files_changed: Sequence[str] = (),
                 previous: CompactionRecord | None = None) -> None:
        self.window = window or Window(DEFAULT_WINDOW, source="default")
        self.sink = sink
        self.meter = meter
        self.retry = retry
        self.files_changed: dict[str, None] = dict.fromkeys(files_changed)
        self.record = previous  # the summary now at the head of the view, if any
        self.offset = 0  # leading messages of the loop's list the summary stands for
        self.summary: Message | None = None
        self.short: dict[int, Message] = {}  # loop index -> shortened copy
        self.factor = 1.0  # the provider's count / our estimate, when above 1
        self._sent: list[Message] = []  # the messages of the last request
        self._sent_estimate = 0
        self._reported: int | None = None
        self.compactions = 0
        self._warned = False

    # -- EventSink --------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        if event.type == USAGE and event.data.get("purpose") != "compaction":
            if event.data.get("estimated"):
                self._reported = None
                return
            reported = sum(int(event.data.get(k) or 0) for k in (
                "input_tokens", "cache_read_tokens", "cache_write_tokens"))
            self._reported = reported or None
            if reported and self._sent_estimate:
                self.factor = min(max(1.0, reported / self._sent_estimate), 2.0)
        elif event.type == TOOL_RESULT:
            for path in event.data.get("files_modified") or ():
                self.files_changed.setdefault(str(path), None)

    # -- sizes ------------------------------------------------------------------------------
    def answer_room(self, request: ModelRequest) -> int:
        return max(min(request.max_tokens, self.window.tokens // 4), 256)

    def budget(self, request: ModelRequest) -> int:
        """Tokens the request's input may take: the window less the answer, with a margin."""
        return int(self.window.input_limit(self.answer_room(request)) * SAFETY)

    def fixed(self, request: ModelRequest) -> int:
        """The system prompt and tool schemas: sent whole every time."""
        return estimate_text(request.system) + estimate_tools(request.tools) + 8

    def size(self, view: Sequence[Message], fixed: int) -> int:
        """The estimated input tokens of a request with these messages."""
        estimate = fixed + estimate_messages(view)
        size = int(estimate * self.factor)
        sent = self._sent
        if self._reported and len(view) >= len(sent) and all(
                a is b for a, b in zip(view, sent, strict=False)):
            size = max(size, self._reported + estimate_messages(view[len(sent):]))
        return size

    # -- ContextFitter ----------------------------------------------------------------------
    async def fit(self, request: ModelRequest, provider: Provider) -> ModelRequest:
        messages = request.messages
        room = self.answer_room(request)
        budget = self.budget(request)
        fixed = self.fixed(request)
        view = self._view(messages)
        if self.size(view, fixed) > budget:
            self._cut_latest(messages, budget - fixed)
            view = self._view(messages)
        if self.size(view, fixed) > budget:
            self._shorten_old(messages, fixed, int(budget * SHORTEN_TO))
            view = self._view(messages)
        if self.size(view, fixed) > budget:
            await self._compact(messages, provider, fixed, budget, "auto")
            view = self._view(messages)
            if self.size(view, fixed) > budget:  # what is kept is still too big: cut harder
                self._shorten_old(messages, fixed, int(budget * SHORTEN_TO), keep_tokens=60)
                self._cut_latest(messages, (budget - fixed) // 2)
                view = self._view(messages)
        size = self.size(view, fixed)
        if size > self.window.input_limit(room) and not self._warned:
            self._warned = True  # e.g. one huge prompt, or AGENTS.md bigger than the window
            self._emit(Event(WARNING, {"message": (
                f"context: this request is about {size:,} tokens, more than the "
                f"{self.window.tokens:,}-token window leaves for it; the model may refuse it. "
                f'Set [models."…"] context_window in config if the window is larger.')}))
        self._sent, self._sent_estimate = view, fixed + estimate_messages(view)
        return replace(request, messages=list(view), max_tokens=room)

    async def compact(self, messages: list[Message], provider: Provider, system: str = "",
                      tools: Sequence[Any] = (), max_tokens: int = 8192) -> dict[str, Any] | None:
        """Compact now (``/compact``): everything but the latest exchange. The event data, or
        None when there is nothing older than the latest exchange to compact."""
        request = ModelRequest(system, messages, list(tools), max_tokens)
        return await self._compact(messages, provider, self.fixed(request),
                                   self.budget(request), "manual", force=True)

    # -- the view ---------------------------------------------------------------------------
    def _view(self, messages: Sequence[Message]) -> list[Message]:
        head = [self.summary] if self.summary is not None else []
        return head + [self.short.get(i, messages[i]) for i in range(self.offset, len(messages))]

    def _calls(self, messages: Sequence[Message]) -> dict[str, ToolCall]:
        return {c.id: c for m in messages[self.offset:] for c in m.tool_calls}

    def _cut_latest(self, messages: Sequence[Message], room: int) -> None:
        """Cut the latest exchange's tool results so it takes at most ``LATEST_SHARE`` of
        ``room``, each in proportion to its size."""
        start = latest_exchange(messages, self.offset)
        results = [i for i in range(start, len(messages)) if messages[i].role == "tool"]
        allowed = int(max(room, 0) * LATEST_SHARE) - estimate_messages(
            [m for i, m in enumerate(messages[start:], start) if i not in results])
        sizes = {i: estimate_text(self.short.get(i, messages[i]).text) for i in results}
        total = sum(sizes.values())
        if not results or total <= allowed:
            return
        calls = self._calls(messages)
        for i in results:
            share = max(allowed * sizes[i] // max(total, 1), 80)
            why = ("this result is bigger than the model's context window allows" if
                   estimate_text(messages[i].text) > room else
                   "this result was cut to fit the model's context window")
            self._replace(messages, i, shortened_result(
                messages[i], share, why, calls.get(messages[i].tool_call_id or "")))

    def _shorten_old(self, messages: Sequence[Message], fixed: int, target: int,
                     keep_tokens: int | None = None) -> None:
        """Shorten tool results before the latest exchange, oldest first, until the request
        is under ``target``."""
        keep = keep_tokens or min(max(target // 40, 60), 2000)
        end = latest_exchange(messages, self.offset)
        calls = self._calls(messages)
        for i in range(self.offset, end):
            if self.size(self._view(messages), fixed) <= target:
                return
            current = self.short.get(i, messages[i])
            if current.role != "tool" or estimate_text(current.text) <= keep * 3 // 2:
                continue
            self._replace(messages, i, shortened_result(
                messages[i], keep, "old tool result shortened to fit the model's context "
                "window", calls.get(messages[i].tool_call_id or "")))

    def _replace(self, messages: Sequence[Message], index: int, cut: Message) -> None:
        """Use ``cut`` (always cut from the original, so its note names the original's lines)
        if it is shorter than what is sent now."""
        current = self.short.get(index, messages[index])
        if cut is not messages[index] and len(cut.text) < len(current.text):
            self.short[index] = cut

    async def _compact(self, messages: list[Message], provider: Provider, fixed: int,
                       budget: int, reason: str, force: bool = False) -> dict[str, Any] | None:
        view = self._view(messages)
        before = self.size(view, fixed)
        split = self._split(messages, budget - fixed, force)
        if split <= self.offset:
            return None
        replaced_view = view[: (1 if self.summary is not None else 0) + split - self.offset]
        record = carried_record(self.record, replaced_view, list(self.files_changed))
        answer_tokens = max(min(2000, (budget - fixed) // 6), 120)
        record.summary, usage, how = await summarize(
            provider, replaced_view, input_budget=budget, answer_tokens=answer_tokens,
            sink=self.sink, retry=self.retry)
        if usage is not None and self.meter is not None:
            self._emit(Event(USAGE, {"turn": None, "purpose": "compaction",
                                     **self.meter.record(usage, provider.name)}))
        message = summary_message(record, max(answer_tokens, (budget - fixed) // 4))
        replaced = len(replaced_view)
        self.record, self.summary = record, message
        self.short = {i: m for i, m in self.short.items() if i >= split}
        self.offset = split
        self.compactions += 1
        after = self.size(self._view(messages), fixed)
        data = event_data(reason=reason, replaced=replaced, message=message, record=record,
                          tokens_before=before, tokens_after=after, window=self.window.tokens,
                          summarized_by=how)
        self._emit(Event(COMPACTION, data))
        self._emit(Event(WARNING, {"message": (
            f"context: compacted {replaced} earlier messages into a summary "
            f"(about {before:,} → {after:,} tokens of a {self.window.tokens:,}-token window)")}))
        return data

    def _split(self, messages: Sequence[Message], room: int, force: bool) -> int:
        """Where the kept part starts: the latest exchange, and before it whole earlier
        exchanges while they fit in ``KEEP_AFTER_COMPACTION`` of ``room``."""
        start = latest_exchange(messages, self.offset)
        if force:
            return start
        keep = int(room * KEEP_AFTER_COMPACTION)
        used = estimate_messages(self.short.get(i, messages[i])
                                 for i in range(start, len(messages)))
        for boundary in reversed(exchange_starts(messages, self.offset, start)):
            part = estimate_messages(self.short.get(i, messages[i])
                                     for i in range(boundary, start))
            if used + part > keep:
                break
            used += part
            start = boundary
        return start

    def _emit(self, event: Event) -> None:
        if self.sink is not None:
            self.sink.emit(event)


def exchange_starts(messages: Sequence[Message], begin: int, end: int) -> list[int]:
    """Indexes in ``[begin, end)`` where a message group starts: a user message, or an
    assistant message (its tool results follow it)."""
    return [i for i in range(begin, end) if messages[i].role in ("user", "assistant")]


def latest_exchange(messages: Sequence[Message], begin: int = 0) -> int:
    """Where the latest exchange starts: the last assistant message with tool calls when
    results follow it, else the last message (a new user prompt)."""
    for i in range(len(messages) - 1, begin - 1, -1):
        if messages[i].role != "tool":
            return i if messages[i].role == "assistant" or i == len(messages) - 1 else i + 1
    return begin
