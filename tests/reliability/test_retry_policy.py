"""Retries in the core: the server's hint honoured, the wait budget, the give-up message, the
partial of an interrupted attempt; ``[retry]`` checked at set-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from joiner.core import ProviderError
from joiner.core.events import Event
from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    Usage,
)
from joiner.core.retry import RetryPolicy, stream_with_retry
from joiner.runtime import SetupError, retry_policy


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class Failing:
    """Fails with ``errors`` in turn, then answers."""

    name = "test/failing"

    def __init__(self, *errors: ProviderError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        yield ModelResponse(Message("assistant", "ok"), Usage())


def error(retry_after: float | None = None, retryable: bool = True) -> ProviderError:
    return ProviderError("test", "429 slow down", status=429, retryable=retryable,
                         retry_after=retry_after)


async def collect(provider: Any, policy: RetryPolicy, sink: Sink | None = None) -> list[Any]:
    request = ModelRequest("", [], [])
    return [item async for item in stream_with_retry(provider, request, sink or Sink(), policy)]


async def test_retry_after_is_honoured_beyond_max_delay() -> None:
    sink = Sink()
    started = time.monotonic()
    items = await collect(Failing(error(retry_after=0.3)), RetryPolicy(max_delay=0.01), sink)
    assert time.monotonic() - started >= 0.3
    assert isinstance(items[-1], ModelResponse)
    [retry] = [e.data for e in sink.events if e.type == "retry"]
    assert retry["wait_s"] == 0.3 and retry["status"] == 429


async def test_a_hint_over_the_wait_budget_stops_at_once_and_says_why() -> None:
    provider = Failing(error(retry_after=3600))
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await collect(provider, RetryPolicy(max_total_wait=10))
    assert time.monotonic() - started < 1 and provider.calls == 1
    assert caught.value.message == ("429 slow down (gave up after 1 attempt: a further wait of "
                                    "3600s is over the retry budget of 10s)")
    assert caught.value.retryable is False


async def test_the_last_attempt_says_how_many_were_made() -> None:
    provider = Failing(*[error(retry_after=0)] * 3)
    with pytest.raises(ProviderError) as caught:
        await collect(provider, RetryPolicy(attempts=3))
    assert provider.calls == 3
    assert str(caught.value) == "test: 429 slow down (gave up after 3 attempts)"


async def test_no_retries_configured_keeps_the_error_as_it_is() -> None:
    provider = Failing(error(retry_after=0))
    with pytest.raises(ProviderError) as caught:
        await collect(provider, RetryPolicy(attempts=1))
    assert str(caught.value) == "test: 429 slow down" and provider.calls == 1


async def test_a_request_error_is_not_retried() -> None:
    provider = Failing(error(retryable=False))
    with pytest.raises(ProviderError):
        await collect(provider, RetryPolicy(base_delay=0))
    assert provider.calls == 1


async def test_an_interrupted_attempt_keeps_only_its_own_text() -> None:
    cut = ProviderError("test", "cut", retryable=True, retry_after=0, partial="answer 1")
    sink = Sink()

    class HangSecond(Failing):
        async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
            self.calls += 1
            yield TextDelta(f"answer {self.calls}")
            if self.calls == 1:
                raise cut
            await asyncio.sleep(60)
            yield TextDelta("never")

    task = asyncio.ensure_future(collect(HangSecond(), RetryPolicy(), sink))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    partials = [e.data for e in sink.events if e.type == "assistant_partial"]
    assert partials == [{"text": "answer 1", "error": "cut"},
                        {"text": "answer 2", "error": "interrupted"}]


@pytest.mark.parametrize("section, message", [
    (3, "[retry] in config must be a table"),
    ({"attempts": 0}, "[retry] attempts in config must be a whole number >= 1, not 0"),
    ({"attempts": "many"}, "[retry] attempts in config must be a whole number >= 1, not 'many'"),
    ({"attempts": 2.5}, "[retry] attempts in config must be a whole number >= 1, not 2.5"),
    ({"base_delay": -1}, "[retry] base_delay in config must be a number of seconds >= 0"),
    ({"max_total_wait": float("inf")}, "[retry] max_total_wait in config must be a number"),
    ({"max_delay": True}, "[retry] max_delay in config must be a number of seconds >= 0"),
])
def test_a_bad_retry_setting_is_a_setup_error(section: Any, message: str) -> None:
    with pytest.raises(SetupError) as caught:
        retry_policy(section)
    assert str(caught.value).startswith(message) and caught.value.code == 2


def test_retry_settings_are_read() -> None:
    policy = retry_policy({"attempts": 6, "base_delay": 0, "max_delay": 2, "max_total_wait": 30,
                           "idle_timeout": 5})
    assert (policy.attempts, policy.base_delay, policy.max_delay, policy.max_total_wait) == (
        6, 0.0, 2.0, 30.0)
    assert retry_policy({}) == RetryPolicy()
