"""Server-sent events from the raw bytes of a response, as the HTML standard reads them.

Why not httpx-sse's ``EventSource.aiter_sse``: it decodes text, then splits lines, then
builds events, each an async generator layer per line; on a 20,000-token answer that
layering alone cost about 2 µs an event, a third of the client's whole overhead
(``benchmarks/bench_streaming.py``). Here whole events are cut from the bytes at blank
lines and only the ``event`` and ``data`` fields are kept. Event boundaries are ASCII, so a
multi-byte character is never split when an event is decoded. httpx-sse stays the
reference this parser is checked against (``tests/providers/test_sse_properties.py``).
"""

from __future__ import annotations

Event = tuple[str, str]  # (event type, data)


class SSEParser:
    """Feed it the body's chunks as they come; it returns each event once it is complete."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []  # bytes of the event being received, "\n" line ends
        self._cr = False  # the last chunk ended with "\r": maybe the first half of "\r\n"

    def feed(self, chunk: bytes) -> list[Event]:
        if self._cr:
            chunk = b"\r" + chunk
            self._cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk, self._cr = chunk[:-1], True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not chunk:
            return []
        self._pending.append(chunk)
        if b"\n\n" not in chunk and not (
                chunk[:1] == b"\n" and len(self._pending) > 1 and self._pending[-2][-1:] == b"\n"):
            return []  # no event ends in this chunk: keep its bytes, copy nothing
        *blocks, rest = b"".join(self._pending).split(b"\n\n")
        self._pending = [rest] if rest else []
        return [event for block in blocks if (event := _event(block)) is not None]

    def close(self) -> list[Event]:
        """The end of the body: a pending "\\r" ends a line; an unfinished event is dropped."""
        if not self._cr:
            return []
        self._cr = False
        return self.feed(b"\n")


def _event(block: bytes) -> Event | None:
    if block.startswith(b"data: ") and b"\n" not in block:  # OpenAI's usual event
        return "", block[6:].decode("utf-8", "replace")
    if block.startswith(b"event: ") and block.count(b"\n") == 1:  # Anthropic's usual event
        head, _, data = block.partition(b"\n")
        if data.startswith(b"data: "):
            return head[7:].decode("utf-8", "replace"), data[6:].decode("utf-8", "replace")
    kind, data = b"", []
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):  # blank, or a comment (keep-alive)
            continue
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            kind = value
    if not data and not kind:
        return None
    return kind.decode("utf-8", "replace"), b"\n".join(data).decode("utf-8", "replace")
