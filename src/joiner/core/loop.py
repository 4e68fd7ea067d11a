"""The agent loop.

Send the conversation and the tool schemas, stream the answer, run the tool
calls, send the results back; repeat until the model answers without tools or a
limit is reached. Everything that happens is an event given to the sink.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joiner.core import Approver, ContextFitter, EventSink, Meter, Provider, ProviderError, Tool
from joiner.core.events import (
    ASSISTANT_MESSAGE,
    ERROR,
    INTERRUPTED,
    LOOP_NOTE,
    REQUEST_START,
    TEXT_DELTA,
    TOOL_CALL_DELTA,
    TOOL_RESULT,
    USAGE,
    USER_PROMPT,
    Event,
)
from joiner.core.guards import LoopGuard, with_note
from joiner.core.messages import Message, ModelRequest, ModelResponse, TextDelta, ToolCallDelta
from joiner.core.retry import RetryPolicy, stream_with_retry
from joiner.core.tool_runner import ToolRunner


@dataclass(slots=True)
class RunResult:
    result: str
    stop_reason: str  # end_turn | max_turns | budget | error | interrupted | loop
    num_turns: int
    usage: dict[str, Any]
    messages: list[Message] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.stop_reason != "end_turn"


class Agent:
    def __init__(
        self,
        provider: Provider,
        tools: Sequence[Tool],
        approver: Approver,
        sink: EventSink,
        meter: Meter,
        *,
        system: str = "",
        max_turns: int | None = None,
        retry: RetryPolicy | None = None,
        context: ContextFitter | None = None,
        tool_timeout: float = 600.0,
    ) -> None:
        self.provider = provider
        self.tools = list(tools)
        self.sink = sink
        self.meter = meter
        self.system = system
        self.max_turns = max_turns
        self.retry = retry or RetryPolicy()
        self.context = context
        self.runner = ToolRunner(self.tools, approver, sink, tool_timeout)

    async def run(self, prompt: str, history: Sequence[Message] = ()) -> RunResult:
        """Answer ``prompt`` after ``history``. The prompt is recorded before any request."""
        messages = [*history, Message.user(prompt)]
        self.sink.emit(Event(USER_PROMPT, {"message": messages[-1].to_dict()}))
        turns = 0
        guard = LoopGuard()
        try:
            while True:
                if (stop := self._limit_reached(turns)) is not None:
                    return self._finish(stop[0], stop[1], turns, messages)
                turns += 1
                response = await self._request(messages, turns)
                messages.append(response.message)
                calls = response.message.tool_calls
                if not calls:
                    return self._finish("end_turn", response.message.text, turns, messages)
                results = await self.runner.run_all(calls)
                messages.extend(results)
                verdict = guard.observe(response.message, results)
                if verdict == "stop":
                    return self._finish("loop", guard.message, turns, messages)
                if verdict == "warn":
                    self._note(messages[-1], guard.note)
        except ProviderError as err:
            return self._finish("error", str(err), turns, messages)
        except asyncio.CancelledError:
            self._close_dangling(messages)
            self.sink.emit(Event(INTERRUPTED, {"reason": "interrupted by the user"}))
            return self._finish("interrupted", "Interrupted by the user.", turns, messages)

    async def _request(self, messages: list[Message], turn: int) -> ModelResponse:
        request = ModelRequest(self.system, list(messages), [t.spec for t in self.tools])
        if self.context is not None:
            request = await self.context.fit(request, self.provider)
        self.sink.emit(Event(REQUEST_START, {"turn": turn, "model": self.provider.name}))
        response: ModelResponse | None = None
        async for item in stream_with_retry(self.provider, request, self.sink, self.retry):
            if isinstance(item, TextDelta):
                self.sink.emit(Event(TEXT_DELTA, {"text": item.text}))
            elif isinstance(item, ToolCallDelta):
                self.sink.emit(Event(TOOL_CALL_DELTA, {
                    "index": item.index, "id": item.id, "name": item.name,
                    "arguments": item.arguments}))
            else:
                response = item
        if response is None:
            raise ProviderError(self.provider.name, "the stream ended without an answer")
        self.sink.emit(Event(ASSISTANT_MESSAGE, {"message": response.message.to_dict(),
                                                 "stop_reason": response.stop_reason,
                                                 "model": response.model or self.provider.name}))
        self.sink.emit(Event(USAGE, {"turn": turn,
                                     **self.meter.record(response.usage, self.provider.name)}))
        return response

    def _note(self, result: Message, note: str) -> None:
        """Tell the model about a loop in ``result`` (a tool result already recorded): the
        ``loop_note`` event is what a resumed session rebuilds it from."""
        result.text = with_note(result.text, note)
        self.sink.emit(Event(LOOP_NOTE, {"tool_call_id": result.tool_call_id, "note": note}))

    def _limit_reached(self, turns: int) -> tuple[str, str] | None:
        if self.max_turns is not None and turns >= self.max_turns:
            return "max_turns", f"Stopped: reached the limit of {self.max_turns} turns."
        if (message := self.meter.budget_exceeded()) is not None:
            return "budget", message
        return None

    def _close_dangling(self, messages: list[Message]) -> None:
        """Give every unanswered tool call an 'interrupted' result, so the session resumes."""
        last = next((m for m in reversed(messages) if m.role == "assistant"), None)
        if last is None:
            return
        answered = {m.tool_call_id for m in messages if m.role == "tool"}
        for call in last.tool_calls:
            if call.id not in answered:
                result = Message.tool_result(call, "Interrupted by the user before it finished.",
                                             is_error=True)
                messages.append(result)
                self.sink.emit(Event(TOOL_RESULT, {"message": result.to_dict(),
                                                   "interrupted": True}))

    def _finish(self, stop: str, text: str, turns: int, messages: list[Message]) -> RunResult:
        if stop not in ("end_turn",):
            self.sink.emit(Event(ERROR, {"message": text, "stop_reason": stop}))
        return RunResult(text, stop, turns, self.meter.total(), messages)
