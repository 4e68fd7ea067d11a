"""``replay/SESSION_ID``: answers a new run with the model answers recorded in a session.

Offline and deterministic: the n-th request of the run gets the session's n-th
``assistant_message`` (text streamed in chunks, then its tool calls, with the
recorded usage), whatever the request says. A run that asks for more answers
than were recorded fails with a non-retryable ``ProviderError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from joiner.core import ProviderError
from joiner.core.events import ASSISTANT_MESSAGE, USAGE
from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from joiner.providers import ProviderConfigError

CHUNK = 24  # characters per streamed text delta


@dataclass(slots=True)
class RecordedAnswer:
    message: Message
    usage: Usage
    stop_reason: str
    model: str


class ReplayProvider:
    def __init__(self, session_id: str, answers: list[RecordedAnswer]) -> None:
        self.session_id = session_id
        self.name = f"replay/{session_id}"
        self.answers = answers
        self.requests = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        index = self.requests
        self.requests += 1
        if index >= len(self.answers):
            raise ProviderError(self.name, (
                f"session {self.session_id[:12]} recorded {len(self.answers)} model answer"
                f"{'s' if len(self.answers) != 1 else ''}; this run asked for answer {index + 1}"
                " (the replay has diverged from the recording or goes further than it)"),
                retryable=False)
        answer = self.answers[index]
        text = answer.message.text
        for start in range(0, len(text), CHUNK):
            yield TextDelta(text[start : start + CHUNK])
        calls = [ToolCall(c.id, c.name, c.arguments) for c in answer.message.tool_calls]
        for i, call in enumerate(calls):
            yield ToolCallDelta(i, call.id, call.name, call.arguments)
        yield ModelResponse(Message("assistant", text, calls),
                            Usage(**answer.usage.to_dict()), answer.stop_reason, answer.model)


def recorded_answers(events: list[Any]) -> list[RecordedAnswer]:
    """Each ``assistant_message`` of the log with the ``usage`` event that follows it."""
    answers: list[RecordedAnswer] = []
    has_usage: list[bool] = []
    for event in events:
        if event.type == ASSISTANT_MESSAGE:
            message = Message.from_dict(event.data["message"])
            stop = event.data.get("stop_reason") or ("tool_use" if message.tool_calls
                                                     else "end_turn")
            answers.append(RecordedAnswer(message, Usage(), stop, event.data.get("model", "")))
            has_usage.append(False)
        elif event.type == USAGE and answers and not has_usage[-1]:
            answers[-1].usage = Usage.from_dict(event.data)
            has_usage[-1] = True
    return answers


def create(model: str, settings: dict[str, Any]) -> ReplayProvider:
    """``model`` is the session id or a unique prefix of it; the store is ``open_store()``'s."""
    from joiner.sessions import StoreError, open_store

    try:
        store = open_store(settings.get("store_path"))
        try:
            session_id = store.resolve(model)
            answers = recorded_answers(store.events(session_id,
                                                    types=[ASSISTANT_MESSAGE, USAGE]))
        finally:
            store.close()
    except StoreError as err:
        raise ProviderConfigError(f"replay: {err}") from None
    if not answers:
        raise ProviderConfigError(f"replay: session {session_id[:12]} has no recorded model "
                                  "answers to replay")
    return ReplayProvider(session_id, answers)
