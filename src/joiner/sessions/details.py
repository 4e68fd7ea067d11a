"""One session in full, as ``sessions show --json`` and ``export`` give it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from joiner.core.events import TOOL_RESULT, Event
from joiner.core.messages import Message
from joiner.sessions.history import rebuild_messages
from joiner.sessions.store import SessionInfo, iso_time
from joiner.sessions.usage import sum_usage

RESULT_LIMIT = 2000  # characters of a tool result kept by ``sessions show``


def cut(text: str, limit: int | None) -> str:
    """``text`` cut to about ``limit`` characters with a note of what was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def parsed_arguments(raw: str) -> Any:
    """The arguments as JSON if they parse, else the raw text as the model sent it."""
    try:
        return json.loads(raw or "{}")
    except ValueError:
        return raw


def tool_calls(messages: Sequence[Message], limit: int | None = RESULT_LIMIT) -> list[dict]:
    """``[{id, name, arguments, is_error, result}]`` in order; results follow their call."""
    out = []
    for index, message in enumerate(messages):
        if message.role != "assistant" or not message.tool_calls:
            continue
        following = messages[index + 1 : index + 1 + len(message.tool_calls)]
        for call, result in zip(message.tool_calls, following, strict=False):
            out.append({"id": call.id, "name": call.name,
                        "arguments": parsed_arguments(call.arguments),
                        "is_error": result.is_error, "result": cut(result.text, limit)})
    return out


def touched_files(events: Iterable[Event]) -> tuple[list[str], list[str]]:
    """(files read, files modified), each in first-seen order, from tool results."""
    read: dict[str, None] = {}
    modified: dict[str, None] = {}
    for event in events:
        if event.type != TOOL_RESULT:
            continue
        for key, seen in (("files_read", read), ("files_modified", modified)):
            for path in event.data.get(key) or ():
                seen.setdefault(str(path), None)
    return list(read), list(modified)


def session_details(info: SessionInfo, events: Sequence[Event],
                    result_limit: int | None = RESULT_LIMIT) -> dict[str, Any]:
    messages = rebuild_messages(events, full=True)  # compactions shown where they happened
    files_read, files_modified = touched_files(events)
    return {
        **info.to_dict(),
        "messages": [m.to_dict() for m in messages],
        "tool_calls": tool_calls(messages, result_limit),
        "files_read": files_read,
        "files_modified": files_modified,
        "usage": sum_usage(events),
        "num_turns": sum(1 for m in messages if m.role == "assistant"),
    }


def event_dict(event: Event) -> dict[str, Any]:
    return {"seq": event.seq, "time": iso_time(event.time), "type": event.type,
            "data": event.data}
