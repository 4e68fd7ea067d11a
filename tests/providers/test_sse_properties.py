"""Property tests of both clients' stream parsing, and of the SSE parser under them.

The bytes go through httpx (a ``MockTransport`` that hands them over in the chunks the test
chose) and httpx-sse, exactly as from a socket, so chunk boundaries can fall anywhere: inside
an event, a ``data:`` line, a JSON string or a multi-byte UTF-8 character.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from providers_support import request

from joiner.core import ProviderError
from joiner.core.messages import ModelResponse, StreamItem, TextDelta, ToolCallDelta, Usage
from joiner.providers import anthropic, openai
from joiner.providers._sse import SSEParser
from joiner.testing.wire import Answer, AnthropicWire, OpenAIWire

KINDS = st.sampled_from(["openai", "anthropic"])
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])

json_values = st.one_of(st.integers(-10**6, 10**6), st.text(max_size=12), st.booleans())
steps = st.fixed_dictionaries({
    "text": st.text(max_size=80),
    "tool_calls": st.lists(st.fixed_dictionaries({
        "name": st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        "arguments": st.dictionaries(st.text(max_size=8), json_values, max_size=4)}),
        max_size=3),
    "usage": st.fixed_dictionaries({k: st.integers(0, 10**7) for k in (
        "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")}),
    "chunk_chars": st.integers(1, 9),
})


def wire_bytes(kind: str, step: dict[str, Any]) -> bytes:
    """The SSE body the loopback server streams for ``step``."""
    answer = Answer.from_step(step, 1, 4)
    wire = OpenAIWire() if kind == "openai" else AnthropicWire()
    body = {"stream": True, "stream_options": {"include_usage": True}}
    return b"".join(data for _, data, _ in wire.events(answer, "m", body))


class Chunks(httpx.AsyncByteStream):
    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


async def parse(kind: str, parts: list[bytes]) -> tuple[list[StreamItem], ModelResponse]:
    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=Chunks(parts))

    transport = httpx.MockTransport(answer)
    module = openai if kind == "openai" else anthropic
    provider = module.create("m", {"base_url": "http://127.0.0.1:9", "api_key": "k"},
                             transport=transport)
    items = [item async for item in provider.stream(request())]
    await provider.aclose()
    last = items.pop()
    assert isinstance(last, ModelResponse)
    return items, last


def joined(deltas: list[StreamItem]) -> list[tuple[object, ...]]:
    """The deltas as a consumer sees them: runs of text and runs of one call's arguments
    joined, with each call's id and name."""
    runs: list[tuple[object, ...]] = []
    for d in deltas:
        if isinstance(d, TextDelta):
            key, piece, names = "text", d.text, ()
        else:
            assert isinstance(d, ToolCallDelta)
            key, piece, names = d.index, d.arguments, tuple(n for n in (d.id, d.name) if n)
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + piece, *runs[-1][2:], *names)  # type: ignore[operator]
        else:
            runs.append((key, piece, *names))
    return runs


@PROPERTY_SETTINGS
@given(kind=KINDS, step=steps, cuts=st.lists(st.integers(0, 10**6), max_size=40))
def test_any_chunking_gives_the_scripted_answer(kind, step, cuts):
    data = wire_bytes(kind, step)
    deltas, response = asyncio.run(parse(kind, split(data, cuts)))
    whole_deltas, whole = asyncio.run(parse(kind, [data]))

    assert response == whole
    # the same deltas, however cut; deltas parsed together may be handed on joined
    assert joined(deltas) == joined(whole_deltas)
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == step["text"]
    assert response.message.text == step["text"]
    assert [c.name for c in response.message.tool_calls] == [
        c["name"] for c in step["tool_calls"]]
    assert [json.loads(c.arguments) for c in response.message.tool_calls] == [
        c["arguments"] for c in step["tool_calls"]]
    expected = Usage(**step["usage"])
    if kind == "openai":  # the wire has no cache writes: the server counts them as input
        expected.input_tokens += expected.cache_write_tokens
        expected.cache_write_tokens = 0
    assert response.usage == expected
    assert response.stop_reason == ("tool_use" if step["tool_calls"] else "end_turn")


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, dropped, inserted, or the end cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(out) - 1, 0)))
        if op == "flip" and out:
            out[at] = draw(st.sampled_from(b'{}[]":,\n\r \\x0\xff\xc3'))
        elif op == "drop":
            del out[at : at + draw(st.integers(1, 30))]
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            del out[at:]
    return bytes(out)


@PROPERTY_SETTINGS
@given(kind=KINDS, step=steps, data=st.data(), cuts=st.lists(st.integers(0, 10**6), max_size=10))
def test_corruption_gives_an_answer_or_a_provider_error_only(kind, step, data, cuts):
    broken = data.draw(corrupted(wire_bytes(kind, step)))
    try:
        _, response = asyncio.run(parse(kind, split(broken, cuts)))
    except ProviderError as err:
        assert err.provider == kind and err.message
        return
    assert isinstance(response.message.text, str)
    assert all(isinstance(c.arguments, str) for c in response.message.tool_calls)


@PROPERTY_SETTINGS
@given(kind=KINDS, garbage=st.binary(max_size=300))
def test_random_bytes_give_a_provider_error(kind, garbage):
    try:
        asyncio.run(parse(kind, [garbage]))
    except ProviderError as err:
        assert err.retryable is True  # nothing the server said makes this a request error


# --- the SSE parser against httpx-sse, the reference -------------------------------------

line_value = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]),
                     max_size=12)
sse_line = st.one_of(
    st.builds(lambda v: f"data: {v}", line_value),
    st.builds(lambda v: f"data:{v}", line_value),
    st.just("data"),
    st.builds(lambda v: f"event: {v}", line_value),
    st.builds(lambda v: f": {v}", line_value),  # a comment
    st.builds(lambda v: f"id: {v}", st.from_regex(r"[0-9a-z]{0,4}", fullmatch=True)),
    st.builds(lambda v: f"retry: {v}", st.integers(0, 99)),
    st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(["x", "Data", "eventx"]), line_value),
    st.just(""),  # a blank line: the end of an event
)
sse_text = st.lists(st.tuples(sse_line, st.sampled_from(["\n", "\r\n", "\r"])), max_size=25)


async def reference_events(parts: list[bytes]) -> list[tuple[str, str]]:
    response = httpx.Response(200, headers={"content-type": "text/event-stream"},
                              stream=Chunks(parts))
    return [(e.event, e.data) async for e in EventSource(response).aiter_sse()]


def own_events(parts: list[bytes]) -> list[tuple[str, str]]:
    parser = SSEParser()
    events = [event for part in parts for event in parser.feed(part)]
    return events + parser.close()


def meaningful(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """httpx-sse names an untyped event "message" and also dispatches events that carry only
    an id or a retry; the clients ignore events with neither a type nor data, so the
    comparison does too."""
    named = [(event or "message", data) for event, data in events]
    return [e for e in named if e != ("message", "")]


@settings(max_examples=400, deadline=None)
@given(lines=sse_text, cuts=st.lists(st.integers(0, 10**6), max_size=12))
def test_the_sse_parser_reads_what_httpx_sse_reads(lines, cuts):
    data = "".join(line + end for line, end in lines).encode()
    parts = split(data, cuts)
    assert meaningful(own_events(parts)) == meaningful(asyncio.run(reference_events(parts)))


def test_sse_parser_details():
    parser = SSEParser()
    assert parser.feed(b"event: ping\r\ndata: {}\r\n\r") == []  # the "\r" may start "\r\n"
    assert parser.feed(b"\n: keep-alive\n\ndata: a\ndata:b\n\n") == [("ping", "{}"),
                                                                     ("", "a\nb")]
    assert parser.feed("data: é".encode()[:-1]) == []  # half a character
    assert parser.feed("data: é".encode()[-1:] + b"\n") == []
    assert parser.feed(b"\r") == []
    assert parser.close() == [("", "é")]  # a final "\r" ends the line, a blank one the event
    assert parser.feed(b"data: unfinished") == [] and parser.close() == []
