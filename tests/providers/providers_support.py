"""Helpers for the provider tests: build a client against a loopback server, run a request."""

from __future__ import annotations

from typing import Any

from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
)
from joiner.providers import anthropic, openai
from joiner.providers._client import SSEClient
from joiner.testing.loopback import LoopbackServer

KINDS = ("openai", "anthropic")
READ_FILE = ToolSpec("read_file", "Read a file.", {
    "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})


def client(kind: str, server: LoopbackServer, **settings: Any) -> SSEClient:
    """The real client of ``kind`` pointed at ``server``."""
    settings.setdefault("api_key", "sk-test-key")
    if kind == "openai":
        return openai.create("gpt-test", {"base_url": server.openai_base_url, **settings})
    return anthropic.create("claude-test", {"base_url": server.base_url, **settings})


def request(prompt: str = "Hello", *, system: str = "You are terse.",
            history: list[Message] | None = None, tools: list[ToolSpec] | None = None
            ) -> ModelRequest:
    return ModelRequest(system, [*(history or []), Message.user(prompt)],
                        [READ_FILE] if tools is None else tools)


async def run(provider: SSEClient, req: ModelRequest | None = None
              ) -> tuple[list[StreamItem], ModelResponse]:
    """Every delta the stream yielded, and its one final ``ModelResponse``."""
    items = [item async for item in provider.stream(req or request())]
    await provider.aclose()
    *deltas, last = items
    assert isinstance(last, ModelResponse)
    assert all(isinstance(d, TextDelta | ToolCallDelta) for d in deltas)
    return deltas, last


def streamed_text(deltas: list[StreamItem]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, TextDelta))
