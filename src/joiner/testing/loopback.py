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
- ``"stream_error": {"type": "overloaded_error", "message": "Overloaded"}``: an error event
  after the first text chunk, then the end of the stream;
- ``"no_usage": true``: report no token usage; ``"no_stream": true``: answer with one JSON
  body even when a stream was asked for (as some compatible servers do);
- ``"chunk_chars": N``: characters per delta (default 4); ``"gap_s": X``: a pause of X
  seconds after each event (as a model generating at 1/X events a second).

Every request is recorded (path, headers without credentials, JSON body) in
``server.requests``. From a shell, ``python -m joiner.testing.loopback --script
steps.json`` prints the base URL and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joiner.testing.wire import Answer, AnthropicWire, OpenAIWire

CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


@dataclass(slots=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # lower-case names, credentials removed
    body: Any  # the parsed JSON (None if it was not JSON)


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
        if body.get("stream") and not step.get("no_stream"):
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
        fault_after = "text" if a.text else "start"
        try:
            for kind, data, chars in wire.events(a, model, body):
                if limit is not None and kind != "start" and sent >= limit:
                    self.close_connection = True  # cut: no terminating chunk, socket closed
                    return
                write(b"%x\r\n%s\r\n" % (len(data), data))
                sent += chars
                if a.malformed and kind == fault_after:
                    write(b"%x\r\n%s\r\n" % (len(wire.malformed), wire.malformed))
                    a.malformed = False
                if a.stream_error and kind == fault_after:
                    data = wire.error_event(a.stream_error)
                    write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
                    return
                if a.stall_s and kind == "start":
                    self.server.owner._stopping.wait(a.stall_s)
                elif a.gap_s:
                    self.server.owner._stopping.wait(a.gap_s)
            write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            super().handle_error(request, client_address)


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
