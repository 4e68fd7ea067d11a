"""Keeping the garbage collector's full passes out of the frames.

A full pass walks every object alive, holding the event loop: 80-300 ms with the modules'
~150,000 objects, 30-50 ms for a fresh conversation, 350-600 ms at 2,000 messages, several
times during a fast answer. So what is alive once the app is up (modules, classes, styles)
is left out of the passes for good (after one last full pass, so no garbage is kept with
them); so is what each turn leaves alive (its widgets, the answer's lines); and a full pass
waits for 100 passes of the middle generation instead of 10. Cycles among young objects,
nearly all the garbage there is, are still collected at once. Clearing the conversation
thaws everything, so the widgets removed can be collected.
"""

from __future__ import annotations

import gc

FULL_GC_EVERY = 100  # middle-generation passes per full pass (Python's default: 10)
_state = {"tuned": False, "thawed": False}


def tune_garbage_collector() -> None:
    """Once per process, right after the app's first frame."""
    if not _state["tuned"]:
        _state["tuned"] = True
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_GC_EVERY)


def freeze_survivors() -> None:
    """A turn is over: freeze what it left alive (after a full pass if a clear thawed the
    heap: the widgets it removed are garbage to collect, not to keep)."""
    if _state["tuned"]:
        if _state["thawed"]:
            _state["thawed"] = False
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()


def thaw() -> None:
    """Widgets are being removed: let the collector see everything again."""
    if _state["tuned"]:
        _state["thawed"] = True
        gc.unfreeze()
