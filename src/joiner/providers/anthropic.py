"""``anthropic/MODEL``: the Messages API, streamed, on httpx.

``ANTHROPIC_BASE_URL`` has no version path; requests go to ``{base}/v1/messages``.
The neutral conversation maps onto Messages like this: the system prompt is the
top-level ``system``; assistant tool calls are ``tool_use`` blocks; consecutive
``tool`` messages become one user message of ``tool_result`` blocks. The last
block of the conversation carries a ``cache_control`` breakpoint (unless the
setting ``prompt_cache`` is false), so each turn of an agent run reads the
previous turns from the prompt cache instead of paying for them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from joiner.core.messages import Message, ModelRequest, StreamItem
from joiner.providers._client import Draft, SSEClient
from joiner.providers._http import ClientSettings, resolve_settings, stream_error

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
STOP_REASONS = {"end_turn": "end_turn", "stop_sequence": "end_turn", "tool_use": "tool_use",
                "max_tokens": "max_tokens", "model_context_window_exceeded": "max_tokens"}
USAGE_FIELDS = {"input_tokens": "input_tokens", "output_tokens": "output_tokens",
                "cache_read_input_tokens": "cache_read_tokens",
                "cache_creation_input_tokens": "cache_write_tokens"}


class AnthropicProvider(SSEClient):
    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"

    def __init__(self, model: str, config: ClientSettings,
                 transport: httpx.AsyncBaseTransport | None = None,
                 prompt_cache: bool = True) -> None:
        super().__init__(model, config, transport)
        self.prompt_cache = prompt_cache

    def url(self) -> str:
        return f"{self.config.base_url}/v1/messages"

    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.config.api_key or "", "anthropic-version": API_VERSION}

    def body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.config.max_tokens or request.max_tokens,
            "messages": to_wire(request.messages, cache=self.prompt_cache),
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.tools:
            body["tools"] = [{"name": t.name, "description": t.description,
                              "input_schema": t.parameters} for t in request.tools]
        return body

    def on_event(self, draft: Draft, event: str, data: str) -> Iterable[StreamItem]:
        if not data.strip():
            return []
        payload = json.loads(data)
        if not isinstance(payload, dict):
            raise ValueError("event data is not a JSON object")
        kind = payload.get("type") or event
        if kind == "content_block_delta":
            delta = payload["delta"]
            if delta.get("type") == "text_delta":
                return draft.add_text(delta.get("text"))
            if delta.get("type") == "input_json_delta" and payload["index"] in draft.calls:
                return draft.add_call(payload["index"], arguments=delta.get("partial_json"))
            return []  # thinking, signatures, citations: not shown
        if kind == "content_block_start":
            block = payload["content_block"]
            if block.get("type") == "text":
                return draft.add_text(block.get("text"))
            if block.get("type") == "tool_use":
                given = block.get("input")
                return draft.add_call(payload["index"], block.get("id"), block.get("name"),
                                      fallback=json.dumps(given) if given else "")
        elif kind == "message_start":
            _set_usage(draft, payload["message"].get("usage"))
        elif kind == "message_delta":
            _set_usage(draft, payload.get("usage"))
            if reason := (payload.get("delta") or {}).get("stop_reason"):
                draft.stop = STOP_REASONS.get(reason, "end_turn")
        elif kind == "message_stop":
            draft.done = True
        elif kind == "error":
            raise stream_error(self.provider, payload, self.config.api_key)
        return []  # ping, content_block_stop and event types added later

    def on_body(self, draft: Draft, data: Any) -> None:
        if data.get("type") == "error":
            raise stream_error(self.provider, data, self.config.api_key)
        for index, block in enumerate(data["content"]):
            if block.get("type") == "text":
                draft.add_text(block.get("text"))
            elif block.get("type") == "tool_use":
                draft.add_call(index, block.get("id"), block.get("name"),
                               json.dumps(block.get("input") or {}))
        _set_usage(draft, data.get("usage"))
        draft.stop = STOP_REASONS.get(data.get("stop_reason") or "end_turn", "end_turn")


def _set_usage(draft: Draft, usage: Any) -> None:
    if isinstance(usage, dict):
        draft.set_usage(**{ours: usage.get(wire) for wire, ours in USAGE_FIELDS.items()})


def _tool_input(arguments: str) -> dict[str, Any]:
    """Messages wants ``tool_use.input`` as an object; arguments that are not one become {}."""
    try:
        value = json.loads(arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def to_wire(messages: list[Message], cache: bool = False) -> list[dict[str, Any]]:
    """The neutral conversation as Messages API messages."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id or ""}
            if m.text:
                result["content"] = m.text
            if m.is_error:
                result["is_error"] = True
            previous = wire[-1] if wire else None
            if previous and previous["role"] == "user" and isinstance(previous["content"], list) \
                    and previous["content"][-1].get("type") == "tool_result":
                previous["content"].append(result)
            else:
                wire.append({"role": "user", "content": [result]})
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.text}] if m.text else []
            blocks += [{"type": "tool_use", "id": c.id, "name": c.name,
                        "input": _tool_input(c.arguments)} for c in m.tool_calls]
            if blocks:  # an empty answer cannot be sent back; the turns around it merge
                wire.append({"role": "assistant", "content": blocks})
        else:
            wire.append({"role": "user", "content": m.text or "(empty)"})
    if cache and wire:
        last = wire[-1]
        if isinstance(last["content"], str):
            last["content"] = [{"type": "text", "text": last["content"]}]
        last["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return wire


def create(model: str, settings: dict[str, Any],
           transport: httpx.AsyncBaseTransport | None = None) -> AnthropicProvider:
    config = resolve_settings(settings, key_env="ANTHROPIC_API_KEY",
                              url_env="ANTHROPIC_BASE_URL", default_url=DEFAULT_BASE_URL)
    return AnthropicProvider(model, config, transport,
                             prompt_cache=settings.get("prompt_cache", True) is not False)
