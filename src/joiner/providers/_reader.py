"""Reading a streamed body in a task of its own, handing on what arrived together as one.

Why a task: the loop, the session's sinks and the faces take every delta the provider
yields, one at a time. A fast server (a local model, vLLM on the next machine, a burst after
a network stall) brings events faster than that path takes them: read one at a time, a
20,000-token answer made 20,000 trips through it (``benchmarks/bench_streaming.py``). Here
a reader task parses whatever bytes are there while the consumer is busy; when the consumer
comes back it takes everything parsed since, with adjacent text (and adjacent pieces of one
tool call) joined. Nothing waits on purpose: when events come slower than they are handled,
each is handed on alone, as soon as it is parsed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable

from joiner.core.messages import StreamItem, TextDelta, ToolCallDelta
from joiner.providers._sse import SSEParser

YIELD_AFTER_S = 0.001  # the longest the reader parses buffered events without a pause
# (1 ms: a UI frame waits for at most that much of it, bench_tui's longest stall)

Apply = Callable[[str, str], Iterable[StreamItem]]  # one event (type, data) -> its deltas


async def read_events(chunks: AsyncIterator[bytes], apply: Apply) -> AsyncIterator[StreamItem]:
    """The deltas of an SSE body, read from ``chunks`` in a task of its own.

    ``apply`` turns one event into deltas (and may raise). A failure of the reader (the
    connection, a malformed event) is raised here, after the deltas parsed before it.
    Closing or cancelling this generator cancels the reader.
    """
    pending: list[StreamItem] = []
    failed: list[Exception] = []
    wake: asyncio.Future[None] | None = None
    finished = False

    def nudge() -> None:
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def read() -> None:
        nonlocal finished
        parser = SSEParser()
        clock = time.monotonic
        resumed = clock()
        try:
            async for chunk in chunks:
                for event, data in parser.feed(chunk):
                    pending.extend(apply(event, data))
                    # a read can bring hundreds of buffered events: let the loop run (the
                    # consumer, a UI frame) every few ms
                    if clock() - resumed > YIELD_AFTER_S:
                        nudge()
                        await asyncio.sleep(0)
                        resumed = clock()
                if pending:
                    nudge()
            for event, data in parser.close():
                pending.extend(apply(event, data))
        except Exception as exc:  # handed to the consumer, raised there
            failed.append(exc)
        finally:
            finished = True
            nudge()

    reader = asyncio.get_running_loop().create_task(read(), name="joiner-stream-reader")
    try:
        while True:
            if pending:
                batch = pending.copy()
                pending.clear()
                for item in merged(batch):
                    yield item
            elif finished:
                break
            else:
                wake = asyncio.get_running_loop().create_future()
                await wake
                wake = None
    finally:
        if not reader.done():
            reader.cancel()
            await asyncio.wait({reader})
    if failed:
        raise failed[0]


def merged(items: list[StreamItem]) -> list[StreamItem]:
    """``items`` with runs of text joined into one delta, and runs of one tool call's pieces
    into one (its id and name from the piece that has them)."""
    if len(items) < 2:
        return items
    out: list[StreamItem] = []
    texts: list[str] = []
    for item in items:
        if type(item) is TextDelta:
            texts.append(item.text)
            continue
        if texts:
            out.append(TextDelta("".join(texts)))
            texts = []
        last = out[-1] if out else None
        if (type(item) is ToolCallDelta and type(last) is ToolCallDelta
                and last.index == item.index):
            out[-1] = ToolCallDelta(item.index, last.id or item.id, last.name or item.name,
                                    last.arguments + item.arguments)
        else:
            out.append(item)
    if texts:
        out.append(TextDelta("".join(texts)))
    return out
