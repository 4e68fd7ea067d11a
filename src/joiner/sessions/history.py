"""The conversation of a session, rebuilt from its event log.

``rebuild_messages`` gives the exact message list the loop had: user prompts,
assistant answers, and after each answer its tool results in call order (they
are logged in completion order). A call left without a result (the process died
between the call and its result) gets an error result saying it was
interrupted, so a resumed session is always a valid conversation. A loop guard's
note (``loop_note``) is added to the result it names, as the loop added it.
"""

from __future__ import annotations

from collections.abc import Iterable

from joiner.core.events import (
    ASSISTANT_MESSAGE,
    COMPACTION,
    LOOP_NOTE,
    TOOL_RESULT,
    USER_PROMPT,
    Event,
)
from joiner.core.guards import with_note
from joiner.core.messages import Message

INTERRUPTED_RESULT = ("Interrupted: the session stopped before this tool call returned a result; "
                      "check its effects before relying on it.")


class _Turn:
    """An assistant answer and the results of its calls, as they are found in the log."""

    def __init__(self, answer: Message) -> None:
        self.answer = answer
        self.results: dict[int, Message] = {}  # call index -> result

    def take(self, result: Message) -> bool:
        for index, call in enumerate(self.answer.tool_calls):
            if call.id == result.tool_call_id and index not in self.results:
                self.results[index] = result
                return True
        return False

    def add_note(self, call_id: str | None, note: str) -> None:
        for result in self.results.values():
            if result.tool_call_id == call_id:
                result.text = with_note(result.text, note)
                return

    def ordered_results(self) -> list[Message]:
        """The results in call order; a call without one gets an 'interrupted' result."""
        return [self.results.get(index)
                or Message.tool_result(call, INTERRUPTED_RESULT, is_error=True)
                for index, call in enumerate(self.answer.tool_calls)]


def rebuild_messages(events: Iterable[Event], *, full: bool = False) -> list[Message]:
    """The conversation recorded in ``events`` (any order of reading, sorted by ``seq``).

    A ``compaction`` event replaces the leading messages it names by its summary message, so a
    resumed session sends what the model last saw; with ``full`` the history is kept whole and
    the summary message is put where the compaction happened (``sessions show``).
    """
    items: list[Message | _Turn] = []
    open_turns: list[_Turn] = []  # turns still missing results, oldest first
    last_turn: _Turn | None = None
    for event in _in_order(events):
        if event.type == USER_PROMPT:
            items.append(Message.from_dict(event.data["message"]))
        elif event.type == ASSISTANT_MESSAGE:
            answer = Message.from_dict(event.data["message"])
            if answer.tool_calls:
                last_turn = _Turn(answer)
                items.append(last_turn)
                open_turns.append(last_turn)
            else:
                items.append(answer)
        elif event.type == TOOL_RESULT:
            result = Message.from_dict(event.data["message"])
            for turn in open_turns:
                if turn.take(result):
                    if len(turn.results) == len(turn.answer.tool_calls):
                        open_turns.remove(turn)
                    break
        elif event.type == LOOP_NOTE and last_turn is not None:
            last_turn.add_note(event.data.get("tool_call_id"), str(event.data.get("note", "")))
        elif event.type == COMPACTION:
            summary = Message.from_dict(event.data["message"])
            if full:
                items.append(summary)
            else:
                items = [summary, *_flatten(items)[int(event.data.get("replaced", 0)):]]
                open_turns, last_turn = [], None
    return _flatten(items)


def _flatten(items: list[Message | _Turn]) -> list[Message]:
    messages: list[Message] = []
    for item in items:
        if isinstance(item, _Turn):
            messages.append(item.answer)
            messages.extend(item.ordered_results())
        else:
            messages.append(item)
    return messages


def _in_order(events: Iterable[Event]) -> list[Event]:
    listed = list(events)
    if all(e.seq is not None for e in listed):
        listed.sort(key=lambda e: e.seq or 0)
    return listed
