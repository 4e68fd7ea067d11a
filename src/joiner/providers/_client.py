"""The streaming request both HTTP clients make, and the answer they assemble.

``SSEClient.stream`` POSTs the request, maps every failure to a ``ProviderError``
and feeds each server-sent event to the subclass, which turns it into deltas on
a ``Draft``. When the stream ends properly the draft becomes the ``ModelResponse``;
when it does not (cut, stalled, malformed) the text shown so far travels in
``ProviderError.partial``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from joiner.core import ProviderError
from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from joiner.providers._http import (
    ClientSettings,
    as_int,
    estimate_tokens,
    status_error,
    tls_verify,
    transport_error,
)
from joiner.providers._reader import read_events

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(slots=True)
class _Call:
    ordinal: int
    id: str = ""
    name: str = ""
    pieces: list[str] = field(default_factory=list)
    fallback: str = ""  # whole arguments given up front (a non-streamed tool_use input)


class Draft:
    """The answer being assembled from a stream: text, tool calls, usage, stop reason.

    Tool calls are keyed by the wire's own position (OpenAI's ``index``, Anthropic's
    content block index) and numbered 0, 1, ... in the order they first appear.
    """

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[Any, _Call] = {}  # wire key -> the call being assembled
        self.usage: dict[str, int] | None = None
        self.stop: str | None = None
        self.done = False  # the server said the answer is complete

    def add_text(self, text: Any) -> list[StreamItem]:
        if text is None or text == "":
            return []
        if not isinstance(text, str):
            raise ValueError("text delta is not a string")
        self.text.append(text)
        return [TextDelta(text)]

    def add_call(self, key: Any, id: Any = None, name: Any = None, arguments: Any = "",
                 fallback: str = "") -> list[StreamItem]:
        for value in (id, name, arguments):
            if value is not None and not isinstance(value, str):
                raise ValueError("tool call field is not a string")
        if not isinstance(key, int | str):
            raise ValueError("tool call index is not a number")
        call = self.calls.get(key)
        if call is None:
            call = self.calls[key] = _Call(len(self.calls), fallback=fallback)
        call.id = call.id or id or ""
        call.name = call.name or name or ""
        if arguments:
            call.pieces.append(arguments)
        return [ToolCallDelta(call.ordinal, id or None, name or None, arguments or "")]

    def set_usage(self, **counts: Any) -> None:
        """Record reported token counts; later reports of a kind replace earlier ones."""
        usage = self.usage if self.usage is not None else dict.fromkeys(USAGE_KEYS, 0)
        for key, value in counts.items():
            if value is not None:
                usage[key] = as_int(value)
        self.usage = usage

    @property
    def partial(self) -> str:
        return "".join(self.text)

    def response(self, name: str, request_chars: int) -> ModelResponse:
        calls = [
            ToolCall(c.id or f"call_{secrets.token_hex(8)}", c.name,
                     "".join(c.pieces) or c.fallback or "{}")
            for c in self.calls.values()
        ]
        text = self.partial
        if self.usage is not None:
            usage = Usage(**self.usage)
        else:  # the server reported nothing: estimate, and say so
            answer_chars = len(text) + sum(len(c.name) + len(c.arguments) for c in calls)
            usage = Usage(estimate_tokens(request_chars), estimate_tokens(answer_chars),
                          estimated=True)
        stop = self.stop or "end_turn"
        if calls and stop == "end_turn":
            stop = "tool_use"
        return ModelResponse(Message("assistant", text, calls), usage, stop, name)


class SSEClient:
    """A streaming HTTP model client. Subclasses give the request and read the events."""

    provider: ClassVar[str]  # "openai" / "anthropic": the prefix of names and errors
    key_env: ClassVar[str]

    def __init__(self, model: str, config: ClientSettings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.model = model
        self.name = f"{self.provider}/{model}"
        self.config = config
        self._transport = transport  # tests pass httpx.MockTransport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- what a subclass provides -------------------------------------------------------
    def url(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def body(self, request: ModelRequest) -> dict[str, Any]:
        raise NotImplementedError

    def on_event(self, draft: Draft, event: str, data: str) -> Iterable[StreamItem]:
        """Apply one server-sent event; return the deltas to show. May raise ``ProviderError``
        (an error event); any other exception marks the chunk as malformed."""
        raise NotImplementedError

    def on_body(self, draft: Draft, data: Any) -> None:
        """Fill the draft from a whole (non-streamed) JSON answer."""
        raise NotImplementedError

    # -- the request ----------------------------------------------------------------------
    def _http(self) -> httpx.AsyncClient:
        """One client (and connection pool) per event loop, reused across requests."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            c = self.config
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(c.timeout, read=c.idle_timeout), transport=self._transport,
                verify=tls_verify(c.base_url))
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    def _error(self, exc: Exception) -> ProviderError:
        return transport_error(self.provider, exc, base_url=self.config.base_url,
                               idle_timeout=self.config.idle_timeout)

    def _malformed(self, exc: Exception, what: str) -> ProviderError:
        detail = f"{type(exc).__name__}: {exc}"[:200]
        return ProviderError(self.provider, f"malformed {what} from the server ({detail})",
                             retryable=True)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        content = json.dumps(self.body(request), ensure_ascii=False).encode()
        headers = {**self.headers(), "content-type": "application/json",
                   "accept": "text/event-stream"}
        draft = Draft()
        try:
            async with self._http().stream("POST", self.url(), content=content,
                                           headers=headers) as response:
                if response.status_code >= 300:
                    raise status_error(
                        self.provider, response, await response.aread(), model=self.model,
                        base_url=self.config.base_url, api_key=self.config.api_key,
                        key_env=self.key_env)
                if "text/event-stream" in response.headers.get("content-type", ""):
                    async for item in read_events(
                            response.aiter_bytes(), lambda event, data: self._apply(
                                draft, event, data)):
                        yield item
                else:
                    self._apply_body(draft, await response.aread())
        except ProviderError as err:
            err.partial = err.partial or draft.partial
            raise
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            err = self._error(exc)
            err.partial = draft.partial
            raise err from None
        if not draft.done:
            raise ProviderError(self.provider, "the stream ended before the answer was complete",
                                retryable=True, partial=draft.partial)
        yield draft.response(self.name, len(content))

    def _apply(self, draft: Draft, event: str, data: str) -> Iterable[StreamItem]:
        try:
            return self.on_event(draft, event, data)
        except ProviderError:
            raise
        except Exception as exc:  # untrusted input: any surprise is a malformed chunk
            raise self._malformed(exc, "chunk") from None

    def _apply_body(self, draft: Draft, raw: bytes) -> None:
        try:
            self.on_body(draft, json.loads(raw))
        except ProviderError:
            raise
        except Exception as exc:
            raise self._malformed(exc, "answer") from None
        draft.done = True
