"""The two wire formats the loopback server speaks, rendered from one scripted answer.

Each ``events`` generator yields the SSE events of one streamed answer as
``(kind, bytes, text_chars)``, so the server can stall, cut or corrupt the stream at
the right place; ``whole`` is the non-streamed JSON answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Events = Iterator[tuple[str, bytes, int]]  # (kind: start | text | other, SSE bytes, text chars)
DEFAULT_USAGE = {"input_tokens": 10, "output_tokens": 5}  # as the ScriptedProvider's
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 529: "overloaded_error"}


@dataclass(slots=True)
class Answer:
    """One scripted answer, normalized."""

    number: int  # 1-based count of the request it answers
    text: str = ""
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, arguments JSON
    usage: dict[str, int] | None = None
    chunk: int = 4
    cut_after: int | None = None
    malformed: bool = False
    stall_s: float = 0.0
    stream_error: dict[str, Any] | None = None
    gap_s: float = 0.0

    @classmethod
    def from_step(cls, step: dict[str, Any], number: int, chunk: int) -> Answer:
        calls = [(c.get("id") or f"call_{number}_{j}", c["name"],
                  c["arguments"] if isinstance(c.get("arguments"), str)
                  else json.dumps(c.get("arguments", {})))
                 for j, c in enumerate(step.get("tool_calls", []))]
        usage = None if step.get("no_usage") else {
            "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
            "cache_write_tokens": 0, **step.get("usage", DEFAULT_USAGE)}
        return cls(number, step.get("text", ""), calls, usage,
                   max(int(step.get("chunk_chars", chunk)), 1), step.get("cut_after_chars"),
                   bool(step.get("malformed")), float(step.get("stall_s", 0.0)),
                   step.get("stream_error"), float(step.get("gap_s", 0.0)))

    def pieces(self, text: str) -> list[str]:
        """``text`` in deltas of ``chunk`` characters; the cut point is always a boundary."""
        at = self.cut_after
        cuts = [text] if at is None else [text[:at], text[at:]]
        return [p[i : i + self.chunk] for p in cuts for i in range(0, len(p), self.chunk)]


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: %s\n\n" % json.dumps(data, ensure_ascii=False).encode()


def _event(data: dict[str, Any]) -> bytes:
    """An Anthropic-style event: its type named on the ``event:`` line too."""
    payload = json.dumps(data, ensure_ascii=False).encode()
    return b"event: %s\ndata: %s\n\n" % (data["type"].encode(), payload)


class OpenAIWire:
    malformed = b'data: {"choices": [{"delta": {"content": "oo\n\n'

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": ERROR_TYPES.get(status, "server_error"),
                          "param": None, "code": None}}

    def error_event(self, error: dict[str, Any]) -> bytes:
        return _sse({"error": error})

    def _usage(self, a: Answer) -> dict[str, Any]:
        u = a.usage or {}
        prompt = u["input_tokens"] + u["cache_read_tokens"] + u["cache_write_tokens"]
        return {"prompt_tokens": prompt, "completion_tokens": u["output_tokens"],
                "total_tokens": prompt + u["output_tokens"],
                "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]}}

    def whole(self, a: Answer, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": a.text or None}
        if a.calls:
            message["tool_calls"] = [{"id": i, "type": "function",
                                      "function": {"name": n, "arguments": args}}
                                     for i, n, args in a.calls]
        body = {"id": f"chatcmpl-{a.number}", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if a.calls else "stop"}]}
        return body | ({"usage": self._usage(a)} if a.usage else {})

    def events(self, a: Answer, model: str, body: dict[str, Any]) -> Events:
        head = {"id": f"chatcmpl-{a.number}", "object": "chat.completion.chunk", "model": model}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _sse({**head, "choices": [choice]})

        yield "start", chunk({"role": "assistant", "content": ""}), 0
        for piece in a.pieces(a.text):
            yield "text", chunk({"content": piece}), len(piece)
        for index, (call_id, name, arguments) in enumerate(a.calls):
            yield "other", chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                                  "function": {"name": name, "arguments": ""}}]}), 0
            for piece in a.pieces(arguments):
                yield "other", chunk({"tool_calls": [{"index": index,
                                                      "function": {"arguments": piece}}]}), 0
        yield "other", chunk({}, "tool_calls" if a.calls else "stop"), 0
        if a.usage and (body.get("stream_options") or {}).get("include_usage"):
            yield "other", _sse({**head, "choices": [], "usage": self._usage(a)}), 0
        yield "other", b"data: [DONE]\n\n", 0


class AnthropicWire:
    malformed = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"),
                                           "message": message}}

    def error_event(self, error: dict[str, Any]) -> bytes:
        return _event({"type": "error", "error": error})

    def _blocks(self, a: Answer) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": a.text}] if a.text else []
        return blocks + [{"type": "tool_use", "id": i, "name": n, "input": json.loads(args)}
                         for i, n, args in a.calls]

    def _usage(self, a: Answer, output: int | None = None) -> dict[str, int]:
        u = a.usage or {}
        return {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"]
                if output is None else output, "cache_read_input_tokens": u["cache_read_tokens"],
                "cache_creation_input_tokens": u["cache_write_tokens"]}

    def whole(self, a: Answer, model: str) -> dict[str, Any]:
        body = {"id": f"msg_{a.number}", "type": "message", "role": "assistant", "model": model,
                "content": self._blocks(a), "stop_reason": "tool_use" if a.calls else "end_turn",
                "stop_sequence": None}
        return body | ({"usage": self._usage(a)} if a.usage else {})

    def events(self, a: Answer, model: str, body: dict[str, Any]) -> Events:
        message = {"id": f"msg_{a.number}", "type": "message", "role": "assistant", "model": model,
                   "content": [], "stop_reason": None, "stop_sequence": None}
        if a.usage:
            message["usage"] = self._usage(a, output=1)
        yield "start", _event({"type": "message_start", "message": message}), 0
        index = 0
        if a.text:
            yield "other", _event({"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "text", "text": ""}}), 0
            yield "other", _event({"type": "ping"}), 0
            for piece in a.pieces(a.text):
                yield "text", _event({"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": piece}}), len(piece)
            yield "other", _event({"type": "content_block_stop", "index": 0}), 0
            index = 1
        for call_id, name, arguments in a.calls:
            yield "other", _event({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call_id, "name": name, "input": {}}}), 0
            for piece in a.pieces(arguments):
                yield "other", _event({"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": piece}}), 0
            yield "other", _event({"type": "content_block_stop", "index": index}), 0
            index += 1
        delta = {"type": "message_delta", "delta": {
            "stop_reason": "tool_use" if a.calls else "end_turn", "stop_sequence": None}}
        if a.usage:
            delta["usage"] = {"output_tokens": a.usage["output_tokens"]}
        yield "other", _event(delta), 0
        yield "other", _event({"type": "message_stop"}), 0
