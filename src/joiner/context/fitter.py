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
consecutive requests share their prefix and a compaction happens once, not every turn. The view,
its estimate and the last request's are kept up to date as the list grows (``view``), so a
turn's work is the new messages, not the whole session: sessions of thousands of turns stay as
fast per turn as short ones. Making room walks more (shortening, compacting), but only when the
request has grown over the budget, and each such walk brings it well under again.
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
from joiner.context.view import RunningView
from joiner.context.windows import DEFAULT_WINDOW, Window
from joiner.core import EventSink, Meter, Provider
from joiner.core.events import COMPACTION, TOOL_RESULT, USAGE, WARNING, Event
from joiner.core.messages import Message, ModelRequest
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
        self.view = RunningView()
        self.factor = 1.0  # the provider's count / our estimate, when above 1
        self._sent_estimate = 0  # of the last request, with its system prompt and tools
        self._fixed: tuple[tuple[Any, ...], int] | None = None
        self._reported: int | None = None
        self.compactions = 0
        self._warned = False

    @property
    def offset(self) -> int:
        """Leading messages of the loop's list the summary stands for."""
        return self.view.offset

    @property
    def summary(self) -> Message | None:
        """The summary message at the head of the view, once this manager has compacted."""
        return self.view.summary

    @property
    def short(self) -> dict[int, Message]:
        """Shortened copies sent in place of the loop's messages, by index."""
        return self.view.short

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
        """The system prompt and tool schemas: sent whole every time (estimated again only
        when they are other objects than last time)."""
        key = (request.system, *request.tools)
        known = self._fixed
        if known is not None and len(known[0]) == len(key) and all(
                a is b for a, b in zip(known[0], key, strict=True)):
            return known[1]
        tokens = estimate_text(request.system) + estimate_tools(request.tools) + 8
        self._fixed = (key, tokens)
        return tokens

    def size(self, fixed: int) -> int:
        """The estimated input tokens of a request with the current view: our estimate
        (scaled by ``factor``), or, when the view goes on from the last request, at least the
        provider's count of that request plus the estimate of what was added since."""
        view = self.view
        size = int((fixed + view.total) * self.factor)
        if self._reported and len(view.entries) >= len(view.sent) and view.intact:
            size = max(size, self._reported + view.added)
        return size

    # -- ContextFitter ----------------------------------------------------------------------
    async def fit(self, request: ModelRequest, provider: Provider) -> ModelRequest:
        messages = request.messages
        room = self.answer_room(request)
        budget = self.budget(request)
        fixed = self.fixed(request)
        self.view.sync(messages)
        if self.size(fixed) > budget:
            self._cut_latest(messages, budget - fixed)
        if self.size(fixed) > budget:
            self._shorten_old(messages, fixed, int(budget * SHORTEN_TO))
        if self.size(fixed) > budget:
            await self._compact(messages, provider, fixed, budget, "auto")
            if self.size(fixed) > budget:  # what is kept is still too big: cut harder
                self._shorten_old(messages, fixed, int(budget * SHORTEN_TO), keep_tokens=60)
                self._cut_latest(messages, (budget - fixed) // 2)
        size = self.size(fixed)
        if size > self.window.input_limit(room) and not self._warned:
            self._warned = True  # e.g. one huge prompt, or AGENTS.md bigger than the window
            self._emit(Event(WARNING, {"message": (
                f"context: this request is about {size:,} tokens, more than the "
                f"{self.window.tokens:,}-token window leaves for it; the model may refuse it. "
                f'Set [models."…"] context_window in config if the window is larger.')}))
        self._sent_estimate = fixed + self.view.total
        return replace(request, messages=self.view.mark_sent(), max_tokens=room)

    async def compact(self, messages: list[Message], provider: Provider, system: str = "",
                      tools: Sequence[Any] = (), max_tokens: int = 8192) -> dict[str, Any] | None:
        """Compact now (``/compact``): everything but the latest exchange. The event data, or
        None when there is nothing older than the latest exchange to compact."""
        request = ModelRequest(system, messages, list(tools), max_tokens)
        return await self._compact(messages, provider, self.fixed(request),
                                   self.budget(request), "manual", force=True)

    # -- making room ------------------------------------------------------------------------
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
        calls = self.view.calls
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
        limit = keep * 3 // 2
        end = latest_exchange(messages, self.offset)
        calls = self.view.calls
        skipped_all = True  # so far: what the next pass with this limit need not look at again
        for i in range(self.view.skippable_until(limit), end):
            if self.size(fixed) <= target:
                return
            current = self.short.get(i, messages[i])
            if current.role != "tool" or estimate_text(current.text) <= limit:
                if skipped_all:
                    self.view.skippable(limit, i)
                continue
            skipped_all = False
            self._replace(messages, i, shortened_result(
                messages[i], keep, "old tool result shortened to fit the model's context "
                "window", calls.get(messages[i].tool_call_id or "")))

    def _replace(self, messages: Sequence[Message], index: int, cut: Message) -> None:
        """Use ``cut`` (always cut from the original, so its note names the original's lines)
        if it is shorter than what is sent now."""
        current = self.short.get(index, messages[index])
        if cut is not messages[index] and len(cut.text) < len(current.text):
            self.view.shorten(index, cut)

    async def _compact(self, messages: list[Message], provider: Provider, fixed: int,
                       budget: int, reason: str, force: bool = False) -> dict[str, Any] | None:
        self.view.sync(messages)
        view = self.view.entries
        before = self.size(fixed)
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
        self.record = record
        self.view.compact(messages, split, message)
        self.compactions += 1
        after = self.size(fixed)
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
        used = self.view.tokens_between(start, len(messages))
        for boundary in reversed(exchange_starts(messages, self.offset, start)):
            part = self.view.tokens_between(boundary, start)
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
