"""The loopback server answering by conversation, so concurrent runs each get their script.

``LoopbackServer`` serves one script in request order: with several runs at once,
their requests interleave and a run may get another's answer. This server keys its
scripts by the conversation's first user prompt and picks the step by the number of
assistant turns already in the request. It keeps no state per run, so any number of
concurrent runs, and a run started again from scratch (a retried batch task), get
exactly their script. Steps are the loopback's (text, tool calls, usage, faults);
the script under ``"*"`` answers prompts with no script of their own.

From a shell: ``python -m joiner.testing.conversation_loopback --scripts scripts.json``
(a JSON object: prompt -> list of steps) prints the base URL and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

from joiner.testing.loopback import LoopbackServer

DEFAULT_KEY = "*"


def _text_of(content: Any) -> str:
    """A message's text in either wire format (a string, or a list of text parts/blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and part.get("type") in ("text", None))
    return ""


def conversation_position(body: Any) -> tuple[str, int]:
    """(first user prompt, assistant turns so far) of a chat request in either format."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return "", 0
    prompt = next((_text_of(m.get("content")) for m in messages
                   if isinstance(m, dict) and m.get("role") == "user"), "")
    turns = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
    return prompt, turns


class ConversationLoopback(LoopbackServer):
    """``ConversationLoopback({"prompt": [step, …], "*": [step, …]})``; see the module doc."""

    def __init__(self, scripts: dict[str, list[Any]], **options: Any) -> None:
        super().__init__([], **options)
        self.scripts = {key: [s if isinstance(s, dict) else {"text": str(s)} for s in steps]
                        for key, steps in scripts.items()}
        self._current = threading.local()  # the body of the request this thread serves

    def _record(self, path: str, headers: dict[str, str], body: Any) -> None:
        self._current.body = body
        super()._record(path, headers, body)

    def _next_step(self) -> tuple[dict[str, Any] | None, int]:
        prompt, turn = conversation_position(getattr(self._current, "body", None))
        script = self.scripts.get(prompt.strip(), self.scripts.get(DEFAULT_KEY))
        with self._lock:
            self._served += 1
            number = self._served
        if script is None or turn >= len(script):
            return None, number
        return script[turn], number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m joiner.testing.conversation_loopback",
                                     description="Serve scripted conversations on 127.0.0.1.")
    parser.add_argument("--scripts", required=True,
                        help='JSON file: {"first prompt": [steps], "*": [steps]}')
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--record", help="append each request as a JSON line to this file")
    args = parser.parse_args(argv)
    with open(args.scripts, encoding="utf-8") as f:
        scripts = json.load(f)
    if not isinstance(scripts, dict):
        parser.error("the scripts file must be a JSON object: prompt -> list of steps")
    server = ConversationLoopback(scripts, port=args.port, record_to=args.record)
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
