"""One-shot timers: Textual's ``set_timer`` loses a tick that is late as its task starts;
``ui.timers.call_after`` always runs the callback, on the widget's queue."""

from __future__ import annotations

from textual import _time
from ui_support import started, wait_for

from joiner.ui.timers import call_after


async def test_a_late_one_shot_timer_still_fires(make_app, monkeypatch) -> None:
    app = make_app([{"text": "hi"}])
    fired: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        real = _time.get_time
        held = [0.0]

        def clock() -> float:  # as if the process was held 5 ms between any two readings
            held[0] += 0.005
            return real() + held[0]

        monkeypatch.setattr(_time, "get_time", clock)
        app.set_timer(0.001, lambda: fired.append("textual"))
        call_after(app.conversation, 0.001, fired.append, "ours")
        await wait_for(pilot, lambda: "ours" in fired)
        await pilot.pause(0.1)
        monkeypatch.setattr(_time, "get_time", real)
        assert fired == ["ours"]  # Textual's was skipped: the reason for ``call_after``


async def test_a_stopped_call_does_not_run(make_app) -> None:
    app = make_app([{"text": "hi"}])
    fired: list[int] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        call_after(app, 0.02, fired.append, 1).stop()
        call_after(app, 0.03, fired.append, 2)
        await wait_for(pilot, lambda: bool(fired))
        await pilot.pause(0.05)
        assert fired == [2]
