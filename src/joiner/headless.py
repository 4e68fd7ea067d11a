"""The headless face: ``joiner -p``. Prints text, one JSON result, or a JSON event stream."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any, TextIO

from joiner.core.events import (
    APPROVAL,
    ASSISTANT_PARTIAL,
    ERROR,
    LOOP_NOTE,
    RETRY,
    TEXT_DELTA,
    TOOL_CALL,
    TOOL_RESULT,
    USAGE,
    WARNING,
    Event,
)
from joiner.core.loop import RunResult
from joiner.runtime import Session
from joiner.sessions.lock_wait import note_interrupt
from joiner.startup import release_collector

EXIT_CODES = {"end_turn": 0, "interrupted": 130}
NO_USAGE = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
            "cache_write_tokens": 0, "cost_usd": 0.0}


class ChangeCollector:
    """Collects the workspace-relative files this run modified, in first-change order."""

    def __init__(self) -> None:
        self.files: dict[str, None] = {}

    def emit(self, event: Event) -> None:
        if event.type == TOOL_RESULT:
            for path in event.data.get("files_modified", ()):
                self.files.setdefault(path, None)


class TextOutput:
    """``text``: the answer as it streams on stdout; tool activity on stderr when it is a tty."""

    FLUSH_EVERY_S = 0.016  # a frame: live to the eye, without a write(2) per token

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.show_activity = err.isatty()
        self.at_line_start = True
        self.flushed_at = 0.0
        self.pending = False

    def emit(self, event: Event) -> None:
        if event.type == TEXT_DELTA:
            text = event.data["text"]
            self.out.write(text)
            if text:
                self.at_line_start = text.endswith("\n")
            now = time.monotonic()
            if now - self.flushed_at >= self.FLUSH_EVERY_S:
                self.out.flush()
                self.flushed_at, self.pending = now, False
            elif not self.pending:  # flush the rest within a frame even if the stream pauses
                self.pending = True
                asyncio.get_running_loop().call_later(self.FLUSH_EVERY_S, self._flush_pending)
            return
        self._flush_pending()
        if event.type == TOOL_CALL and self.show_activity:
            self._line(f"· {event.data['name']} {_short(event.data['arguments'])}")
        elif event.type in (WARNING, RETRY):
            self._line(f"joiner: {event.data.get('message') or _retry_line(event.data)}")

    def _flush_pending(self) -> None:
        if self.pending:
            self.out.flush()
            self.flushed_at, self.pending = time.monotonic(), False

    def _line(self, text: str) -> None:
        if not self.at_line_start:
            self.out.write("\n")
            self.at_line_start = True
        self.err.write(text + "\n")
        self.err.flush()

    def finish(self, result: dict[str, Any]) -> None:
        if not self.at_line_start:
            self.out.write("\n")
        self.out.flush()
        if result["is_error"]:
            line, session = result["result"], result["session_id"]
            if session and session not in line:  # one line: what happened, how to go on
                line = f"{line.rstrip('.')}; resume with: joiner --resume {session}"
            self.err.write(f"joiner: {line}\n")


class StreamJsonOutput:
    """``stream-json``: one JSON object per line per event, the result last."""

    SHOWN = frozenset({TEXT_DELTA, TOOL_CALL, TOOL_RESULT, USAGE, RETRY, WARNING, ERROR, APPROVAL,
                       ASSISTANT_PARTIAL, LOOP_NOTE})

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def emit(self, event: Event) -> None:
        if event.type not in self.SHOWN:
            return
        data = event.data
        if event.type == TOOL_CALL:
            line = {"type": TOOL_CALL, "id": data["id"], "name": data["name"],
                    "arguments": _json_or_text(data["arguments"])}
        elif event.type == TOOL_RESULT:
            message = data["message"]
            line = {"type": TOOL_RESULT, "id": message["tool_call_id"], "name": message["name"],
                    "is_error": message["is_error"], "content": message["text"],
                    **{k: v for k, v in data.items() if k not in ("message", "changes")}}
        else:
            line = {"type": event.type, **data}
        self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.out.flush()

    def finish(self, result: dict[str, Any]) -> None:
        self.out.write(json.dumps({"type": "result", **result}, ensure_ascii=False) + "\n")
        self.out.flush()


class JsonOutput:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err

    def emit(self, event: Event) -> None:
        if event.type in (WARNING, RETRY):
            self.err.write(f"joiner: {event.data.get('message') or _retry_line(event.data)}\n")

    def finish(self, result: dict[str, Any]) -> None:
        self.out.write(json.dumps(result, ensure_ascii=False) + "\n")
        self.out.flush()


def result_object(session: Session, run: RunResult, files: list[str]) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "result": run.result,
        "is_error": run.is_error,
        "num_turns": run.num_turns,
        "usage": run.usage,
        "files_modified": files,
        "stop_reason": run.stop_reason,
        "model": session.model,
    }


def run_headless(session: Session, prompt: str, output_format: str) -> int:
    out, err = sys.stdout, sys.stderr
    face: TextOutput | JsonOutput | StreamJsonOutput
    if output_format == "json":
        face = JsonOutput(out, err)
    elif output_format == "stream-json":
        face = StreamJsonOutput(out)
    else:
        face = TextOutput(out, err)
    changes = ChangeCollector()
    run = asyncio.run(_run_interruptible(session, prompt, [changes, face]))
    result = result_object(session, run, list(changes.files))
    face.finish(result)
    return EXIT_CODES.get(run.stop_reason, 1)


async def _run_interruptible(session: Session, prompt: str, sinks: list[Any]) -> RunResult:
    """Run the prompt; Ctrl+C (SIGINT) or SIGTERM cancels it cleanly (the agent records it:
    the model request and running tools stop, their process groups killed)."""
    async def run() -> RunResult:
        release_collector()  # set-up is done (see joiner.startup)
        async with session:
            return await session.run(prompt, sinks)

    task = asyncio.ensure_future(run())
    loop = asyncio.get_running_loop()

    def stop() -> None:
        note_interrupt()  # the clean-up writes after this must not wait long for the lock
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        return await task
    except asyncio.CancelledError:  # before the agent started (e.g. MCP servers starting)
        return RunResult("Interrupted by the user.", "interrupted", 0, dict(NO_USAGE))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _json_or_text(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except (ValueError, TypeError):
        return arguments


def _short(arguments: str, limit: int = 80) -> str:
    text = " ".join(str(arguments).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_line(data: dict[str, Any]) -> str:
    return (f"retrying in {data.get('wait_s', 0)}s (attempt {data.get('attempt')}): "
            f"{data.get('error')}")
