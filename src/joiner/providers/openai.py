"""``openai/MODEL``: the Chat Completions wire format, streamed, on httpx.

Works with OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp's
server): ``OPENAI_BASE_URL`` includes the version path and requests go to
``{base}/chat/completions``. A non-default base URL needs no key.

Usage mapping: OpenAI's ``prompt_tokens`` *includes* the cached prompt tokens
(``prompt_tokens_details.cached_tokens``). Joiner's ``Usage`` keeps the kinds
apart, as Anthropic reports them, so cost code can price each at its own rate:
``input_tokens = prompt_tokens - cached_tokens`` and ``cache_read_tokens =
cached_tokens``. OpenAI has no cache-write charge, so ``cache_write_tokens`` is 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from joiner.core.messages import Message, ModelRequest, StreamItem
from joiner.providers._client import Draft, SSEClient
from joiner.providers._http import ClientSettings, as_int, resolve_settings, stream_error

DEFAULT_BASE_URL = "https://api.openai.com/v1"
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use",
                "length": "max_tokens", "content_filter": "end_turn"}


class OpenAIProvider(SSEClient):
    provider = "openai"
    key_env = "OPENAI_API_KEY"

    def url(self) -> str:
        return f"{self.config.base_url}/chat/completions"

    def headers(self) -> dict[str, str]:
        key = self.config.api_key
        return {"authorization": f"Bearer {key}"} if key else {}

    def body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": to_wire(request.system, request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description,
                                                  "parameters": t.parameters}}
                for t in request.tools
            ]
        # OpenAI's own API wants max_completion_tokens (its newer models refuse max_tokens);
        # the compatible servers know max_tokens.
        official = self.config.base_url == DEFAULT_BASE_URL
        body["max_completion_tokens" if official else "max_tokens"] = (
            self.config.max_tokens or request.max_tokens)
        return body

    def on_event(self, draft: Draft, event: str, data: str) -> Iterable[StreamItem]:
        if not data.startswith("{"):  # the end marker, keep-alives; anything else is malformed
            if data.strip() == "[DONE]":
                draft.done = True
                return ()
            if not data.strip():
                return ()
        chunk = json.loads(data)
        if chunk.get("error") or event == "error":
            raise stream_error(self.provider, chunk, self.config.api_key)
        if (usage := chunk.get("usage")) is not None:
            _set_usage(draft, usage)
        choices = chunk.get("choices")
        if not choices or choices[0].get("index", 0) != 0:
            return ()  # the usage chunk, or a choice other than the first (never asked for)
        choice = choices[0]
        delta = choice.get("delta") or {}
        items = draft.add_text(delta.get("content")) if "content" in delta else []
        if calls := delta.get("tool_calls"):
            for position, call in enumerate(calls):
                function = call.get("function") or {}
                items += draft.add_call(call.get("index", position), call.get("id"),
                                        function.get("name"), function.get("arguments"))
        if reason := choice.get("finish_reason"):
            draft.stop = STOP_REASONS.get(reason, "end_turn")
            draft.done = True  # [DONE] and the usage chunk may still follow
        return items

    def on_body(self, draft: Draft, data: Any) -> None:
        if data.get("error"):
            raise stream_error(self.provider, data, self.config.api_key)
        _set_usage(draft, data.get("usage"))
        choice = data["choices"][0]
        message = choice.get("message") or {}
        draft.add_text(message.get("content"))
        for position, call in enumerate(message.get("tool_calls") or ()):
            function = call.get("function") or {}
            draft.add_call(position, call.get("id"), function.get("name"),
                           function.get("arguments"))
        draft.stop = STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn")


def _set_usage(draft: Draft, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    details = usage.get("prompt_tokens_details") or {}
    cached = as_int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    draft.set_usage(input_tokens=max(as_int(usage.get("prompt_tokens")) - cached, 0),
                    output_tokens=usage.get("completion_tokens"), cache_read_tokens=cached)


def to_wire(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """The neutral conversation as Chat Completions messages."""
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        if m.role == "tool":
            wire.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.text})
        elif m.role == "assistant" and m.tool_calls:
            wire.append({"role": "assistant", "content": m.text or None, "tool_calls": [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments or "{}"}}
                for c in m.tool_calls]})
        else:
            wire.append({"role": m.role, "content": m.text})
    return wire


def create(model: str, settings: dict[str, Any],
           transport: httpx.AsyncBaseTransport | None = None) -> OpenAIProvider:
    config: ClientSettings = resolve_settings(
        settings, key_env="OPENAI_API_KEY", url_env="OPENAI_BASE_URL",
        default_url=DEFAULT_BASE_URL, key_optional_off_default=True)
    return OpenAIProvider(model, config, transport)
