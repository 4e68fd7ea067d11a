"""Deltas parsed together are handed on joined: the text, and each tool call's pieces, are
exactly what they were one by one; only the number of trips changes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joiner.core.messages import StreamItem, TextDelta, ToolCallDelta
from joiner.providers._reader import merged, read_events

texts = st.builds(TextDelta, st.text(max_size=5))
calls = st.builds(ToolCallDelta, st.integers(0, 2), st.one_of(st.none(), st.just("id")),
                  st.one_of(st.none(), st.just("name")), st.text(max_size=5))


def as_runs(items: list[StreamItem]) -> list[tuple[object, str]]:
    """What a consumer makes of the deltas: text and each call's arguments, in order of runs."""
    runs: list[tuple[object, str]] = []
    for item in items:
        key: object = "text" if isinstance(item, TextDelta) else item.index  # type: ignore[union-attr]
        piece = item.text if isinstance(item, TextDelta) else item.arguments  # type: ignore[union-attr]
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + piece)
        else:
            runs.append((key, piece))
    return runs


@given(st.lists(st.one_of(texts, calls), max_size=30))
def test_merging_keeps_every_piece_in_order(items: list[StreamItem]) -> None:
    out = merged(list(items))
    assert as_runs(out) == as_runs(items)
    for before, after in itertools.pairwise(out):
        assert not (isinstance(before, TextDelta) and isinstance(after, TextDelta))
        if isinstance(before, ToolCallDelta) and isinstance(after, ToolCallDelta):
            assert before.index != after.index


def test_a_tool_call_run_keeps_its_id_and_name() -> None:
    out = merged([ToolCallDelta(0, "call_1", "read_file", '{"pa'),
                  ToolCallDelta(0, None, None, 'th": "a"}'), TextDelta("x"), TextDelta("y")])
    assert out == [ToolCallDelta(0, "call_1", "read_file", '{"path": "a"}'), TextDelta("xy")]


async def test_a_failure_comes_after_what_was_parsed_before_it() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"data: one\n\ndata: two\n\n"
        raise ConnectionResetError("gone")

    seen: list[StreamItem] = []
    with pytest.raises(ConnectionResetError):
        async for item in read_events(body(), lambda event, data: [TextDelta(data)]):
            seen.append(item)
    assert seen == [TextDelta("onetwo")]


async def test_closing_the_stream_stops_the_reader() -> None:
    reading = asyncio.Event()
    stopped = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"data: one\n\n"
            reading.set()
            await asyncio.sleep(3600)
            yield b"data: never\n\n"
        finally:
            stopped.set()

    stream = read_events(body(), lambda event, data: [TextDelta(data)])
    assert await anext(stream) == TextDelta("one")
    await reading.wait()
    await stream.aclose()
    await asyncio.wait_for(stopped.wait(), 1)
