"""The shared pieces of the HTTP clients: Retry-After, server messages, settings."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from joiner.providers import ProviderConfigError
from joiner.providers._http import (
    redact,
    resolve_settings,
    retry_after,
    server_message,
    stream_error,
    transport_error,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "12"}, 12.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"Retry-After": "-3"}, 0.0),
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after-ms": "junk", "Retry-After": "4"}, 4.0),
    ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
    ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ({"Retry-After": "nan"}, None),
    ({"Retry-After": "tomorrow"}, None),
    ({}, None),
])
def test_retry_after(headers, expected):
    assert retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(("body", "expected"), [
    (b'{"error": {"message": "Rate limit reached", "type": "requests"}}', "Rate limit reached"),
    (b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
     "Overloaded"),
    (b'{"error": "model \\"x\\" not found, try pulling it first"}',
     'model "x" not found, try pulling it first'),  # Ollama
    (b'{"message": "upstream failed"}', "upstream failed"),
    (b"  plain\n text  ", "plain text"),
    (b"", "Bad Gateway"),
    (b"x" * 1000, "x" * 399 + "…"),
])
def test_server_message(body, expected):
    assert server_message(body, "Bad Gateway") == expected


def test_redact_hides_the_key():
    assert redact("bad key sk-123456", "sk-123456") == "bad key ***"
    assert redact("nothing", None) == "nothing"


def test_stream_errors_by_type():
    overloaded = stream_error("anthropic", {"type": "error", "error": {
        "type": "overloaded_error", "message": "Overloaded"}}, None)
    assert overloaded.retryable and overloaded.message == "overloaded_error: Overloaded"
    bad = stream_error("openai", {"error": {"message": "too long",
                                            "type": "invalid_request_error"}}, None)
    assert not bad.retryable


@pytest.mark.parametrize(("exc", "start", "retryable"), [
    (httpx.ReadTimeout("x"), "stream stalled: no data for 2s", True),
    (httpx.ConnectTimeout("x"), "connecting to http://h timed out", True),
    (httpx.ConnectError("refused"), "cannot connect to http://h: refused", True),
    (httpx.RemoteProtocolError("incomplete chunked read"), "the connection was cut", True),
    (httpx.ReadError("reset"), "the connection was cut", True),
    (httpx.UnsupportedProtocol("ftp"), "bad base URL", False),
    (httpx.WriteError("pipe"), "network error: pipe", True),
])
def test_transport_errors(exc, start, retryable):
    err = transport_error("openai", exc, base_url="http://h", idle_timeout=2)
    assert err.message.startswith(start) and err.retryable is retryable


def test_settings_precedence_and_defaults(monkeypatch):
    monkeypatch.setenv("K", "env-key")
    monkeypatch.setenv("U", "http://env")
    resolved = resolve_settings({"timeout": "5", "idle_timeout": 7, "max_tokens": "100"},
                                key_env="K", url_env="U", default_url="https://default")
    assert (resolved.base_url, resolved.api_key) == ("http://env", "env-key")
    assert (resolved.timeout, resolved.idle_timeout, resolved.max_tokens) == (5.0, 7.0, 100)
    assert "env-key" not in repr(resolved)
    with pytest.raises(ProviderConfigError, match="bad provider setting"):
        resolve_settings({"timeout": "soon"}, key_env="K", url_env="U", default_url="https://d")
