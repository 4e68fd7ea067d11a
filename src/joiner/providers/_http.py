"""What the HTTP model clients share: settings, error classification, estimates.

Everything here is about turning configuration and HTTP outcomes into the
core's vocabulary: a ``ProviderConfigError`` at set-up time, a ``ProviderError``
(never a raw httpx exception) at request time. Keys are never put in a message.
"""

from __future__ import annotations

import json
import math
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from joiner.core import ProviderError
from joiner.providers import ProviderConfigError

DEFAULT_TIMEOUT = 60.0  # seconds to connect and send the request
DEFAULT_IDLE_TIMEOUT = 120.0  # seconds without a byte (headers or body): the stream "stalled"
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})  # plus every 5xx (500, 502, 503, 504, 529...)
# Error types a server may send inside a stream that a retry will not fix.
FATAL_ERROR_TYPES = frozenset({
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "request_too_large", "invalid_api_key", "context_length_exceeded",
})
MAX_MESSAGE_CHARS = 400


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """A model client's resolved settings (from ``settings``, then the environment)."""

    base_url: str
    api_key: str | None
    timeout: float
    idle_timeout: float
    max_tokens: int | None

    def __repr__(self) -> str:  # never show the key
        key = "***" if self.api_key else None
        return f"ClientSettings(base_url={self.base_url!r}, api_key={key})"


def resolve_settings(
    settings: Mapping[str, Any], *, key_env: str, url_env: str, default_url: str,
    key_optional_off_default: bool = False,
) -> ClientSettings:
    """Settings win over the environment, the environment over the vendor default.

    A missing key is a ``ProviderConfigError`` unless ``key_optional_off_default`` and a
    non-default base URL is set (local OpenAI-compatible servers such as Ollama need none).
    """
    base_url = str(settings.get("base_url") or os.environ.get(url_env) or default_url).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ProviderConfigError(
            f"{url_env} {base_url!r} is not an http(s) URL; set it like {default_url}"
        )
    api_key = settings.get("api_key") or os.environ.get(key_env) or None
    if api_key is None and not (key_optional_off_default and base_url != default_url):
        raise ProviderConfigError(
            f"no {key_env} set: export it, or choose another model with --model"
        )
    try:
        timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT)
        idle_timeout = float(settings.get("idle_timeout") or DEFAULT_IDLE_TIMEOUT)
        max_tokens = int(settings["max_tokens"]) if settings.get("max_tokens") else None
    except (TypeError, ValueError) as exc:
        raise ProviderConfigError(f"bad provider setting: {exc}") from None
    return ClientSettings(base_url, api_key, timeout, idle_timeout, max_tokens)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The server's wait hint in seconds: ``retry-after-ms``, else ``Retry-After`` (seconds or
    an HTTP date). None when absent or unreadable; never negative."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if (ms := lowered.get("retry-after-ms")) is not None:
        try:
            value = float(ms) / 1000.0
            if math.isfinite(value):
                return max(value, 0.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
        return max(value, 0.0) if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def server_message(body: bytes | str, fallback: str = "") -> str:
    """The error message the server wrote: ``error.message`` of the JSON both vendors use,
    else the body's text, shortened to one readable line."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = ""
    try:
        data = json.loads(text)
    except ValueError:
        message = text
    else:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            message = str(error["message"])
        elif isinstance(error, str):
            message = error
        elif isinstance(data, dict) and data.get("message"):
            message = str(data["message"])
        else:
            message = text
    message = " ".join(message.split()) or fallback
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return message


def redact(message: str, api_key: str | None) -> str:
    return message.replace(api_key, "***") if api_key and len(api_key) >= 4 else message


def status_error(
    provider: str, response: httpx.Response, body: bytes, *, model: str, base_url: str,
    api_key: str | None, key_env: str,
) -> ProviderError:
    """An HTTP error status as a ``ProviderError``: the status and the server's own message."""
    status = response.status_code
    if 300 <= status < 400:  # redirects are not followed: a request body must not be re-sent
        where = response.headers.get("location", "elsewhere")
        return ProviderError(provider, f"{status} redirected to {where} (check the base URL "
                             f"{base_url})", status=status)
    message = redact(server_message(body, response.reason_phrase or "error"), api_key)
    if status == 401:
        message += f" (check {key_env})"
    elif status == 404:
        message = (f"not found: {message} "
                   f"(check the model name {model!r} and the base URL {base_url})")
    return ProviderError(
        provider, f"{status} {message}", status=status,
        retryable=status in RETRYABLE_STATUS or status >= 500,
        retry_after=retry_after(response.headers),
    )


def stream_error(provider: str, payload: Any, api_key: str | None) -> ProviderError:
    """An error the server sent inside a 200 stream (Anthropic's ``error`` event, an OpenAI
    chunk with ``error``). Overloaded / server errors are retryable; request errors are not."""
    error = payload.get("error", payload) if isinstance(payload, dict) else payload
    kind = str(error.get("type") or error.get("code") or "") if isinstance(error, dict) else ""
    message = redact(server_message(json.dumps({"error": error}), "error in stream"), api_key)
    label = f"{kind}: {message}" if kind and kind not in message else message
    return ProviderError(provider, label, retryable=kind not in FATAL_ERROR_TYPES)


def transport_error(
    provider: str, exc: Exception, *, base_url: str, idle_timeout: float
) -> ProviderError:
    """A failure below HTTP (connect, timeout, cut connection) as a ``ProviderError``."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ReadTimeout):
        return ProviderError(provider, f"stream stalled: no data for {idle_timeout:g}s",
                             retryable=True)
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderError(provider, f"connecting to {base_url} timed out", retryable=True)
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(provider, f"request timed out ({detail})", retryable=True)
    if isinstance(exc, httpx.ConnectError):
        return ProviderError(provider, f"cannot connect to {base_url}: {detail}", retryable=True)
    if isinstance(exc, httpx.RemoteProtocolError):  # e.g. "incomplete chunked read"
        return ProviderError(provider, "the connection was cut mid-answer", retryable=True)
    if isinstance(exc, httpx.ReadError):
        return ProviderError(provider, f"the connection was cut mid-answer ({detail})",
                             retryable=True)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProviderError(provider, f"bad base URL {base_url}: {detail}", retryable=False)
    return ProviderError(provider, f"network error: {detail}", retryable=True)


def tls_verify(base_url: str) -> ssl.SSLContext | bool:
    """httpx's ``verify`` for a client of ``base_url``.

    httpx loads the whole CA bundle when a client is made (~40 ms of every run). A plain-http
    base URL with no proxy configured never uses TLS (redirects are not followed), so it gets
    a verifying context that trusts no CA at all: should TLS ever happen, it fails closed.
    """
    if base_url.startswith("http://") and not any(
            name.lower().endswith("_proxy") for name in os.environ):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


def estimate_tokens(chars: int) -> int:
    """A local token estimate (~4 characters a token) for servers that report no usage."""
    return math.ceil(chars / 4)


def as_int(value: Any) -> int:
    """A token count from a server's JSON; anything but a non-negative int counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
