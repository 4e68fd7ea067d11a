"""The TUI's speed, as ratios against baselines measured in the same run.

1. First paint of ``joiner`` in a pty (80x24) against a bare Textual app with one Static and
   one Input (limit 2.5x); also when the session is ready (the model in the header).
2. A 20,000-token answer streamed at full speed by the loopback server (its own process)
   through the TUI (headless, Pilot, 120x40) against the same stream through the headless
   face of ``joiner -p`` in-process (limit 1.3x), interleaved, after one warm-up of each.
   The TUI's time ends at the first frame drawn (hooked where Textual draws it) that shows
   the whole answer, in its final look (Markdown) wherever the view is; the answer's text
   is checked. Also: CPU time of both, ``joiner -p`` as a process, and the time until every
   line of the answer is Markdown (the lines out of view are drawn in the background).
3. The event loop's longest stall until then (limit 16 ms, 60 frames a second): the
   longest gap between the turns of a task sleeping 1 ms, in wall time and in the CPU time
   this thread used in it; an idle loop's gaps, measured in the same run, are the machine's
   own noise. Then the memory the answer keeps (tracemalloc, one more run).
4. A 2,000-message session (``_tui_long_session.py``): shown, scrolled page by page, and the
   same answer streamed at its end.

Run: ``.venv/bin/python benchmarks/bench_tui.py [--runs N] [--only paint|stream]``
(``stream`` includes 3 and 4).
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
import tracemalloc
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_joiner, report
from _tui_long_session import long_session

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
    """The longest time the event loop went without running this task's 1 ms sleeps, in wall
    time (what the user feels; it includes other processes holding the CPU) and the CPU time
    this thread used in the longest such gap (what our own code held the loop for)."""

    def __init__(self) -> None:
        self.worst = self.worst_cpu = 0.0
        self.gaps: list[tuple[float, float]] = []  # (start, end) of each gap over 2 ms
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        clock, cpu = time.perf_counter, time.thread_time
        last, last_cpu = clock(), cpu()
        while True:
            await asyncio.sleep(0.001)
            now, now_cpu = clock(), cpu()
            if now - last > 0.003:
                self.gaps.append((last, now))
            self.worst = max(self.worst, now - last - 0.001)
            self.worst_cpu = max(self.worst_cpu, now_cpu - last_cpu)
            last, last_cpu = now, now_cpu

    def start(self) -> StallMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def worst_after(self, moment: float) -> float:
        """The longest stall that began after ``moment``."""
        return max((end - start - 0.001 for start, end in self.gaps if start >= moment),
                   default=0.0)


async def idle_stall(seconds: float = 1.0) -> float:
    """The machine's own noise: the longest stall of an event loop that does nothing."""
    monitor = StallMonitor().start()
    await asyncio.sleep(seconds)
    monitor.stop()
    return monitor.worst


def _session(ws: Path, model: str):  # type: ignore[no-untyped-def]
    from joiner.runtime import RunOptions, Session

    return Session(RunOptions(model=model, permission_mode="auto", cwd=ws))


def headless_stream(ws: Path, model: str) -> tuple[float, float]:
    """Wall and CPU seconds of the answer through ``joiner -p``'s face (text output)."""
    from joiner.headless import run_headless

    session = _session(ws, model)
    sink = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(sink):
        code = run_headless(session, "go", "text")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert code == 0 and len(sink.getvalue()) > 70_000, (code, len(sink.getvalue()))
    return elapsed, cpu


def on_frames(app, check, seen: asyncio.Event):  # type: ignore[no-untyped-def]
    """Times of the frames drawn while ``check()`` held as each began (Textual draws a frame
    in ``Screen._compositor_refresh``, after the layout: what it shows is what ``check`` saw);
    ``seen`` is set at the first."""
    screen, times = app.screen, []
    draw = screen._compositor_refresh

    def drawn() -> None:
        final = check()
        draw()
        if final:
            times.append(time.perf_counter())
            seen.set()

    screen._compositor_refresh = drawn
    return times


async def tui_stream(ws: Path, model: str, expected: str, trace_memory: bool = False
                     ) -> dict[str, float]:
    """The answer through the TUI (Pilot): from the prompt sent until the first frame that
    shows the whole answer, in its final look (Markdown) where the view is; then until every
    line of it is Markdown (the rest is converted in slices once the stream is done)."""
    from joiner.runtime import RunOptions
    from joiner.ui.app import JoinerApp
    from joiner.ui.widgets.conversation import AssistantMessage

    app = JoinerApp(RunOptions(model=model, permission_mode="auto", cwd=ws))
    async with app.run_test(size=(120, 40)) as pilot:
        while app.session is None:
            await pilot.pause(0.01)
        await pilot.pause(0.2)

        live: list[AssistantMessage] = []

        def answer() -> AssistantMessage | None:
            if not live and app.conversation.answer is not None:
                live.append(app.conversation.answer)
            return live[0] if live else None

        def final() -> bool:  # complete, and Markdown wherever the view is
            shown = answer()
            return shown is not None and shown.settled_in_view

        shown_final = asyncio.Event()
        frames = on_frames(app, final, shown_final)
        if trace_memory:
            tracemalloc.start()
        monitor = StallMonitor().start()
        start, cpu = time.perf_counter(), time.process_time()
        app.send("go")
        try:  # waiting on an event: polling would cost the TUI's loop time of its own
            await asyncio.wait_for(shown_final.wait(), 600)
        except TimeoutError:
            raise AssertionError("no frame ever showed the whole answer") from None
        elapsed, cpu = frames[0] - start, time.process_time() - cpu
        stall, stall_cpu = monitor.worst, monitor.worst_cpu
        monitor.stop()
        shown = answer()
        assert shown is not None and shown.source == expected, "the TUI did not show the answer"
        monitor = StallMonitor().start()
        limit = 600 if trace_memory else 120  # tracing every allocation is ~10x slower
        while not shown.settled and time.perf_counter() - start < limit:
            await asyncio.sleep(0.005)
        settled = time.perf_counter() - start
        monitor.stop()
        assert shown.settled, (f"the answer never became Markdown: {shown.unsettled} blocks left"
                               f" after {time.perf_counter() - start:.0f} s, following the end"
                               f" {app.conversation.following}")
        result = {"elapsed": elapsed, "cpu": cpu, "stall": stall, "stall_cpu": stall_cpu,
                  "settled": settled, "settle_stall": monitor.worst,
                  "flushes": shown.flushes}
        if trace_memory:
            result["memory"] = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        return result


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
        headless_stream(ws, model)  # warm up both: imports, lexers, the first connection
        asyncio.run(tui_stream(ws, model, text))
        headless, tui, idle = [], [], []
        for _ in range(runs):  # interleaved, so load changes hit both alike
            headless.append(headless_stream(ws, model))
            tui.append(asyncio.run(tui_stream(ws, model, text)))
            idle.append(asyncio.run(idle_stall()))
        memory = asyncio.run(tui_stream(ws, model, text, trace_memory=True))["memory"]
        long = asyncio.run(long_session(ws, model, text, StallMonitor, on_frames))
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

    def median(key: str) -> float:
        return statistics.median(run[key] for run in tui)

    base, base_cpu = (statistics.median(h[i] for h in headless) for i in (0, 1))
    print(f"20,000-token answer ({len(text):,} characters, {len(text) // 4:,} deltas), "
          f"median of {runs}:")
    report("  joiner -p face, in-process (baseline)", base, base)
    report("  TUI (Pilot): the whole answer on screen, final", median("elapsed"), base, 1.3)
    report("  joiner -p face: CPU (baseline)", base_cpu, base_cpu)
    report("  TUI: CPU", median("cpu"), base_cpu, 1.3)
    report("  joiner -p as a process (reference)", statistics.median(process), base)
    report("  TUI: every line of the answer Markdown", median("settled"), base)
    stalls = sorted(run["stall"] for run in tui)
    print(f"  longest event-loop stall in the TUI until the answer is shown: median "
          f"{median('stall') * 1000:.1f} ms, worst {stalls[-1] * 1000:.1f} ms"
          f"  {'OK' if stalls[-1] < 0.016 else 'OVER 16 ms'}")
    print(f"    CPU time our code held the loop in the longest gap: median "
          f"{median('stall_cpu') * 1000:.1f} ms, worst "
          f"{max(run['stall_cpu'] for run in tui) * 1000:.1f} ms")
    print(f"    an idle event loop on this machine (its own noise): median "
          f"{statistics.median(idle) * 1000:.1f} ms, worst {max(idle) * 1000:.1f} ms")
    print(f"    while the rest turns into Markdown: median {median('settle_stall') * 1000:.1f}"
          f" ms, worst {max(run['settle_stall'] for run in tui) * 1000:.1f} ms")
    print(f"  batches shown: {median('flushes'):.0f} (instead of {len(text) // 4:,} per-delta"
          f" renders); memory kept after the answer: {memory / 1e6:.1f} MB"
          f" ({memory / len(text):.0f} bytes per character of the answer)")
    print(f"A 2,000-message session ({long['widgets']:.0f} messages), once:")
    print(f"  shown in {long['loaded'] * 1000:.0f} ms, every answer drawn after"
          f" {long['drawn'] * 1000:.0f} ms")
    print(f"  a page scrolled: median {long['step'] * 1000:.1f} ms, worst"
          f" {long['worst_step'] * 1000:.1f} ms (to the frame); longest stall while scrolling"
          f" {long['scroll_stall'] * 1000:.1f} ms")
    print(f"  the 20,000-token answer at its end: {long['streamed'] * 1000:.0f} ms"
          f" ({long['streamed'] / median('elapsed'):.2f}x a fresh session's); longest stall"
          f" until the prompt is on screen {long['send_stall'] * 1000:.1f} ms, then while it"
          f" streams {long['stream_stall'] * 1000:.1f} ms")


def main() -> None:
    compile_joiner()
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["paint", "stream"])
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
        (tmp / "home").mkdir()  # a price for the bench model: no warning in either face
        (tmp / "home" / "config.toml").write_text(
            '[pricing."openai/bench-model"]\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n')
        if args.only in (None, "paint"):
            first_paint(args.runs, env, ws, f"scripted/{script}")
        if args.only in (None, "stream"):
            streaming(args.runs, env, ws)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
