"""The fitter's running view of the conversation, kept up to date turn by turn.

The view is what the fitter sends: the summary (if a compaction happened) in place of the loop's
first ``offset`` messages, then the loop's messages from ``offset`` on, each replaced by its
shortened copy in ``short`` where there is one. Rebuilding and re-estimating it every turn costs
the whole session each turn (a session of thousands of turns spent most of its time there), so
``RunningView`` keeps the view as a list with each entry's estimate, their running total, the
tool calls by id, and what the last request held, and each turn only adds the new messages.

This rests on how the loop hands its messages over: each turn a copy of one list that only
grows, whose messages are not changed once the fitter has seen them. (The loop guard's note is
added to the newest tool result before the next request, so before the fitter sees it; should a
note ever come later, a changed text of the last seen message is still noticed.) A list that
does not continue the one seen before (another run's, a shorter one) is read whole again, with
the same result as reading it whole every turn.
"""

from __future__ import annotations

from collections.abc import Sequence

from joiner.context.estimate import estimate_message
from joiner.core.messages import Message, ToolCall


class RunningView:
    """The view and its sizes; the fitter changes it only through these methods."""

    def __init__(self) -> None:
        self.summary: Message | None = None
        self.offset = 0  # leading messages of the loop's list the summary stands for
        self.short: dict[int, Message] = {}  # loop index -> shortened copy
        self.entries: list[Message] = []  # the view
        self.sizes: list[int] = []  # estimate_message of each entry
        self.total = 0  # sum of sizes
        self.calls: dict[str, ToolCall] = {}  # the calls of the loop's messages[offset:] by id
        self.sent: list[Message] = []  # the last request's messages
        self.intact = True  # the view still starts with exactly the sent messages
        self.added = 0  # tokens of the entries after the sent ones (meaningful while intact)
        self.cursors: dict[int, int] = {}  # see skippable_until
        self._seen = 0  # loop messages covered
        self._first: Message | None = None
        self._last: Message | None = None
        self._last_text = ""

    # -- following the loop's list ---------------------------------------------------------
    def sync(self, messages: Sequence[Message]) -> None:
        """Bring the view up to ``messages``: the new ones only, when it continues the list
        seen before; else all of it."""
        n, seen = len(messages), self._seen
        if n < seen or (seen and (messages[0] is not self._first
                                  or messages[seen - 1] is not self._last)):
            self.rebuild(messages)
            return
        if seen and self._last is not None and self._last.text is not self._last_text:
            index = seen - 1  # changed after it was seen (a late loop note)
            if index >= self.offset and index not in self.short:
                self._set(index, self._last, copy=False)
        for i in range(max(seen, self.offset), n):
            message = messages[i]
            for call in message.tool_calls:
                self.calls[call.id] = call
            entry = self.short.get(i, message)
            size = estimate_message(entry)
            self.entries.append(entry)
            self.sizes.append(size)
            self.total += size
            self.added += size
        self._remember(messages)

    def rebuild(self, messages: Sequence[Message]) -> None:
        """The view of ``messages`` computed whole (the same as ``sync`` gives)."""
        head = [self.summary] if self.summary is not None else []
        self.entries = head + [self.short.get(i, messages[i])
                               for i in range(self.offset, len(messages))]
        self.sizes = [estimate_message(m) for m in self.entries]
        self.total = sum(self.sizes)
        self.calls = {c.id: c for m in messages[self.offset:] for c in m.tool_calls}
        self.intact = len(self.entries) >= len(self.sent) and all(
            a is b for a, b in zip(self.entries, self.sent, strict=False))
        self.added = sum(self.sizes[len(self.sent):])
        self.cursors.clear()
        self._remember(messages)

    def _remember(self, messages: Sequence[Message]) -> None:
        self._seen = len(messages)
        self._first = messages[0] if messages else None
        self._last = messages[-1] if messages else None
        self._last_text = self._last.text if self._last is not None else ""

    # -- changes ---------------------------------------------------------------------------
    def position(self, index: int) -> int:
        """Where the loop's message ``index`` (at or after ``offset``) is in the view."""
        return index - self.offset + (1 if self.summary is not None else 0)

    def shorten(self, index: int, cut: Message) -> None:
        """Send ``cut`` in place of the loop's message ``index``."""
        self.short[index] = cut
        self._set(index, cut, copy=True)

    def _set(self, index: int, entry: Message, *, copy: bool) -> None:
        at = self.position(index)
        size = estimate_message(entry)
        delta, self.sizes[at] = size - self.sizes[at], size
        self.entries[at] = entry
        self.total += delta
        if at >= len(self.sent):
            self.added += delta
        elif copy:  # a new object where the sent one was (a changed text keeps the object)
            self.intact = False
        for limit, cursor in self.cursors.items():
            self.cursors[limit] = min(cursor, index)

    def compact(self, messages: Sequence[Message], split: int, summary: Message) -> None:
        """``summary`` now stands for the loop's first ``split`` messages."""
        at = self.position(split)
        self.entries = [summary, *self.entries[at:]]
        self.sizes = [estimate_message(summary), *self.sizes[at:]]
        self.total = sum(self.sizes)
        self.summary, self.offset = summary, split
        self.short = {i: m for i, m in self.short.items() if i >= split}
        self.calls = {c.id: c for m in messages[split:] for c in m.tool_calls}
        self.intact = not self.sent  # the head changed under whatever was sent
        self.added = sum(self.sizes[len(self.sent):])

    def mark_sent(self) -> list[Message]:
        """The view as the request's message list (a copy of its own), remembered as the last
        one sent."""
        self.sent = list(self.entries)
        self.intact, self.added = True, 0
        return list(self.sent)

    # -- shortening old results -------------------------------------------------------------
    def skippable_until(self, limit: int) -> int:
        """Loop messages before this index (from ``offset``) were found, by the shortening
        pass with this ``limit``, not to be tool results bigger than it, and have not changed
        since: the pass need not look at them again."""
        return max(self.cursors.get(limit, 0), self.offset)

    def skippable(self, limit: int, index: int) -> None:
        """Message ``index`` was skipped by the shortening pass with ``limit`` and all before it
        from ``skippable_until(limit)`` on."""
        self.cursors[limit] = index + 1

    def tokens_between(self, start: int, end: int) -> int:
        """The estimate of the loop's messages ``[start, end)`` as the view has them."""
        return sum(self.sizes[self.position(start):self.position(end)])
