"""One short line per event: what the replay and the timeline show."""

from __future__ import annotations

import json
from typing import Any

from joiner.core.events import Event

WIDTH = 100


def short(text: Any, width: int = WIDTH) -> str:
    """One line: whitespace collapsed, cut with an ellipsis."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def arguments_summary(raw: Any, width: int = 80) -> str:
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return short(raw, width)
    if not isinstance(args, dict):
        return short(raw, width)
    parts = []
    for key, value in args.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={short(shown, 40)}")
    return short(" ".join(parts), width)


def _usage(d: dict[str, Any]) -> str:
    text = f"{d.get('input_tokens', 0)} in, {d.get('output_tokens', 0)} out"
    if isinstance(d.get("cost_usd"), int | float):
        text += f", ${d['cost_usd']:.4f}"
    return text


def summarize(event: Event) -> str:
    d = event.data
    kind = event.type
    message = d.get("message") if isinstance(d.get("message"), dict) else {}
    if kind == "user_prompt":
        return short(message.get("text", ""))
    if kind == "assistant_message":
        calls = message.get("tool_calls") or []
        text = short(message.get("text", ""), 70)
        names = ", ".join(c.get("name", "?") for c in calls)
        if calls:
            return f"{text}  [calls {names}]" if text else f"[calls {names}]"
        return text
    if kind == "tool_call":
        return f"{d.get('name')} {arguments_summary(d.get('arguments'))}".rstrip()
    if kind == "tool_result":
        status = "error" if message.get("is_error") else "ok"
        extra = ""
        if d.get("files_modified"):
            extra = f" (modified {', '.join(map(str, d['files_modified']))})"
        return f"{message.get('name')} {status}{extra}: {short(message.get('text', ''), 60)}"
    if kind == "usage":
        return _usage(d)
    if kind == "request_start":
        return f"turn {d.get('turn')} → {d.get('model')}"
    if kind == "approval":
        return f"{d.get('name')} {d.get('decision')}" + (f": {d['reason']}" if d.get("reason")
                                                          else "")
    if kind == "retry":
        return f"attempt {d.get('attempt')} failed, waiting {d.get('wait_s')}s: " \
               f"{short(d.get('error', ''), 60)}"
    if kind == "assistant_partial":
        return f"cut after {len(d.get('text', ''))} characters: {short(d.get('error', ''), 60)}"
    if kind in ("error", "warning", "interrupted"):
        return short(d.get("message") or d.get("reason") or "")
    if kind == "result":
        return f"{d.get('stop_reason')}: {short(d.get('result', ''), 80)}"
    if kind == "session_start":
        return f"{d.get('model')} in {d.get('workspace')}"
    return short(json.dumps(d, ensure_ascii=False, default=str), 80)
