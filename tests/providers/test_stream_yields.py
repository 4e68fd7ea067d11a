"""A stream whose events arrive already buffered still lets the event loop run (a UI frame,
a keypress) while they are handed on: the client yields every few milliseconds."""

from __future__ import annotations

import asyncio
import json

import httpx

from joiner.core.messages import Message, ModelRequest, ModelResponse, TextDelta
from joiner.providers import openai


def buffered_answer(events: int) -> bytes:
    chunks = [b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": "word "}}]})
              .encode() + b"\n\n" for _ in range(events)]
    chunks.append(b"data: " + json.dumps({"choices": [{"index": 0, "delta": {},
                                                        "finish_reason": "stop"}]}).encode()
                  + b"\n\ndata: [DONE]\n\n")
    return b"".join(chunks)  # one read hands the client every event at once


async def test_buffered_events_do_not_hold_the_loop() -> None:
    body = buffered_answer(20_000)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    provider = openai.create("m", {"base_url": "http://127.0.0.1:9/v1", "api_key": "k"},
                             transport=httpx.MockTransport(answer))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    seen: list[int] = []  # the ticker's count at each delta
    last = None
    async for item in provider.stream(ModelRequest("", [Message.user("go")], [])):
        if isinstance(item, TextDelta):
            seen.append(ticks)
        last = item
    task.cancel()
    await provider.aclose()
    assert isinstance(last, ModelResponse) and last.message.text == "word " * 20_000
    assert len(seen) == 20_000
    assert seen[-1] > seen[0], "the loop never ran while 20,000 buffered events were handed on"
