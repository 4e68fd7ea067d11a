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


def _tokens(value: Any) -> str:
    return f"~{value:,}" if isinstance(value, int) else "~?"


def _compaction(d: dict[str, Any]) -> str:
    """``12 messages summarised (auto, by the model), ~48,210 → ~9,004 tokens``."""
    by = {"model": "by the model", "plain": "as a plain list"}.get(
        str(d.get("summarized_by")), str(d.get("summarized_by") or "?"))
    how = ", ".join(str(part) for part in (d.get("reason"), by) if part)
    replaced = d.get("replaced")
    line = (f"{replaced if isinstance(replaced, int) else '?'} messages summarised ({how}), "
            f"{_tokens(d.get('tokens_before'))} → {_tokens(d.get('tokens_after'))} tokens")
    files = d.get("files_changed") or []
    return line + (f", {len(files)} changed file{'s' * (len(files) != 1)} kept" if files else "")


def _change_set(d: dict[str, Any]) -> str:
    """An undo/redo: ``begin 3f2a1c: 2 files (calc.py, notes.md)`` / ``done …``."""
    files = [f.get("path", "?") if isinstance(f, dict) else str(f) for f in d.get("files") or []]
    line = f"{d.get('phase', '?')} {str(d.get('change_set', '?'))[:12]}: {len(files)} " \
           f"file{'s' * (len(files) != 1)}"
    if files:
        line += f" ({short(', '.join(files), 60)})"
    flags = [word for word, on in (("forced", d.get("force")), ("resumed", d.get("resumed")))
             if on]
    if d.get("phase") == "begin" and d.get("prompt"):
        line += f" of {short(d['prompt'], 40)!r}"
    stat = d.get("stat") if isinstance(d.get("stat"), dict) else {}
    if d.get("phase") == "done" and stat:
        line += f", +{stat.get('added', 0)} -{stat.get('removed', 0)}"
    return line + (f" [{', '.join(flags)}]" if flags else "")


def _fields(d: dict[str, Any]) -> str:
    """An event of a kind this module does not know: ``key=value`` pairs, nested values
    counted, never raw JSON."""
    parts = []
    for key, value in d.items():
        if isinstance(value, dict):
            parts.append(f"{key}={{{len(value)} keys}}")
        elif isinstance(value, list):
            parts.append(f"{key}=[{len(value)} items]")
        else:
            parts.append(f"{key}={short(value, 40)}")
    return short(" ".join(parts), 80)


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
    if kind == "compaction":
        return _compaction(d)
    if kind == "loop_note":
        return f"note on {d.get('tool_call_id')}: {short(d.get('note', ''), 70)}"
    if kind in ("undo", "redo"):
        return _change_set(d)
    return _fields(d)
