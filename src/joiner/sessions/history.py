"""The conversation of a session, rebuilt from its event log.

``rebuild_messages`` gives the exact message list the loop had: user prompts,
assistant answers, and after each answer its tool results in call order (they
are logged in completion order). A call left without a result (the process died
between the call and its result) gets an error result saying it was
interrupted, so a resumed session is always a valid conversation.
"""

from __future__ import annotations

from collections.abc import Iterable

from joiner.core.events import ASSISTANT_MESSAGE, TOOL_RESULT, USER_PROMPT, Event
from joiner.core.guards import LoopGuard
from joiner.core.messages import Message

INTERRUPTED_RESULT = ("Interrupted: the session stopped before this tool call returned a result; "
                      "check its effects before relying on it.")


class _Turn:
    """An assistant answer and the results of its calls, as they are found in the log."""

    def __init__(self, answer: Message, run: int) -> None:
        self.answer = answer
        self.run = run
        self.results: dict[int, Message] = {}  # call index -> result

    def take(self, result: Message) -> bool:
        for index, call in enumerate(self.answer.tool_calls):
            if call.id == result.tool_call_id and index not in self.results:
                self.results[index] = result
                return True
        return False

    def ordered_results(self) -> tuple[list[Message], bool]:
        """The results in call order, and whether they are all real (none synthetic)."""
        out, complete = [], True
        for index, call in enumerate(self.answer.tool_calls):
            result = self.results.get(index)
            if result is None:
                complete = False
                result = Message.tool_result(call, INTERRUPTED_RESULT, is_error=True)
            out.append(result)
        return out, complete


def rebuild_messages(events: Iterable[Event]) -> list[Message]:
    """The conversation recorded in ``events`` (any order of reading, sorted by ``seq``)."""
    items: list[Message | _Turn] = []
    open_turns: list[_Turn] = []  # turns still missing results, oldest first
    run = 0
    for event in _in_order(events):
        if event.type == USER_PROMPT:
            run += 1
            items.append(Message.from_dict(event.data["message"]))
        elif event.type == ASSISTANT_MESSAGE:
            answer = Message.from_dict(event.data["message"])
            if answer.tool_calls:
                turn = _Turn(answer, run)
                items.append(turn)
                open_turns.append(turn)
            else:
                items.append(answer)
        elif event.type == TOOL_RESULT:
            result = Message.from_dict(event.data["message"])
            for turn in open_turns:
                if turn.take(result):
                    if len(turn.results) == len(turn.answer.tool_calls):
                        open_turns.remove(turn)
                    break
    return _flatten(items)


def _flatten(items: list[Message | _Turn]) -> list[Message]:
    messages: list[Message] = []
    guard, guard_run = LoopGuard(), 0
    for item in items:
        if isinstance(item, Message):
            messages.append(item)
            continue
        results, complete = item.ordered_results()
        messages.append(item.answer)
        messages.extend(results)
        if item.run != guard_run:  # the loop's guard lives for one run
            guard, guard_run = LoopGuard(), item.run
        if complete and guard.observe(item.answer, results) == "warn":
            # the loop added this note to the last result after logging it: add it again
            results[-1].text += f"\n\n[joiner] {guard.note}"
    return messages


def _in_order(events: Iterable[Event]) -> list[Event]:
    listed = list(events)
    if all(e.seq is not None for e in listed):
        listed.sort(key=lambda e: e.seq or 0)
    return listed
