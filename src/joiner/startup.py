"""Start-up without the garbage collector's passes.

Importing the modules a run needs makes ~100,000 objects that live as long as the process,
and the collector, counting them as new, walks them again and again on the way: about 15% of
a whole ``joiner -p`` run's CPU (``benchmarks/bench_streaming.py``). So the command line
holds the collector from its first line until set-up is done, then freezes what exists (left
out of all later passes, as ``gc.freeze`` is meant for) and lets it run again. Each face
releases it when its own set-up is over: the headless run before its first request, the TUI
after its first frame, a subcommand as it starts.
"""

from __future__ import annotations

import gc


def hold_collector() -> None:
    gc.disable()


def release_collector() -> None:
    """Set-up is done: freeze what it made and collect again from here (once; later calls
    do nothing)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
