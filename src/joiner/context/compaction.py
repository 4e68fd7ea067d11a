"""Compaction: the older part of the conversation replaced by one message.

That message keeps verbatim what must not be lost: every user request of the replaced part
(earlier compactions' included) and the list of files changed in the session; the rest is a
summary written by the model in one request (or, if that request fails, a plain list of what
was done). The system prompt, AGENTS.md included, is never part of it: it is sent as it is.

The store keeps the full history; a ``compaction`` event (``COMPACTION``) records the summary
message and how many leading messages it replaced, so ``sessions.rebuild_messages`` gives a
resumed session exactly the conversation the model last saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joiner.context.estimate import estimate_text
from joiner.context.shorten import MARK, head_and_tail
from joiner.core import EventSink, Provider, ProviderError
from joiner.core.events import ASSISTANT_PARTIAL, COMPACTION, TOOL_RESULT, Event
from joiner.core.messages import Message, ModelRequest, ModelResponse, Usage
from joiner.core.retry import RetryPolicy, stream_with_retry

SUMMARY_HEAD = MARK + "the earlier conversation was compacted"

SUMMARY_SYSTEM = """You summarize the earlier part of a coding session between a user and an AI \
pair programmer (Joiner), so the work can go on with less context. Write at most {words} words, \
plain text, no preamble:
- what was done: files read, what was found in them (names, locations, facts that matter), \
commands run and their outcome, edits made and why;
- the state now: what works, what failed, decisions taken, open questions;
- what remains to do for the user's requests.
The user's requests and the list of changed files are kept word for word elsewhere: do not \
repeat them. Do not call tools."""


@dataclass(slots=True)
class CompactionRecord:
    """What a summary message holds, kept so a later compaction can carry it on."""

    prompts: list[str] = field(default_factory=list)  # the replaced user requests, oldest first
    files_changed: list[str] = field(default_factory=list)
    summary: str = ""

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> CompactionRecord:
        return cls(list(data.get("prompts") or []), list(data.get("files_changed") or []),
                   str(data.get("summary") or ""))


def is_summary(message: Message) -> bool:
    return message.role == "user" and message.text.startswith(SUMMARY_HEAD)


def summary_message(record: CompactionRecord, max_tokens: int | None = None) -> Message:
    """The user-role message that stands for the replaced part.

    With ``max_tokens``, requests too long to fit are cut in the middle (each says so): the
    one case where a request is not kept whole, because the alternative is a request the
    model refuses.
    """
    prompts = record.prompts
    if max_tokens is not None:
        share = max(max_tokens * 2 // 3 // max(len(prompts), 1), 40)
        prompts = [head_and_tail(p, share, "this request was too long to keep whole", None)
                   for p in prompts]
    parts = [SUMMARY_HEAD + " to fit the model's context window. The user's earlier requests "
             "(word for word), the files changed so far and a summary of the work follow; the "
             "conversation goes on after this message.]"]
    if prompts:
        parts.append("## The user's earlier requests, oldest first")
        parts += [f"### Request {i}\n{text}" for i, text in enumerate(prompts, 1)]
    parts.append("## Files changed so far\n" + ("\n".join(f"- {f}" for f in record.files_changed)
                                                 or "(none)"))
    parts.append("## Summary of the earlier work\n" + (record.summary.strip() or "(none)"))
    return Message.user("\n\n".join(parts))


def carried_record(previous: CompactionRecord | None, replaced: Sequence[Message],
                   files_changed: Sequence[str]) -> CompactionRecord:
    """The record of a new compaction of ``replaced`` (which may start with the last summary)."""
    prompts = list(previous.prompts) if previous else []
    prompts += [m.text for m in replaced if m.role == "user" and not is_summary(m)]
    return CompactionRecord(prompts, list(files_changed))


def transcript(messages: Sequence[Message], budget: int) -> str:
    """``messages`` as plain text for the summarizing request, in about ``budget`` tokens.

    Tool results are cut first (to a share of the budget each), then, if it is still too long,
    the middle of the whole transcript.
    """
    calls = {c.id: c for m in messages for c in m.tool_calls}
    results = sum(1 for m in messages if m.role == "tool")
    per_result = max(budget // max(2 * results, 1), 60)
    lines: list[str] = []
    for m in messages:
        if m.role == "user":
            lines.append(f"[user]\n{m.text}")
        elif m.role == "assistant":
            if m.text:
                lines.append(f"[assistant]\n{m.text}")
            lines += [f"[assistant calls {c.name} {_short_json(c.arguments)}]"
                      for c in m.tool_calls]
        else:
            status = "error" if m.is_error else "result"
            body = head_and_tail(m.text, per_result, "cut for the summary",
                                 calls.get(m.tool_call_id or ""))
            lines.append(f"[{m.name} {status}]\n{body}")
    return head_and_tail("\n\n".join(lines), budget, "cut for the summary", None,
                         remember=False)  # hundreds of KB, dropped after the request


def _short_json(arguments: str, limit: int = 300) -> str:
    text = " ".join(arguments.split())
    return text if len(text) <= limit else text[:limit] + "…"


def plain_summary(messages: Sequence[Message], budget: int) -> str:
    """A summary without the model: the calls made and the assistant's words, newest kept."""
    lines: list[str] = []
    for m in messages:
        if m.role == "assistant":
            if m.text.strip():
                lines.append("- said: " + " ".join(m.text.split())[:300])
            lines += [f"- called {c.name} {_short_json(c.arguments, 120)}" for c in m.tool_calls]
        elif m.role == "tool" and m.is_error:
            lines.append(f"  (the {m.name} call failed: {' '.join(m.text.split())[:160]})")
    text = "\n".join(lines) or "(nothing)"
    return ("(The model could not be asked for a summary; this is the list of what was done.)\n"
            + head_and_tail(text, budget, "older steps left out", None, remember=False))


class _QuietSink:
    """Passes retries on; a summarizing request's own text is not part of the session."""

    def __init__(self, sink: EventSink | None) -> None:
        self.sink = sink

    def emit(self, event: Event) -> None:
        if self.sink is not None and event.type != ASSISTANT_PARTIAL:
            self.sink.emit(event)


async def summarize(provider: Provider, messages: Sequence[Message], *, input_budget: int,
                    answer_tokens: int, sink: EventSink | None = None,
                    retry: RetryPolicy | None = None) -> tuple[str, Usage | None, str]:
    """One request for a summary of ``messages``: (summary, usage, "model" | "plain").

    The request fits in ``input_budget`` tokens. A failed request (after retries) or an empty
    answer gives the plain list of what was done instead, so the run can go on.
    """
    words = max(60, answer_tokens * 2 // 3)
    system = SUMMARY_SYSTEM.format(words=words)
    room = input_budget - estimate_text(system) - 60
    text = transcript(messages, max(room, 200))
    request = ModelRequest(system, [Message.user(
        "Summarize this earlier part of the session:\n\n" + text)], [], answer_tokens)
    response: ModelResponse | None = None
    try:
        async for item in stream_with_retry(provider, request, _QuietSink(sink),
                                            retry or RetryPolicy()):
            if isinstance(item, ModelResponse):
                response = item
    except ProviderError:
        response = None
    except asyncio.CancelledError:
        raise
    if response is None or not response.message.text.strip():
        return plain_summary(messages, answer_tokens), (response.usage if response else None), \
            "plain"
    summary = head_and_tail(response.message.text.strip(), answer_tokens, "summary cut", None)
    return summary, response.usage, "model"


def event_data(*, reason: str, replaced: int, message: Message, record: CompactionRecord,
               tokens_before: int, tokens_after: int, window: int, summarized_by: str,
               ) -> dict[str, Any]:
    return {"reason": reason, "replaced": replaced, "message": message.to_dict(),
            "summary": record.summary, "prompts": record.prompts,
            "files_changed": record.files_changed, "tokens_before": tokens_before,
            "tokens_after": tokens_after, "window": window, "summarized_by": summarized_by}


def latest_record(events: Sequence[Event]) -> CompactionRecord | None:
    """The last compaction's record in a session's events, if any."""
    for event in reversed(events):
        if event.type == COMPACTION:
            return CompactionRecord.from_event(event.data)
    return None


def files_changed(events: Sequence[Event]) -> list[str]:
    """Files modified by tool calls, in first-change order (from ``tool_result`` events)."""
    seen: dict[str, None] = {}
    for event in events:
        if event.type == TOOL_RESULT:
            for path in event.data.get("files_modified") or ():
                seen.setdefault(str(path), None)
    return list(seen)

