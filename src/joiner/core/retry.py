"""Retrying a model request: backoff with jitter, honouring the server's hint."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

from joiner.core import EventSink, Provider, ProviderError
from joiner.core.events import ASSISTANT_PARTIAL, RETRY, Event
from joiner.core.messages import ModelRequest, StreamItem, TextDelta


@dataclass(slots=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    base_delay: float = 1.0
    max_delay: float = 30.0  # the longest wait of our own backoff
    max_total_wait: float = 120.0  # all waits of one request together, server hints included

    def delay(self, attempt: int, hint: float | None) -> float:
        """The wait before the next try. A server's hint (``Retry-After``) is honoured as
        given, not cut to ``max_delay``: retrying sooner only earns another refusal. A hint
        beyond the total budget ends the retries instead (see ``stream_with_retry``)."""
        if hint is not None:
            return max(hint, 0.0)
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay) * random.uniform(0.5, 1.0)


async def stream_with_retry(
    provider: Provider, request: ModelRequest, sink: EventSink, policy: RetryPolicy
) -> AsyncIterator[StreamItem]:
    """Yield the provider's stream, retrying retryable failures.

    A retried stream is restarted from scratch; the text shown of a failed or interrupted
    attempt is kept in the session as an ``assistant_partial`` event so nothing streamed is
    lost. Giving up after retries says how many attempts were made.
    """
    waited = 0.0
    for attempt in range(1, policy.attempts + 1):
        shown: list[str] = []  # this attempt's text, for an interruption
        try:
            async for item in provider.stream(request):
                if isinstance(item, TextDelta):
                    shown.append(item.text)
                yield item
            return
        except asyncio.CancelledError:
            if shown:
                sink.emit(Event(ASSISTANT_PARTIAL, {"text": "".join(shown),
                                                    "error": "interrupted"}))
            raise
        except ProviderError as err:
            if err.partial:
                sink.emit(Event(ASSISTANT_PARTIAL, {"text": err.partial, "error": err.message}))
            if not err.retryable:
                raise
            wait = policy.delay(attempt, err.retry_after)
            if attempt == policy.attempts:
                raise (_gave_up(err, f"gave up after {attempt} attempts") if attempt > 1
                       else err) from None
            if waited + wait > policy.max_total_wait:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise _gave_up(err, f"gave up after {tries}: a further wait of {wait:g}s is over "
                               f"the retry budget of {policy.max_total_wait:g}s") from None
            sink.emit(Event(RETRY, {"attempt": attempt, "wait_s": round(wait, 3),
                                    "error": err.message, "status": err.status}))
            waited += wait
            await asyncio.sleep(wait)


def _gave_up(err: ProviderError, why: str) -> ProviderError:
    return ProviderError(err.provider, f"{err.message} ({why})", status=err.status,
                         retryable=False, retry_after=err.retry_after, partial=err.partial)
