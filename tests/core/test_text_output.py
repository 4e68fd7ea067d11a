"""Headless text output: streamed live, without a flush per token, and nothing held back."""

from __future__ import annotations

import asyncio
import io

from joiner.core.events import TEXT_DELTA, TOOL_CALL, Event
from joiner.headless import TextOutput


class Out(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


async def test_a_burst_is_flushed_once_per_frame_and_a_pause_shows_the_rest() -> None:
    out = Out()
    face = TextOutput(out, io.StringIO())
    for word in ["a", "b", "c", "d"]:
        face.emit(Event(TEXT_DELTA, {"text": word}))
    assert out.flushed == ["a"]  # the first at once, the rest batched
    await asyncio.sleep(0.05)  # the stream pauses: the rest shows within a frame
    assert out.flushed[-1] == "abcd"


async def test_the_next_event_flushes_what_is_pending() -> None:
    out = Out()
    face = TextOutput(out, io.StringIO())
    face.emit(Event(TEXT_DELTA, {"text": "x"}))
    face.emit(Event(TEXT_DELTA, {"text": "y"}))
    face.emit(Event(TOOL_CALL, {"id": "1", "name": "read_file", "arguments": "{}"}))
    assert out.flushed[-1] == "xy"
