"""One-shot timers that always fire.

Textual's ``set_timer`` starts a task which, once running, skips a tick that is already
late (``Timer``'s ``skip``, right for intervals); a one-shot timer has only that one tick.
So if the process is held for longer than the delay between two lines of that task (a
loaded machine, another thread holding the interpreter lock, a garbage pass), the callback
is never called. With 1 ms timers this left about one 20,000-token answer in fifteen as
drafts for good on a loaded machine (the slices that turn it into Markdown stopped); a lost
0.4 s timer would leave the approval modal unable to take a key.

``call_after`` is ``set_timer`` without that: the event loop's own timer, and the callback
run on the widget's message queue as ``set_timer`` runs it. It also costs no task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.message_pump import MessagePump


class Pending:
    """A scheduled callback; ``stop`` cancels it (as ``Timer.stop``)."""

    __slots__ = ("_handle",)

    def __init__(self, handle: asyncio.TimerHandle) -> None:
        self._handle = handle

    def stop(self) -> None:
        self._handle.cancel()


def call_after(pump: MessagePump, delay: float, callback: Callable[..., Any],
               *args: Any) -> Pending:
    """Run ``callback(*args)`` on ``pump``'s message queue ``delay`` seconds from now (a pump
    closed by then runs nothing)."""
    loop = asyncio.get_running_loop()
    return Pending(loop.call_later(delay, pump.call_next, callback, *args))
