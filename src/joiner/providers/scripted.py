"""A deterministic, scripted provider for tests and benchmarks.

Each script step is one model answer: text and/or tool calls. Steps are given
as ``Message`` objects or plain dicts ``{"text": ..., "tool_calls": [{"name",
"arguments"}], "usage": {...}}``. The provider records every request it got.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from joiner.core import ProviderError
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


class ScriptedProvider:
    def __init__(self, steps: Iterable[Message | dict[str, Any]], name: str = "scripted/test",
                 chunk: int = 16) -> None:
        self.name = name
        self.steps = [self._as_step(s, i) for i, s in enumerate(steps)]
        self.requests: list[ModelRequest] = []
        self.chunk = chunk

    @staticmethod
    def _as_step(step: Message | dict[str, Any], index: int) -> tuple[Message, Usage]:
        if isinstance(step, Message):
            return step, Usage(10, 5)
        calls = [
            ToolCall(c.get("id", f"call_{index}_{j}"), c["name"],
                     c["arguments"] if isinstance(c["arguments"], str)
                     else json.dumps(c["arguments"]))
            for j, c in enumerate(step.get("tool_calls", []))
        ]
        usage = Usage(**step.get("usage", {"input_tokens": 10, "output_tokens": 5}))
        return Message("assistant", step.get("text", ""), calls), usage

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        self.requests.append(request)
        if len(self.requests) > len(self.steps):
            raise ProviderError(self.name, "the script has no more answers")
        message, usage = self.steps[len(self.requests) - 1]
        for i in range(0, len(message.text), self.chunk):
            yield TextDelta(message.text[i : i + self.chunk])
        for i, call in enumerate(message.tool_calls):
            yield ToolCallDelta(i, call.id, call.name, call.arguments)
        stop = "tool_use" if message.tool_calls else "end_turn"
        yield ModelResponse(message, usage, stop, self.name)


def create(model: str, settings: dict[str, Any]) -> ScriptedProvider:
    """``scripted/PATH.json``: a JSON list of steps (used by benchmarks and manual checks)."""
    with open(model, encoding="utf-8") as f:
        return ScriptedProvider(json.load(f), name=f"scripted/{model}")
