"""Turning the answers' lines out of view into Markdown in the background, for a whole
conversation: a few milliseconds per turn of the event loop, newest answer first, and one
layout for many answers.

An answer off screen only has estimated heights until it is drawn. Drawing it while the
user reads elsewhere means that scrolling to it later changes no height, so it needs no
layout: in a 2,000-message conversation a layout walks every widget (tens of milliseconds),
a scroll that changes no height does not. The work waits while the user has scrolled
away from the end, since heights changing above the view would move what they read, and
while an answer streams (its own frames come first).
"""

from __future__ import annotations

import time
from typing import Protocol

from joiner.ui.gc_policy import freeze_survivors

SLICE_S = 0.005  # the longest one turn of the loop spends drawing
LAYOUT_EVERY_S = 0.25  # blocks drawn off screen are laid out together, at most this often
IDLE_CHECK_S = 0.25  # while the user reads away from the end, look again this often


class Settles(Protocol):
    is_attached: bool

    def settle_offscreen(self, deadline: float) -> bool: ...

    def apply_layout(self) -> None: ...


class Host(Protocol):
    @property
    def following(self) -> bool: ...

    @property
    def streaming(self) -> bool: ...

    def call_after(self, delay: float, callback: object) -> object: ...

    def fold_soon(self) -> None: ...


class Settler:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.waiting: list[Settles] = []  # oldest first; the newest is drawn first
        self._touched: dict[int, Settles] = {}
        self._scheduled = False
        self._laid_out_at = 0.0

    def add(self, answer: Settles) -> None:
        if not self.waiting and not self._touched:
            self._laid_out_at = time.perf_counter()  # a new batch: its first layout waits too
        if all(waiting is not answer for waiting in self.waiting[-8:]):
            self.waiting.append(answer)
        self.soon()

    def clear(self) -> None:
        self.waiting.clear()
        self._touched.clear()

    def soon(self, delay: float = 0.002) -> None:
        if not self._scheduled and self.waiting:
            self._scheduled = True
            self.host.call_after(delay, self.step)

    def step(self) -> None:
        self._scheduled = False
        if not self.host.following or self.host.streaming:
            self.soon(IDLE_CHECK_S)
            return
        deadline = time.perf_counter() + SLICE_S
        while self.waiting and time.perf_counter() < deadline:
            answer = self.waiting[-1]
            if not answer.is_attached:
                self.waiting.pop()
                continue
            self._touched[id(answer)] = answer
            if not answer.settle_offscreen(deadline):
                break
            self.waiting.pop()
        now = time.perf_counter()
        if self._touched and (not self.waiting or now - self._laid_out_at > LAYOUT_EVERY_S):
            for answer in self._touched.values():
                answer.apply_layout()
            self._touched.clear()
            self._laid_out_at = now
            if not self.waiting:
                freeze_survivors()  # the lines drawn stay: out of the full passes with them
                self.host.fold_soon()  # drawn in their final look: the far ones can fold
        self.soon()
