"""Every failure of both clients is a ProviderError, classified for the retry loop."""

from __future__ import annotations

import socket
import time

import pytest
from providers_support import KINDS, client, request, run

from joiner.core import ProviderError
from joiner.core.events import ASSISTANT_PARTIAL, RETRY, Event
from joiner.core.messages import ModelResponse
from joiner.core.retry import RetryPolicy, stream_with_retry

pytestmark = pytest.mark.parametrize("kind", KINDS)


async def fail(kind, server, **settings) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await run(client(kind, server, **settings))
    assert info.value.provider == kind
    return info.value


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 529])
async def test_overload_and_server_errors_are_retryable(kind, loopback, status):
    server = loopback([{"status": status}])
    err = await fail(kind, server)
    assert err.status == status
    assert err.retryable is True
    assert err.message == f"{status} loopback: scripted {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_request_errors_are_not_retryable_and_carry_the_server_message(
        kind, loopback, status):
    server = loopback([{"status": status, "body": {"type": "error", "error": {
        "type": "x", "message": "Incorrect API key provided"}}}])
    err = await fail(kind, server)
    assert err.retryable is False and err.status == status
    assert str(err).startswith(f"{kind}: {status} ")
    assert "Incorrect API key provided" in str(err)


async def test_401_names_the_key_to_check_and_never_shows_it(kind, loopback):
    key = "sk-secret-0123456789"
    server = loopback([], api_key="sk-other")
    err = await fail(kind, server, api_key=key)
    env = "OPENAI_API_KEY" if kind == "openai" else "ANTHROPIC_API_KEY"
    assert str(err) == f"{kind}: 401 Incorrect API key provided (check {env})"
    echoing = loopback([{"status": 401, "body": {"error": {"message": f"bad key {key}"}}}])
    err = await fail(kind, echoing, api_key=key)
    assert key not in str(err) and "bad key ***" in str(err)


async def test_404_points_at_the_model_and_base_url(kind, loopback):
    server = loopback([{"status": 404, "body": {"type": "error", "error": {
        "type": "not_found_error", "message": "model: nope"}}}])
    err = await fail(kind, server)
    assert "404 not found: model: nope (check the model name" in str(err)
    assert server.base_url in str(err)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
async def test_retry_after_is_read_from_the_headers(kind, loopback, headers, expected):
    server = loopback([{"status": 429, "headers": headers}])
    err = await fail(kind, server)
    assert err.retry_after == expected


async def test_a_plain_text_error_body_is_the_message(kind, loopback):
    server = loopback([{"status": 502, "body": "<html><b>Bad gateway</b>\n</html>"}])
    err = await fail(kind, server)
    assert err.message == "502 <html><b>Bad gateway</b> </html>" and err.retryable


async def test_a_cut_stream_keeps_the_text_streamed_so_far(kind, loopback):
    server = loopback([{"text": "The first part. The second part.", "cut_after_chars": 15}])
    err = await fail(kind, server)
    assert err.retryable is True
    assert err.partial == "The first part."
    assert "cut" in err.message or "ended before" in err.message


async def test_a_cut_before_any_text_has_no_partial(kind, loopback):
    server = loopback([{"text": "hello", "cut_after_chars": 0}])
    err = await fail(kind, server)
    assert err.retryable is True and err.partial == ""


async def test_a_malformed_chunk_is_a_retryable_error_with_the_partial(kind, loopback):
    server = loopback([{"text": "Hello world", "malformed": True}])
    err = await fail(kind, server)
    assert err.retryable is True
    assert err.message.startswith("malformed chunk from the server")
    assert err.partial == "Hell"


async def test_a_stalled_stream_times_out_quickly_and_is_retryable(kind, loopback):
    server = loopback([{"text": "slow", "stall_s": 10}])
    started = time.monotonic()
    err = await fail(kind, server, idle_timeout=0.3)
    assert time.monotonic() - started < 3
    assert err.retryable is True
    assert err.message == "stream stalled: no data for 0.3s"


async def test_a_pause_shorter_than_the_idle_timeout_is_fine(kind, loopback):
    server = loopback([{"text": "patience", "stall_s": 0.3}])
    _, response = await run(client(kind, server, idle_timeout=5))
    assert response.message.text == "patience"


@pytest.mark.parametrize(("error", "retryable"), [
    ({"type": "overloaded_error", "message": "Overloaded"}, True),
    ({"type": "invalid_request_error", "message": "prompt is too long"}, False),
])
async def test_an_error_event_inside_the_stream(kind, loopback, error, retryable):
    server = loopback([{"text": "Partly", "stream_error": error}])
    err = await fail(kind, server)
    assert err.retryable is retryable
    assert error["message"] in err.message and error["type"] in err.message
    assert err.partial == "Part"


async def test_connection_refused_is_retryable(kind, loopback):
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = loopback([])
    server.stop()
    settings = {"base_url": f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")}
    err = await fail(kind, server, **settings)
    assert err.retryable is True
    assert err.message.startswith(f"cannot connect to http://127.0.0.1:{port}")


async def test_an_exhausted_script_is_a_clear_non_retryable_error(kind, loopback):
    server = loopback([])
    err = await fail(kind, server)
    assert err.retryable is False and "no more steps" in err.message


class Sink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


async def test_two_429s_then_success_through_the_retry_loop(kind, loopback):
    server = loopback([{"status": 429, "headers": {"Retry-After": "0"}},
                       {"text": "cut here and lost", "cut_after_chars": 8},
                       {"text": "finally"}])
    provider, sink = client(kind, server), Sink()
    items = [i async for i in stream_with_retry(provider, request(), sink,
                                                RetryPolicy(attempts=4, base_delay=0.01))]
    await provider.aclose()

    assert isinstance(items[-1], ModelResponse) and items[-1].message.text == "finally"
    assert len(server.requests) == 3
    assert [e.type for e in sink.events] == [RETRY, ASSISTANT_PARTIAL, RETRY]
    assert sink.events[0].data["wait_s"] == 0 and sink.events[0].data["status"] == 429
    assert sink.events[1].data["text"] == "cut here"


async def test_a_redirect_is_not_followed_and_names_the_base_url(kind, loopback):
    server = loopback([{"status": 301, "headers": {"Location": "https://elsewhere/v1"},
                        "body": ""}])
    err = await fail(kind, server)
    assert err.retryable is False and err.status == 301
    assert err.message.startswith("301 redirected to https://elsewhere/v1 (check the base URL")
