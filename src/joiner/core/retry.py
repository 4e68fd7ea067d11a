"""Retrying a model request: backoff with jitter, honouring the server's hint."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

from joiner.core import EventSink, Provider, ProviderError
from joiner.core.events import ASSISTANT_PARTIAL, RETRY, Event
from joiner.core.messages import ModelRequest, StreamItem


@dataclass(slots=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_total_wait: float = 120.0

    def delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), self.max_delay)
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay) * random.uniform(0.5, 1.0)


async def stream_with_retry(
    provider: Provider, request: ModelRequest, sink: EventSink, policy: RetryPolicy
) -> AsyncIterator[StreamItem]:
    """Yield the provider's stream, retrying retryable failures.

    A retried stream is restarted from scratch; the text shown so far is kept in
    the session as an ``assistant_partial`` event so nothing streamed is lost.
    """
    waited = 0.0
    for attempt in range(1, policy.attempts + 1):
        try:
            async for item in provider.stream(request):
                yield item
            return
        except ProviderError as err:
            if err.partial:
                sink.emit(Event(ASSISTANT_PARTIAL, {"text": err.partial, "error": err.message}))
            wait = policy.delay(attempt, err.retry_after)
            out_of_budget = waited + wait > policy.max_total_wait
            if not err.retryable or attempt == policy.attempts or out_of_budget:
                raise
            sink.emit(Event(RETRY, {"attempt": attempt, "wait_s": round(wait, 3),
                                    "error": err.message, "status": err.status}))
            waited += wait
            await asyncio.sleep(wait)
