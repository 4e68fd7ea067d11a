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
"""

from __future__ import annotations

import gc

FULL_GC_EVERY = 100  # middle-generation passes per full pass (Python's default: 10)
_state = {"tuned": False, "thawed": False}


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
