"""The TUI's speed, as ratios against baselines measured in the same run.

1. First paint of ``joiner`` in a pty (80x24) against a bare Textual app with one Static and
   one Input (limit 2.5x); also when the session is ready (the model in the header).
2. A 20,000-token answer streamed at full speed by the loopback server (its own process)
   through the TUI (headless, Pilot) against the same stream through the headless face of
   ``joiner -p`` in-process (limit 1.3x); plus ``joiner -p`` as a process, for reference.
3. The event loop's longest stall while the TUI streams it (limit 16 ms, 60 frames a second).

Run: ``.venv/bin/python benchmarks/bench_tui.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import io
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import report

BIN = Path(sys.executable).parent
BARE_APP = """
from textual.app import App
from textual.widgets import Input, Static
class Bare(App):
    def compose(self):
        yield Static("bare-ready")
        yield Input(placeholder="type")
Bare().run()
"""


def answer_text(tokens: int = 20_000) -> str:
    """~``tokens`` tokens (4 characters each) of Markdown: prose, lists and code blocks."""
    parts: list[str] = []
    i = 0
    while sum(len(p) for p in parts) < tokens * 4:
        i += 1
        parts.append(f"## Step {i}\n\nThe function `add_{i}` now returns the sum of both "
                     "arguments instead of their difference, and the tests cover it.\n\n"
                     f"- changed `calc_{i}.py`\n- ran the tests: all passed\n\n"
                     f"```python\ndef add_{i}(a, b):\n    return a + b\n```\n\n")
    return "".join(parts)


# -- 1. first paint in a pty ------------------------------------------------------------------
def time_to_marker(argv: list[str], marker: bytes, env: dict[str, str], cwd: str,
                   timeout: float = 30.0) -> float:
    """Seconds from spawning ``argv`` on a fresh 80x24 pty until ``marker`` is on screen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while marker not in seen:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{marker!r} never appeared: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return time.perf_counter() - start
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


def first_paint(runs: int, env: dict[str, str], ws: Path, model: str) -> None:
    bare_file = ws.parent / "bare_app.py"
    bare_file.write_text(BARE_APP)
    term = {**env, "TERM": "xterm-256color"}
    joiner = [str(BIN / "joiner"), "--model", model]
    bare, paint, ready = [], [], []
    for _ in range(runs):  # interleaved, so load changes hit both alike
        bare.append(time_to_marker([sys.executable, str(bare_file)], b"bare-ready", term, str(ws)))
        paint.append(time_to_marker(joiner, b"Ctrl+J newline", term, str(ws)))
        ready.append(time_to_marker(joiner, b"scripted/", term, str(ws)))
    base = statistics.median(bare)
    report("bare Textual app: first paint (baseline)", base, base)
    report("joiner: first paint", statistics.median(paint), base, 2.5)
    report("joiner: session ready (model in header)", statistics.median(ready), base)


# -- 2 and 3. a 20,000-token answer -------------------------------------------------------------
class StallMonitor:
    """The longest time the event loop went without running this task's 1 ms sleeps."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.001)
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _session(ws: Path, model: str):  # type: ignore[no-untyped-def]
    from joiner.runtime import RunOptions, Session

    return Session(RunOptions(model=model, permission_mode="auto", cwd=ws))


def headless_stream(ws: Path, model: str) -> float:
    from joiner.headless import run_headless

    session = _session(ws, model)
    sink = io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(sink):
        code = run_headless(session, "go", "text")
    elapsed = time.perf_counter() - start
    assert code == 0 and len(sink.getvalue()) > 70_000, (code, len(sink.getvalue()))
    return elapsed


async def tui_stream(ws: Path, model: str, expected: str) -> tuple[float, float, int]:
    from joiner.runtime import RunOptions
    from joiner.ui.app import JoinerApp
    from joiner.ui.widgets.conversation import AssistantMessage

    app = JoinerApp(RunOptions(model=model, permission_mode="auto", cwd=ws))
    monitor = StallMonitor()
    async with app.run_test(size=(120, 40)) as pilot:
        while app.session is None:
            await pilot.pause(0.01)
        await pilot.pause(0.2)
        monitor.start()
        start = time.perf_counter()
        app.send("go")
        while app.busy:
            await asyncio.sleep(0.001)
        answer = app.conversation.query_one(AssistantMessage)
        while answer._pending or answer._scheduled:  # the last frame's flush
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - start
        monitor.stop()
        assert answer.source == expected, "the TUI did not show the whole answer"
        return elapsed, monitor.worst, answer.flushes


def start_server(script: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "joiner.testing.loopback", "--script",
                             str(script), "--repeat"], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def streaming(runs: int, env: dict[str, str], ws: Path) -> None:
    text = answer_text()
    script = ws.parent / "answer.json"
    script.write_text(json.dumps([{"text": text,
                                   "usage": {"input_tokens": 50, "output_tokens": 20_000}}]))
    server, base_url = start_server(script, env)
    os.environ["OPENAI_BASE_URL"] = base_url + "/v1"
    model = "openai/bench-model"
    try:
        headless, tui, stalls, flushes = [], [], [], []
        for _ in range(runs):
            headless.append(headless_stream(ws, model))
            elapsed, stall, count = asyncio.run(tui_stream(ws, model, text))
            tui.append(elapsed)
            stalls.append(stall)
            flushes.append(count)
        process = []
        for _ in range(max(1, runs // 2)):
            start = time.perf_counter()
            subprocess.run([str(BIN / "joiner"), "-p", "go", "--model", model,
                            "--permission-mode", "auto"], cwd=ws, check=True,
                           stdout=subprocess.DEVNULL, env={**env, "OPENAI_BASE_URL":
                                                           os.environ["OPENAI_BASE_URL"]})
            process.append(time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
    base = statistics.median(headless)
    print(f"20,000-token answer ({len(text):,} characters, {len(text) // 4:,} deltas):")
    report("  joiner -p face, in-process (baseline)", base, base)
    report("  TUI (Pilot), until the last frame is drawn", statistics.median(tui), base, 1.3)
    report("  joiner -p as a process (reference)", statistics.median(process), base)
    worst = max(stalls)
    print(f"  longest event-loop stall in the TUI: median {statistics.median(stalls) * 1000:.1f}"
          f" ms, worst {worst * 1000:.1f} ms  {'OK' if worst < 0.016 else 'OVER 16 ms'}")
    print(f"  Markdown appends for the answer: {statistics.median(flushes):.0f}"
          f" (instead of {len(text) // 4:,} per-delta renders)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="joiner-bench-tui-"))
    try:
        ws = tmp / "ws"
        (ws / ".git").mkdir(parents=True)
        script = tmp / "hello.json"
        script.write_text(json.dumps([{"text": "hello"}]))
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "NO_COLOR")}
        env["JOINER_HOME"] = str(tmp / "home")
        os.environ["JOINER_HOME"] = env["JOINER_HOME"]
        first_paint(args.runs, env, ws, f"scripted/{script}")
        streaming(args.runs, env, ws)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
