"""The reliability tests' harness: the real ``joiner`` CLI in a subprocess, as a user runs it.

Each ``Joiner`` has its own ``JOINER_HOME`` (with tiny retry waits in its ``config.toml``) and
a git workspace; ``server=`` points both providers' base URLs at a loopback server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

WIRES = ["openai", "anthropic"]  # the two wire formats; the model is "WIRE/loop-model"
RETRY_TOML = """
[retry]
base_delay = 0.01
max_delay = 0.05

[pricing."openai/loop-model"]
input_per_mtok = 1.0
output_per_mtok = 2.0

[pricing."anthropic/loop-model"]
input_per_mtok = 1.0
output_per_mtok = 2.0
"""
# Runs the CLI with the store's lock wait cut from 120 s to 2 s (the lock test only).
SHORT_LOCK_WAIT = ("import sys, joiner.sessions.sqlite_db as db; db.RETRY_FOR_S = 2.0; "
                   "sys.argv[0] = 'joiner'; from joiner.cli import main; main()")


class Joiner:
    """``joiner(*args, server=...)`` runs ``joiner ARGS`` in the workspace and waits;
    ``joiner.start(...)`` returns the running ``Popen``."""

    def __init__(self, tmp_path: Path, home: Path | None = None) -> None:
        self.home = home or tmp_path / "home"
        self.workspace = tmp_path / "ws"
        self.home.mkdir(parents=True, exist_ok=True)
        (self.workspace / ".git").mkdir(parents=True)
        (self.workspace / "notes.txt").write_text("".join(f"line {i}\n" for i in range(30)))
        config = self.home / "config.toml"
        if os.access(self.home, os.W_OK) and not config.exists():
            config.write_text(RETRY_TOML)

    def env(self, server: Any = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "ANTHROPIC_", "JOINER_"))}
        env["JOINER_HOME"] = str(self.home)
        if server is not None:
            env |= {"OPENAI_API_KEY": "sk-loopback", "ANTHROPIC_API_KEY": "sk-loopback",
                    "OPENAI_BASE_URL": server.openai_base_url,
                    "ANTHROPIC_BASE_URL": server.base_url}
        return env

    def argv(self, args: tuple[str, ...], short_lock_wait: bool = False) -> list[str]:
        if short_lock_wait:
            return [sys.executable, "-c", SHORT_LOCK_WAIT, *args]
        return [str(Path(sys.executable).with_name("joiner")), *args]

    def __call__(self, *args: str, server: Any = None, short_lock_wait: bool = False,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(args, short_lock_wait), cwd=self.workspace,
                              env=self.env(server), capture_output=True, text=True,
                              timeout=timeout)

    def start(self, *args: str, server: Any = None) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(args), cwd=self.workspace, env=self.env(server),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run_json(self, *args: str, server: Any = None) -> tuple[subprocess.CompletedProcess[str],
                                                                 dict[str, Any]]:
        """``joiner -p ... --output-format json``: the process and its result object."""
        done = self(*args, "--output-format", "json", server=server)
        assert done.stdout.strip(), done.stderr
        return done, json.loads(done.stdout)

    def stream(self, *args: str, server: Any = None) -> tuple[subprocess.CompletedProcess[str],
                                                               list[dict[str, Any]]]:
        """``joiner -p ... --output-format stream-json``: the process and its events."""
        done = self(*args, "--output-format", "stream-json", server=server)
        return done, [json.loads(line) for line in done.stdout.splitlines()]

    def session(self, session_id: str) -> dict[str, Any]:
        """``joiner sessions show ID --json``."""
        shown = self("sessions", "show", session_id, "--json")
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    def events(self, session_id: str) -> list[dict[str, Any]]:
        """The session's stored events (``joiner sessions export ID --format json``)."""
        exported = self("sessions", "export", session_id, "--format", "json")
        assert exported.returncode == 0, exported.stderr
        return json.loads(exported.stdout)["events"]

    def files(self) -> dict[str, bytes]:
        """Every file of the workspace and its bytes: to show a run left it untouched."""
        return {str(p.relative_to(self.workspace)): p.read_bytes()
                for p in sorted(self.workspace.rglob("*")) if p.is_file()}


def error_lines(stderr: str) -> list[str]:
    """stderr without the retry progress lines: what the user is told at the end."""
    return [line for line in stderr.splitlines() if not line.startswith("joiner: retrying in")]


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
    assert "Traceback" not in done.stdout, done.stdout


class StallAfterText:
    """A model server (both wire formats) that streams ``text`` as one delta and then goes
    silent until stopped: a stream that is live, with text on screen, when Ctrl+C comes.
    (The loopback server's ``stall_s`` pauses before the first text.)"""

    def __init__(self, text: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from joiner.testing.wire import Answer, AnthropicWire, OpenAIWire

        stop = self.stopping = threading.Event()
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                wire = OpenAIWire() if "chat/completions" in self.path else AnthropicWire()
                answer = Answer.from_step({"text": text, "chunk_chars": len(text)}, 1, 4)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for kind, data, _chars in wire.events(answer, body.get("model", ""), body):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    if kind == "text":
                        break
                self.wfile.flush()
                stop.wait(120)
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.openai_base_url = f"{self.base_url}/v1"

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
