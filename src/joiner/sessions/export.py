"""A session as a readable Markdown transcript (``sessions export --format markdown``)."""

from __future__ import annotations

import json
import re
from typing import Any

from joiner.sessions.details import cut, parsed_arguments, session_details
from joiner.sessions.store import Store

RESULT_LIMIT = 4000


def _fence(text: str, lang: str = "") -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


def _usage_line(usage: dict[str, Any]) -> str:
    line = (f"{usage['input_tokens']:,} input, {usage['output_tokens']:,} output, "
            f"{usage['cache_read_tokens']:,} cache read, {usage['cache_write_tokens']:,} "
            "cache write tokens")
    if usage.get("cost_usd") is not None:
        line += f"; ${usage['cost_usd']:.4f}"
    return line


def to_markdown(details: dict[str, Any]) -> str:
    """The transcript: header, then each prompt, answer, tool call and result in order."""
    title = details["title"] or "(untitled session)"
    out = [f"# {title}", "",
           f"- **Session:** `{details['id']}`" + (f" (fork of `{details['parent_id']}`)"
                                                  if details.get("parent_id") else ""),
           f"- **Workspace:** `{details['workspace']}`",
           f"- **Model:** `{details['model']}`",
           f"- **Started:** {details['created_at']} · **Last activity:** "
           f"{details['updated_at']} · **Status:** {details['status']}",
           f"- **Usage:** {_usage_line(details['usage'])}"]
    for key, label in (("files_read", "Files read"), ("files_modified", "Files modified")):
        if details[key]:
            out.append(f"- **{label}:** " + ", ".join(f"`{p}`" for p in details[key]))
    for message in details["messages"]:
        role = message["role"]
        if role == "user":
            out += ["", "## User", "", _quote(message["text"])]
        elif role == "assistant":
            out += ["", "## Assistant"]
            if message["text"]:
                out += ["", message["text"]]
            for call in message.get("tool_calls", []):
                args = parsed_arguments(call["arguments"])
                shown = json.dumps(args, indent=2, ensure_ascii=False) \
                    if not isinstance(args, str) else args
                out += ["", f"**Tool call** `{call['name']}`", "",
                        _fence(cut(shown, RESULT_LIMIT), "json")]
        elif role == "tool":
            label = "**Error**" if message.get("is_error") else "**Result**"
            out += ["", f"{label} of `{message.get('name')}`", "",
                    _fence(cut(message["text"], RESULT_LIMIT))]
    return "\n".join(out) + "\n"


def export_markdown(store: Store, session_id: str) -> str:
    """The Markdown transcript of one session (full id), read from ``store``."""
    events = store.events(session_id)
    return to_markdown(session_details(store.get(session_id), events, result_limit=None))
