"""The TUI with a long session: 2,000 messages (1,000 prompts and their Markdown answers).

Measured in the same headless Pilot app as ``bench_tui.py``'s stream: the time to show the
session (its end, in its final look) and to have every answer drawn (in the background),
each page scrolled from the end to the top and back (from the call to the frame that shows
it), the event loop's longest stall meanwhile, and the 20,000-token answer streamed at its
end, sent the moment the view is back at the end: the longest stall until the prompt is on
screen (it folds the far history away, ``ui.history_fold``, if the view was elsewhere) and
the longest while the answer streams after that.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any


def sample_answer(i: int) -> str:
    return (f"## Change {i}\n\nThe helper `step_{i}` now checks its input before it divides, "
            "so a zero no longer raises deep inside the loop; the caller gets a clear error "
            "instead, and the tests cover both paths.\n\n- edited `calc.py`\n- ran the tests\n\n"
            f"```python\ndef step_{i}(a, b):\n    if b == 0:\n        raise ValueError('b is 0')\n"
            "    return a / b\n```\n")


async def long_session(ws: Path, model: str, expected: str, monitor_cls: Any, on_frames: Any,
                       messages: int = 2000, pages: int = 40) -> dict[str, float]:
    from joiner.runtime import RunOptions
    from joiner.ui.app import JoinerApp
    from joiner.ui.gc_policy import freeze_survivors
    from joiner.ui.history_fold import Spacer
    from joiner.ui.widgets.conversation import AssistantMessage

    app = JoinerApp(RunOptions(model=model, permission_mode="auto", cwd=ws))
    async with app.run_test(size=(120, 40)) as pilot:
        while app.session is None:
            await pilot.pause(0.01)
        await pilot.pause(0.2)
        conv = app.conversation
        framed = asyncio.Event()
        on_frames(app, lambda: True, framed)

        async def frame() -> None:
            framed.clear()
            await asyncio.wait_for(framed.wait(), 30)

        start = time.perf_counter()
        with conv.batch():  # as a resumed session is shown (``JoinerApp.load_history``)
            for i in range(messages // 2):
                conv.add_user(f"Prompt {i}: make step_{i} safe when b is zero, with a test.")
                conv.end_answer(sample_answer(i))
        freeze_survivors()  # as after the startup of a resumed session, or after each turn
        await frame()
        answers = list(conv.query(AssistantMessage))
        while not answers[-1].settled_in_view:
            await frame()
        loaded = time.perf_counter() - start
        while not all(answer.settled for answer in answers):  # the rest, in the background
            await asyncio.sleep(0.05)
        drawn = time.perf_counter() - start

        monitor = monitor_cls().start()
        steps: list[float] = []

        async def step(move: Any) -> None:
            begin = time.perf_counter()
            move()
            await frame()
            steps.append(time.perf_counter() - begin)

        for _ in range(pages):
            await step(lambda: conv.scroll_page_up(animate=False))
        await step(lambda: conv.scroll_home(animate=False))
        for _ in range(pages):
            await step(lambda: conv.scroll_page_down(animate=False))
        await step(lambda: conv.scroll_end(animate=False))
        monitor.stop()
        scroll_stall = monitor.worst

        seen = asyncio.Event()
        live: list[AssistantMessage] = []

        def final() -> bool:  # the streamed answer, whole, and final where the view is
            if not live and conv.answer is not None:
                live.append(conv.answer)
            return bool(live) and live[0].settled_in_view and live[0].source == expected

        shown = on_frames(app, lambda: any(getattr(child, "text", None) == "go"
                                           for child in conv.children[-3:]),
                          asyncio.Event())  # frames with the prompt on screen
        on_frames(app, final, seen)
        monitor = monitor_cls().start()
        begin = time.perf_counter()
        app.send("go")
        await asyncio.wait_for(seen.wait(), 120)
        streamed = time.perf_counter() - begin
        monitor.stop()
        prompt_shown = shown[0] if shown else begin
        send_stall = max((end - start - 0.001 for start, end in monitor.gaps
                          if start < prompt_shown), default=0.0)
        messages = [child for child in conv.children if not isinstance(child, Spacer)]
        return {"loaded": loaded, "drawn": drawn, "step": statistics.median(steps),
                "worst_step": max(steps), "scroll_stall": scroll_stall, "streamed": streamed,
                "send_stall": send_stall, "stream_stall": monitor.worst_after(prompt_shown),
                "widgets": len(messages)}
