"""list_files and grep in a large repository against a tiny one (issue #11, part 4).

Builds, in a temporary directory, a repository of 30,000 files plus 20,000 files in an ignored
``node_modules``, and a 3-file repository; times the tools there (median of several calls) and
prints the ratios, and the ratio of the tool to a bare ``rg`` process doing the same search
(the tool's own overhead). Checks that nothing ignored is ever in the results.

    .venv/bin/python benchmarks/bench_search_tools.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from joiner.tools import builtin_tools
from joiner.tools.ripgrep import rg_binary
from joiner.workspace.guard import Workspace

RUNS = 7


def build_large(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("node_modules/\n")
    body = "".join(f"def function_{i}(x):\n    return x + {i}\n\n" for i in range(20))
    for d in range(300):
        folder = root / "src" / f"pkg{d:03}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"mod{f:03}.py").write_text(body)
    (root / "src" / "pkg150" / "mod050.py").write_text(body + "NEEDLE_MARK = 1\n")
    for d in range(200):
        folder = root / "node_modules" / f"lib{d:03}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"index{f:03}.py").write_text("NEEDLE_MARK = 'ignored'\n")


def build_small(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / "a.py").write_text("def a():\n    return 1\n")
    (root / "b.py").write_text("NEEDLE_MARK = 1\n")
    (root / "README.md").write_text("# small\n")


async def timed(tool, args: dict) -> tuple[float, str]:
    times, text = [], ""
    for _ in range(RUNS):
        started = time.perf_counter()
        text = (await tool.run(args)).text
        times.append(time.perf_counter() - started)
    return statistics.median(times), text


def bare_rg(root: Path, args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([rg_binary(), "--no-config", *args], cwd=root, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        large, small = Path(tmp) / "large", Path(tmp) / "small"
        started = time.perf_counter()
        build_large(large)
        build_small(small)
        print(f"built 30,000 + 20,000 ignored files in {time.perf_counter() - started:.1f}s")
        tools_large = {t.spec.name: t for t in builtin_tools(Workspace(large))}
        tools_small = {t.spec.name: t for t in builtin_tools(Workspace(small))}
        cases = [
            ("list_files *.py", "list_files", {"pattern": "*.py"}, ["--files", "-g", "*.py"]),
            ("list_files mod050", "list_files", {"pattern": "**/mod050.py"},
             ["--files", "-g", "**/mod050.py"]),
            ("grep NEEDLE_MARK", "grep", {"pattern": "NEEDLE_MARK"}, ["-n", "NEEDLE_MARK"]),
            ("grep def function_7", "grep", {"pattern": "def function_7\\("},
             ["-n", "def function_7\\("]),
        ]
        for label, name, args, rg_args in cases:
            t_large, text = await timed(tools_large[name], args)
            t_small, _ = await timed(tools_small[name], args)
            t_bare = bare_rg(large, rg_args)
            assert "node_modules" not in text, label
            print(f"{label:22} large {t_large * 1000:7.1f} ms  small {t_small * 1000:6.1f} ms  "
                  f"large/small {t_large / t_small:5.1f}x  tool/bare rg {t_large / t_bare:4.2f}x")
        found = (await tools_large["grep"].run({"pattern": "NEEDLE_MARK"})).text
        print("grep NEEDLE_MARK answer:", found.splitlines())


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
