"""A stream whose events arrive already buffered still lets the event loop run (a UI frame,
a keypress) while they are handed on: the reader pauses every few milliseconds, and what it
parsed meanwhile is handed on joined. An event that arrives alone is handed on at once."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from providers_support import KINDS, client, request

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
    assert 1 < len(seen) < 20_000, "buffered events are handed on joined, in several batches"
    assert seen[-1] > seen[0], "the loop never ran while 20,000 buffered events were handed on"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_event_that_arrives_alone_is_handed_on_at_once(loopback, kind: str) -> None:
    server = loopback([{"text": "abcdefgh", "gap_s": 0.6}])  # each event 0.6 s after the last
    provider = client(kind, server)
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    async for item in provider.stream(request()):
        if isinstance(item, TextDelta):
            arrivals.append((time.monotonic() - started, item.text))
    await provider.aclose()
    assert [text for _, text in arrivals] == ["abcd", "efgh"]
    assert arrivals[1][0] - arrivals[0][0] > 0.4, "the first delta waited for the next one"
