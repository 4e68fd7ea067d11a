"""Events as the loop writes them, for tests of the store and what reads it."""

from __future__ import annotations

import json
from typing import Any

from joiner.core.events import Event


def prompt(text: str) -> Event:
    return Event("user_prompt", {"message": {"role": "user", "text": text}})


def answer(text: str, calls: list[tuple[str, str, dict[str, Any]]] = ()) -> Event:  # type: ignore[assignment]
    message: dict[str, Any] = {"role": "assistant", "text": text}
    if calls:
        message["tool_calls"] = [{"id": i, "name": n, "arguments": json.dumps(a)}
                                 for i, n, a in calls]
    return Event("assistant_message", {"message": message,
                                       "stop_reason": "tool_use" if calls else "end_turn",
                                       "model": "scripted/test"})


def result(call_id: str, name: str, text: str, is_error: bool = False, **meta: Any) -> Event:
    return Event("tool_result", {"message": {"role": "tool", "text": text,
                                             "tool_call_id": call_id, "name": name,
                                             "is_error": is_error},
                                 "duration_ms": 1.0, **meta})


def usage(inp: int, out: int, cost: float | None = None) -> Event:
    return Event("usage", {"turn": 1, "model": "scripted/test", "input_tokens": inp,
                           "output_tokens": out, "cache_read_tokens": 0,
                           "cache_write_tokens": 0, "estimated": False, "cost_usd": cost})
