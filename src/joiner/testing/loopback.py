"""A scripted model server on 127.0.0.1 that speaks both wire formats for real.

``POST /v1/chat/completions`` answers as OpenAI's Chat Completions and ``POST
/v1/messages`` as Anthropic's Messages API, streamed (SSE, chunked, one event per
write) or whole, as the request asks. Both serve one script, in order. A step is
the dict the ``ScriptedProvider`` takes, ``{"text", "tool_calls": [{"name",
"arguments"}], "usage": {...}}`` (a plain string is a text answer), plus faults:

- ``{"status": 429, "headers": {"Retry-After": "0"}, "body": {...} | "text"}``: an error
  response (the body defaults to the vendor's error JSON);
- ``"cut_after_chars": N``: close the connection after N characters of the answer's text;
- ``"malformed": true``: one chunk of broken JSON after the first text chunk;
- ``"stall_s": X``: go silent for X seconds after the first event, then go on;
- ``"no_usage": true``: report no token usage; ``"chunk_chars": N``: characters per delta.

Every request is recorded (path, headers without credentials, JSON body) in
``server.requests``. From a shell, ``python -m joiner.testing.loopback --script
steps.json`` prints the base URL and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Events = Iterator[tuple[str, bytes, int]]  # (kind: start | text | other, SSE bytes, text chars)
CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})
DEFAULT_USAGE = {"input_tokens": 10, "output_tokens": 5}  # as the ScriptedProvider's
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 529: "overloaded_error"}


@dataclass(slots=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-case names, credentials removed
    body: Any  # the parsed JSON (None if it was not JSON)


@dataclass(slots=True)
class Answer:
    """One scripted answer, normalized."""

    number: int  # 1-based count of the request it answers
    text: str = ""
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, arguments JSON
    usage: dict[str, int] | None = None
    chunk: int = 4
    cut_after: int | None = None
    malformed: bool = False
    stall_s: float = 0.0

    @classmethod
    def from_step(cls, step: dict[str, Any], number: int, chunk: int) -> Answer:
        calls = [(c.get("id") or f"call_{number}_{j}", c["name"],
                  c["arguments"] if isinstance(c.get("arguments"), str)
                  else json.dumps(c.get("arguments", {})))
                 for j, c in enumerate(step.get("tool_calls", []))]
        usage = None if step.get("no_usage") else {
            "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
            "cache_write_tokens": 0, **step.get("usage", DEFAULT_USAGE)}
        return cls(number, step.get("text", ""), calls, usage,
                   max(int(step.get("chunk_chars", chunk)), 1), step.get("cut_after_chars"),
                   bool(step.get("malformed")), float(step.get("stall_s", 0.0)))

    def pieces(self, text: str) -> list[str]:
        """``text`` in deltas of ``chunk`` characters; the cut point is always a boundary."""
        at = self.cut_after
        cuts = [text] if at is None else [text[:at], text[at:]]
        return [p[i : i + self.chunk] for p in cuts for i in range(0, len(p), self.chunk)]


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: %s\n\n" % json.dumps(data).encode()


def _event(data: dict[str, Any]) -> bytes:
    """An Anthropic-style event: its type named on the ``event:`` line too."""
    return b"event: %s\ndata: %s\n\n" % (data["type"].encode(), json.dumps(data).encode())


class OpenAIWire:
    malformed = b'data: {"choices": [{"delta": {"content": "oo\n\n'

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": ERROR_TYPES.get(status, "server_error"),
                          "param": None, "code": None}}

    def _usage(self, a: Answer) -> dict[str, Any]:
        u = a.usage or {}
        prompt = u["input_tokens"] + u["cache_read_tokens"] + u["cache_write_tokens"]
        return {"prompt_tokens": prompt, "completion_tokens": u["output_tokens"],
                "total_tokens": prompt + u["output_tokens"],
                "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]}}

    def whole(self, a: Answer, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": a.text or None}
        if a.calls:
            message["tool_calls"] = [{"id": i, "type": "function",
                                      "function": {"name": n, "arguments": args}}
                                     for i, n, args in a.calls]
        body = {"id": f"chatcmpl-{a.number}", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if a.calls else "stop"}]}
        return body | ({"usage": self._usage(a)} if a.usage else {})

    def events(self, a: Answer, model: str, body: dict[str, Any]) -> Events:
        head = {"id": f"chatcmpl-{a.number}", "object": "chat.completion.chunk", "model": model}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return _sse({**head, "choices": [choice]})

        yield "start", chunk({"role": "assistant", "content": ""}), 0
        for piece in a.pieces(a.text):
            yield "text", chunk({"content": piece}), len(piece)
        for index, (call_id, name, arguments) in enumerate(a.calls):
            yield "other", chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                                  "function": {"name": name, "arguments": ""}}]}), 0
            for piece in a.pieces(arguments):
                yield "other", chunk({"tool_calls": [{"index": index,
                                                      "function": {"arguments": piece}}]}), 0
        yield "other", chunk({}, "tool_calls" if a.calls else "stop"), 0
        if a.usage and (body.get("stream_options") or {}).get("include_usage"):
            yield "other", _sse({**head, "choices": [], "usage": self._usage(a)}), 0
        yield "other", b"data: [DONE]\n\n", 0


class AnthropicWire:
    malformed = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"),
                                           "message": message}}

    def _blocks(self, a: Answer) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": a.text}] if a.text else []
        return blocks + [{"type": "tool_use", "id": i, "name": n, "input": json.loads(args)}
                         for i, n, args in a.calls]

    def _usage(self, a: Answer, output: int | None = None) -> dict[str, int]:
        u = a.usage or {}
        return {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"]
                if output is None else output, "cache_read_input_tokens": u["cache_read_tokens"],
                "cache_creation_input_tokens": u["cache_write_tokens"]}

    def whole(self, a: Answer, model: str) -> dict[str, Any]:
        body = {"id": f"msg_{a.number}", "type": "message", "role": "assistant", "model": model,
                "content": self._blocks(a), "stop_reason": "tool_use" if a.calls else "end_turn",
                "stop_sequence": None}
        return body | ({"usage": self._usage(a)} if a.usage else {})

    def events(self, a: Answer, model: str, body: dict[str, Any]) -> Events:
        message = {"id": f"msg_{a.number}", "type": "message", "role": "assistant", "model": model,
                   "content": [], "stop_reason": None, "stop_sequence": None}
        if a.usage:
            message["usage"] = self._usage(a, output=1)
        yield "start", _event({"type": "message_start", "message": message}), 0
        index = 0
        if a.text:
            yield "other", _event({"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "text", "text": ""}}), 0
            yield "other", _event({"type": "ping"}), 0
            for piece in a.pieces(a.text):
                yield "text", _event({"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": piece}}), len(piece)
            yield "other", _event({"type": "content_block_stop", "index": 0}), 0
            index = 1
        for call_id, name, arguments in a.calls:
            yield "other", _event({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call_id, "name": name, "input": {}}}), 0
            for piece in a.pieces(arguments):
                yield "other", _event({"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": piece}}), 0
            yield "other", _event({"type": "content_block_stop", "index": index}), 0
            index += 1
        delta = {"type": "message_delta", "delta": {
            "stop_reason": "tool_use" if a.calls else "end_turn", "stop_sequence": None}}
        if a.usage:
            delta["usage"] = {"output_tokens": a.usage["output_tokens"]}
        yield "other", _event(delta), 0
        yield "other", _event({"type": "message_stop"}), 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._json(404, {"error": {"message": f"no route GET {self.path}"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        owner._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        if self.path.rstrip("/").endswith("/chat/completions"):
            wire: OpenAIWire | AnthropicWire = OpenAIWire()
        elif self.path.rstrip("/").endswith("/v1/messages"):
            wire = AnthropicWire()
            if not self.headers.get("anthropic-version"):
                return self._json(400, wire.error(400, "anthropic-version: header is required"))
        else:
            return self._json(404, {"error": {"message": f"no route POST {self.path}"}})
        if not isinstance(body, dict):
            return self._json(400, wire.error(400, "the body is not a JSON object"))
        if owner.api_key and owner.api_key not in (self.headers.get("x-api-key"),
                                                   self.headers.get("authorization", "")[7:]):
            return self._json(401, wire.error(401, "Incorrect API key provided"))
        step, number = owner._next_step()
        if step is None:
            return self._json(400, wire.error(400, "loopback: the script has no more steps"))
        if "status" in step:
            payload = step.get("body") or wire.error(step["status"],
                                                     f"loopback: scripted {step['status']}")
            return self._json(int(step["status"]), payload, step.get("headers", {}))
        answer = Answer.from_step(step, number, owner.chunk_chars)
        model = str(body.get("model", ""))
        if body.get("stream"):
            self._stream(answer, wire, model, body)
        else:
            self._json(200, wire.whole(answer, model))

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, a: Answer, wire: OpenAIWire | AnthropicWire, model: str,
                body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        write = self.wfile.write
        sent, limit = 0, None if a.cut_after is None else min(a.cut_after, len(a.text))
        malformed_after = "text" if a.text else "start"
        try:
            for kind, data, chars in wire.events(a, model, body):
                if limit is not None and kind != "start" and sent >= limit:
                    self.close_connection = True  # cut: no terminating chunk, socket closed
                    return
                write(b"%x\r\n%s\r\n" % (len(data), data))
                sent += chars
                if a.malformed and kind == malformed_after:
                    write(b"%x\r\n%s\r\n" % (len(wire.malformed), wire.malformed))
                    a.malformed = False
                if a.stall_s and kind == "start":
                    self.server.owner._stopping.wait(a.stall_s)
            write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """``with LoopbackServer(steps) as server:`` ... ``server.openai_base_url``."""

    def __init__(self, script: list[Any], *, port: int = 0, repeat: bool = False,
                 chunk_chars: int = 4, api_key: str | None = None,
                 record_to: str | None = None) -> None:
        self.script = [s if isinstance(s, dict) else {"text": str(s)} for s in script]
        self.repeat = repeat
        self.chunk_chars = chunk_chars
        self.api_key = api_key  # when set, requests must carry it
        self.requests: list[RecordedRequest] = []
        self._record_to = record_to
        self._lock = threading.Lock()
        self._served = 0
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``ANTHROPIC_BASE_URL`` takes (no version path)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """What ``OPENAI_BASE_URL`` takes (with ``/v1``)."""
        return f"{self.base_url}/v1"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={
            "poll_interval": 0.05}, name=f"loopback:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_step(self) -> tuple[dict[str, Any] | None, int]:
        with self._lock:
            self._served += 1
            index = self._served - 1
            if self.repeat and self.script:
                index %= len(self.script)
            return (self.script[index] if index < len(self.script) else None), self._served

    def _record(self, path: str, headers: dict[str, str], body: Any) -> None:
        kept = {k: v for k, v in headers.items() if k not in CREDENTIAL_HEADERS}
        request = RecordedRequest(path, kept, body)
        with self._lock:
            self.requests.append(request)
            if self._record_to:
                with open(self._record_to, "a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(request)) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m joiner.testing.loopback",
                                     description="Serve a scripted model on 127.0.0.1.")
    parser.add_argument("--script", required=True, help="JSON file: a list of steps")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--repeat", action="store_true", help="start the script over when done")
    parser.add_argument("--chunk-chars", type=int, default=4, help="characters per delta")
    parser.add_argument("--record", help="append each request as a JSON line to this file")
    args = parser.parse_args(argv)
    with open(args.script, encoding="utf-8") as f:
        script = json.load(f)
    if not isinstance(script, list):
        parser.error("the script must be a JSON list of steps")
    server = LoopbackServer(script, port=args.port, repeat=args.repeat,
                            chunk_chars=args.chunk_chars, record_to=args.record)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    server.start()
    print(server.base_url, flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
