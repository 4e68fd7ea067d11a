"""Shared helpers for benchmarks: time commands and report ratios measured in the same run."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def time_command(argv: Sequence[str], runs: int = 15, **kwargs: object) -> float:
    """Median wall time of running ``argv`` to completion, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_call(fn: Callable[[], object], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(name: str, value: float, baseline: float, limit: float | None = None) -> None:
    ratio = value / baseline if baseline else float("inf")
    verdict = "" if limit is None else ("  OK" if ratio <= limit else f"  OVER {limit}x")
    print(f"{name:<48} {value * 1000:9.1f} ms  {ratio:6.2f}x{verdict}")


def compile_joiner() -> None:
    """Byte-compile the joiner package, as ``pip install`` does for an installed package.

    The checkout is an editable install, and a machine with ``PYTHONDONTWRITEBYTECODE=1``
    (these do) would otherwise recompile every joiner module on every start (about 100 ms),
    which no installed user pays. The baselines' libraries are compiled already.
    """
    import compileall
    from pathlib import Path

    import joiner

    compileall.compile_dir(str(Path(joiner.__file__).parent), quiet=1)
