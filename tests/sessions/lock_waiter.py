"""A process that writes one event while another holds the store's lock, for the lock tests.

``python lock_waiter.py DB SID plain``: a plain ``append`` (Python's own SIGINT handler).
``python lock_waiter.py DB SID asyncio``: the append inside an asyncio task whose SIGINT and
SIGTERM cancel it through ``loop.add_signal_handler``, as ``joiner -p`` does.
Prints ``waiting`` just before the write, then ``written`` or ``cancelled``; a signal that
ends the wait leaves as an uncaught ``LockWaitInterrupted`` (a ``KeyboardInterrupt``).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from joiner.core.events import Event
from joiner.sessions import open_store


def main(db: str, sid: str, mode: str) -> None:
    store = open_store(Path(db))
    event = Event("warning", {"message": "written while another process held the lock"})
    if mode == "plain":
        print("waiting", flush=True)
        store.append(sid, event)
        print("written", flush=True)
        return

    async def write() -> None:
        await asyncio.sleep(0)
        print("waiting", flush=True)
        store.append(sid, event)  # synchronous, as StoreSink.emit: the loop is blocked
        print("written", flush=True)

    async def run() -> None:
        task = asyncio.ensure_future(write())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            print("cancelled", flush=True)

    asyncio.run(run())


if __name__ == "__main__":
    main(*sys.argv[1:])
