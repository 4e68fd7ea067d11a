"""The background drawing of answers out of view, and the garbage collector's policy."""

from __future__ import annotations

import gc
from typing import Any

from joiner.ui import gc_policy
from joiner.ui.settler import Settler


class Host:
    def __init__(self) -> None:
        self.following, self.streaming = True, False
        self.timers: list[Any] = []

    def call_after(self, delay: float, callback: Any) -> None:
        self.timers.append(callback)

    def fold_soon(self) -> None:
        self.folds = getattr(self, "folds", 0) + 1

    def run(self) -> None:
        while self.timers:
            self.timers.pop(0)()


class Answer:
    is_attached = True

    def __init__(self, slices: int) -> None:
        self.slices, self.laid_out = slices, 0

    def settle_offscreen(self, deadline: float) -> bool:
        self.slices -= 1
        return self.slices <= 0

    def apply_layout(self) -> None:
        self.laid_out += 1


def test_newest_answer_first_and_one_layout_for_many() -> None:
    host = Host()
    settler = Settler(host)
    old, new = Answer(2), Answer(1)
    settler.add(old)
    settler.add(new)
    settler.step()  # one slice: the newest answer is done first, then the older one goes on
    assert new.slices == 0 and old.slices == 1
    host.run()
    assert old.slices == 0 and not settler.waiting
    assert old.laid_out == new.laid_out == 1  # laid out together at the end


def test_waits_while_the_user_reads_up_or_an_answer_streams() -> None:
    host = Host()
    settler = Settler(host)
    answer = Answer(1)
    host.following = False
    settler.add(answer)
    host.timers.pop(0)()
    assert answer.slices == 1 and host.timers  # it looks again later
    host.following, host.streaming = True, True
    host.timers.pop(0)()
    assert answer.slices == 1
    host.streaming = False
    host.run()
    assert answer.slices == 0 and answer.laid_out == 1


def test_gc_policy_freezes_survivors_and_thaws_for_removed_widgets() -> None:
    threshold = gc.get_threshold()
    try:
        gc_policy.tune_garbage_collector()
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[2] == gc_policy.FULL_GC_EVERY
        kept = [object() for _ in range(10)] + [[i] for i in range(1000)]
        gc_policy.freeze_survivors()
        assert gc.get_freeze_count() >= 1000
        gc_policy.thaw()
        assert gc.get_freeze_count() == 0
        gc_policy.freeze_survivors()  # after a thaw: nothing frozen until the idle pass
        assert gc.get_freeze_count() == 0
        gc_policy.refreeze_when_idle()
        assert gc.get_freeze_count() > 0
        del kept
    finally:
        gc_policy.thaw()
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_young_passes_are_held_while_streaming_and_run_as_the_collector_would() -> None:
    threshold = gc.get_threshold()
    passes: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        gc_policy.hold_young_passes()
        gc_policy.hold_young_passes()  # nested: one release each
        assert gc.get_threshold() == (gc_policy.STREAM_THRESHOLD, *threshold[1:])
        gc_policy.release_young_passes()
        assert gc.get_threshold()[0] == gc_policy.STREAM_THRESHOLD
        passes.clear()
        for _ in range(threshold[1] + 1):
            gc_policy.young_pass()
        assert passes.count(0) == threshold[1] and passes.count(1) == 1  # the middle one's turn
        assert 2 not in passes
        gc_policy.release_young_passes()
        gc_policy.release_young_passes()  # one too many: no effect
        assert gc.get_threshold() == threshold
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*threshold)
