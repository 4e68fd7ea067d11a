"""Keeping the garbage collector's full passes out of the frames.

A full pass walks every object alive, holding the event loop: 80-300 ms with the modules'
~150,000 objects, 30-50 ms for a fresh conversation, 350-600 ms at 2,000 messages, several
times during a fast answer. So what is alive once the app is up (modules, classes, styles)
is left out of the passes for good (after one last full pass, so no garbage is kept with
them); so is what each turn leaves alive (its widgets, the answer's lines); and a full pass
waits for 100 passes of the middle generation instead of 10. Cycles among young objects,
nearly all the garbage there is, are still collected at once. Clearing the conversation
thaws everything, so the widgets removed can be collected, by a full pass once the app is
idle.

While an answer streams, the young passes are kept out of the frames: a frame makes
thousands of objects (a Textual line carries seven small caches), so it would trigger a
young pass nearly every time (0.5-2 ms, and a middle pass of 2-6 ms every tenth) on top of
its own 6-10 ms. So from an answer's first batch to its end the collector's own trigger is
raised (a safety net only), and the answer runs the same passes itself a few milliseconds
after each of its frames (``young_pass``), when the loop is otherwise quiet.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from textual.widget import Widget

from joiner.ui.timers import call_after

FULL_GC_EVERY = 100  # middle-generation passes per full pass (Python's default: 10)
STREAM_THRESHOLD = 50_000  # young objects before the collector's own pass, while streaming
AFTER_FRAME_S = 0.015  # how long after a streamed batch's frame its young pass runs
_state = {"tuned": False, "thawed": False}
_streaming = {"count": 0, "threshold": 0}


def tune_garbage_collector() -> None:
    """At an app's start, right after its first frame (once per app: tests and benchmarks
    run several apps in one process, each thawing what it froze when it exits)."""
    _state["tuned"], _state["thawed"] = True, False
    gc.collect()
    gc.freeze()
    gc.enable()  # the command line held it through start-up (joiner.startup)
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_GC_EVERY)


def freeze_survivors() -> None:
    """A turn is over (or the answers are all drawn): freeze what is alive now. Not after a
    thaw: the widgets removed may not be garbage yet, and would be kept for good."""
    if _state["tuned"] and not _state["thawed"]:
        gc.collect(1)
        gc.freeze()


def thaw() -> None:
    """Widgets are being removed: let the collector see everything again."""
    if _state["tuned"]:
        _state["thawed"] = True
        gc.unfreeze()


def refreeze_when_idle() -> None:
    """After a thaw, once the app is idle: one full pass (the pause nobody waits on), and
    freezing goes on."""
    if _state["tuned"] and _state["thawed"]:
        _state["thawed"] = False
        gc.collect()
        gc.freeze()


def hold_young_passes() -> None:
    """An answer starts streaming: the young passes wait for ``young_pass`` (between frames).
    Calls nest; each is matched by one ``release_young_passes``."""
    _streaming["count"] += 1
    if _streaming["count"] == 1:
        young, middle, old = gc.get_threshold()
        _streaming["threshold"] = young
        gc.set_threshold(max(young, STREAM_THRESHOLD), middle, old)


def release_young_passes() -> None:
    if _streaming["count"] == 0:
        return
    _streaming["count"] -= 1
    if _streaming["count"] == 0:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(_streaming["threshold"], middle, old)


def young_pass() -> None:
    """The pass the collector would have run: the young generation, and the middle one too
    when its turn has come (never a full pass: those wait for the collector's own trigger,
    once the stream is over)."""
    if not gc.isenabled():
        return  # start-up holds the collector: nothing to do here
    middle_due = gc.get_count()[1] >= gc.get_threshold()[1]
    gc.collect(1 if middle_due else 0)


class PassesAfterFrames:
    """A streaming widget's side of ``hold_young_passes``: from its first batch the young
    passes are held, each batch's frame is followed (``AFTER_FRAME_S`` later, a turn of the
    loop of its own) by one ``young_pass``, and the first such pass once ``done()`` ends the
    hold. ``release`` ends it at once (the widget is unmounted)."""

    def __init__(self, widget: Widget, done: Callable[[], bool]) -> None:
        self._widget = widget
        self._done = done
        self.holding = False
        self._due = False

    def after_frame(self) -> None:
        """A batch was shown: hold the passes while streaming, and run one after its frame."""
        if not self.holding and not self._done():
            self.holding = True
            hold_young_passes()
        if self.holding and not self._due:
            self._due = True
            self._widget.call_after_refresh(call_after, self._widget, AFTER_FRAME_S,
                                            self._pass)

    def release(self) -> None:
        if self.holding:
            self.holding = False
            release_young_passes()

    def _pass(self) -> None:
        self._due = False
        if not self.holding:
            return
        young_pass()
        if self._done():
            self.release()
