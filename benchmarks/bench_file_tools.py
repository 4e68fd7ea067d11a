"""The file tools on large files: diffs must not blow up (issue #3 part 4, issue #6's undo).

Prints, measured in this run:
- make_diff against difflib.unified_diff for a one-line change and for a full rewrite;
- edit_file and write_file on a 50,000-line file against the same call on a 50-line file;
- write_file against a bare atomic write (open + write + os.replace) of the same content.

    .venv/bin/python benchmarks/bench_file_tools.py
"""

from __future__ import annotations

import asyncio
import difflib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from joiner.tools import builtin_tools, make_diff
from joiner.workspace.guard import Workspace


def median_time(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def lines(n: int, tag: str = "line") -> str:
    return "".join(f"    {tag} number {i} = compute({i})\n" for i in range(n))


def bench_diffs() -> None:
    for n in (5_000, 20_000):
        before = lines(n)
        one = before.replace(f"number {n // 2} =", f"number {n // 2} ==")
        rewrite = lines(n, "other")
        for label, after in (("one-line change", one), ("full rewrite", rewrite)):
            ours = median_time(lambda a=after, b=before: make_diff("f.py", b, a))
            a_lines, b_lines = before.splitlines(True), after.splitlines(True)
            theirs = median_time(lambda a=a_lines, b=b_lines: list(difflib.unified_diff(a, b)), 3)
            print(f"make_diff {n:6} lines, {label:15}: {ours * 1000:8.2f} ms   difflib "
                  f"{theirs * 1000:8.2f} ms   ratio {ours / theirs:6.3f}")


def bench_tools(root: Path) -> None:
    tools = {t.spec.name: t for t in builtin_tools(Workspace(root), {"read_max_lines": 100})}
    results = {}
    for n in (50, 50_000):
        path = root / f"f{n}.py"
        text = lines(n)
        path.write_text(text)

        async def edit(path: Path = path, n: int = n) -> None:
            await tools["edit_file"].run({"path": path.name,
                                          "old_string": f"number {n // 2} = ",
                                          "new_string": f"number {n // 2} == "})
            await tools["edit_file"].run({"path": path.name,
                                          "old_string": f"number {n // 2} == ",
                                          "new_string": f"number {n // 2} = "})

        async def write(path: Path = path, text: str = text) -> None:
            await tools["write_file"].run({"path": path.name, "content": text + "# end\n"})
            await tools["write_file"].run({"path": path.name, "content": text})

        results[("edit", n)] = median_time(lambda e=edit: asyncio.run(e()))
        results[("write", n)] = median_time(lambda w=write: asyncio.run(w()))

        def bare(path: Path = path, text: str = text) -> None:
            for content in (text + "# end\n", text):
                temp = path.with_suffix(".tmp")
                temp.write_text(content)
                os.replace(temp, path)

        results[("bare", n)] = median_time(bare)
    for kind in ("edit", "write"):
        ratio = results[(kind, 50_000)] / results[(kind, 50)]
        print(f"{kind}_file x2: 50 lines {results[(kind, 50)] * 1000:7.2f} ms, 50,000 lines "
              f"{results[(kind, 50_000)] * 1000:7.2f} ms, ratio {ratio:5.1f}x")
    print(f"write_file x2 / bare atomic write x2, 50,000 lines: "
          f"{results[('write', 50_000)] / results[('bare', 50_000)]:.1f}x "
          f"(the tool also reads the old file and builds the diff)")


if __name__ == "__main__":
    bench_diffs()
    with tempfile.TemporaryDirectory() as tmp:
        bench_tools(Path(tmp))
