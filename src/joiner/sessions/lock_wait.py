"""Waiting for the store's lock without deafening the process to Ctrl+C.

A write waits up to ``RETRY_FOR_S`` (120 s) for another process to let go of the store's lock.
That wait is polled in Python (never one long sleep inside SQLite), and while it lasts,
``SignalWatch`` notes SIGINT and SIGTERM, so the waiter gives up between two tries and raises
``LockWaitInterrupted`` (a ``KeyboardInterrupt``: the CLI exits 130 as for any Ctrl+C).

This matters most where the signal would not interrupt anything by itself: ``joiner -p`` runs
in asyncio with ``loop.add_signal_handler``, whose handler only runs once the event loop gets
control back, and a store write blocks the loop. The handler that was there is still called
(asyncio's, a batch's flag), so its owner learns of the signal as before.

Once a signal has come, the waits of the next ``RECENT_S`` seconds give up after
``GRACE_S``: the process is on its way out, and its clean-up writes (the partial answer, the
session's status) must not start another long wait, but a lock held for a moment by another
session's write must not cost them either. A face that handles SIGINT itself may call
``note_interrupt()`` so that a write which comes after the signal does not wait either.

Signal handlers can only be set in the main thread; elsewhere the watch sees nothing and the
wait runs its course, as before.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any

WATCHED = (signal.SIGINT, signal.SIGTERM)
RECENT_S = 5.0  # after an interrupt, how long waits for the lock are cut short
GRACE_S = 1.0  # how long such a wait still lasts

_last_interrupt: float | None = None  # time.monotonic() of the last one noted


def note_interrupt() -> None:
    """The process was asked to stop: waits for the lock in the next ``RECENT_S`` give up."""
    global _last_interrupt
    _last_interrupt = time.monotonic()


def interrupted_recently() -> bool:
    return _last_interrupt is not None and time.monotonic() - _last_interrupt < RECENT_S


class LockWaitInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM came while waiting for the store's lock; nothing was written."""


class SignalWatch:
    """While entered (in the main thread), SIGINT and SIGTERM are noted in ``hit`` and passed
    on to the Python handler that was set, unless it would raise (``default_int_handler``):
    the waiter raises at a point of its choosing instead, outside any SQLite call."""

    def __init__(self) -> None:
        self.hit: int | None = None
        self._previous: dict[int, Any] = {}
        self._started = time.monotonic()

    def __enter__(self) -> SignalWatch:
        self._started = time.monotonic()
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in WATCHED:
            previous = signal.getsignal(sig)
            if previous in (signal.SIG_IGN, signal.SIG_DFL, None):
                continue  # ignored stays ignored; the default ends the process anyway
            self._previous[sig] = previous
            signal.signal(sig, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.hit is None:
            self.hit = signum
        note_interrupt()
        previous = self._previous.get(signum)
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signum, frame)

    def check(self, what: str) -> None:
        """Raise ``LockWaitInterrupted`` if a signal came (or came just before the wait)."""
        if self.hit is not None:
            name = signal.Signals(self.hit).name
            raise LockWaitInterrupted(f"{name} while {what}; nothing was written")
        if interrupted_recently() and time.monotonic() - self._started >= GRACE_S:
            raise LockWaitInterrupted(f"interrupted; not {what}")
