"""A real agent run for the session tests: the core loop, a small tool, a meter.

Also runnable as a script (``python agent_kit.py DB MODE``) so tests can kill a
real process in the middle of a run.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joiner.core import Approval, ApprovalRequest, ToolOutput
from joiner.core.loop import Agent, RunResult
from joiner.core.messages import Message, TextDelta, ToolSpec, Usage
from joiner.providers.scripted import ScriptedProvider
from joiner.sessions import StoreSink, open_store, rebuild_messages


class NoteArgs(BaseModel):
    text: str
    delay: float = 0.0
    path: str | None = None


class Note:
    """Echoes its text upper-cased after ``delay``; with ``path``, reports it as read."""

    kind = "read"

    def __init__(self) -> None:
        self.spec = ToolSpec("note", "echo a note", NoteArgs.model_json_schema())

    async def run(self, arguments: dict[str, Any]) -> ToolOutput:
        args = NoteArgs.model_validate(arguments)
        await asyncio.sleep(args.delay)
        meta = {"files_read": [args.path]} if args.path else {}
        return ToolOutput(args.text.upper(), meta=meta)

    async def preview(self, arguments: dict[str, Any]) -> str | None:
        return None


class AllowAll:
    async def approve(self, request: ApprovalRequest) -> Approval:
        return Approval(True)


class TokenMeter:
    def __init__(self) -> None:
        self.usage = Usage()

    def record(self, usage: Usage, model: str) -> dict[str, Any]:
        self.usage = self.usage + usage
        return {"model": model, **usage.to_dict(), "cost_usd": 0.001}

    def total(self) -> dict[str, Any]:
        return {**self.usage.to_dict(), "cost_usd": None}

    def budget_exceeded(self) -> str | None:
        return None


async def run_agent(store: Any, session_id: str, provider: Any, prompt: str,
                    tools: list[Any] | None = None) -> RunResult:
    """One run in the session, resuming its recorded conversation, as the runtime does."""
    history = rebuild_messages(store.events(session_id))
    agent = Agent(provider, tools if tools is not None else [Note()], AllowAll(),
                  StoreSink(store, session_id), TokenMeter())
    return await agent.run(prompt, history)


def note_call(text: str, delay: float = 0.0, call_id: str | None = None,
              path: str | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"text": text, "delay": delay}
    if path:
        args["path"] = path
    call: dict[str, Any] = {"name": "note", "arguments": args}
    if call_id:
        call["id"] = call_id
    return call


def dicts(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in messages]


class HangingStream:
    """A provider that streams a few words, then never finishes (a stalled server)."""

    name = "scripted/hanging"

    async def stream(self, request: Any) -> Any:
        yield TextDelta("I will now ")
        await asyncio.sleep(3600)
        yield TextDelta("never get here")


def _main() -> None:
    """``DB MODE``: ``hang-in-tool`` starts a run whose tool call never returns;
    ``hang-in-stream`` one whose model answer never ends."""
    db, mode = sys.argv[1], sys.argv[2]
    store = open_store(Path(db))
    sid = store.create_session("/ws", "scripted/test")
    print(sid, flush=True)
    if mode == "hang-in-tool":
        provider = ScriptedProvider([{"text": "Let me look.",
                                      "tool_calls": [note_call("fast", 0, "c1"),
                                                     note_call("slow", 3600, "c2")]}])
        asyncio.run(run_agent(store, sid, provider, "Please look at the notes"))
    elif mode == "hang-in-stream":
        asyncio.run(run_agent(store, sid, HangingStream(), "Tell me a long story"))


if __name__ == "__main__":
    _main()
