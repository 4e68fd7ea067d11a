"""A whole headless run in a 50,000-file repository against the same run in a 3-file one
(issue #11, performance).

Builds, in a temporary directory, a git repository of 30,000 files plus 20,000 files in an
ignored ``node_modules`` (every one of them containing the needle), and a 3-file repository.
In each, ``joiner -p`` runs against the loopback server with a scripted model that calls
``list_files``, ``grep`` for the needle and ``list_files`` with a glob, then answers: start-up,
the repository overview for the system prompt, the three tool calls and four requests, all
timed together as a user would see them. Runs alternate between the two repositories and the
medians are compared (limit: 3x). The requests the server recorded are checked: the needle's
file is found, nothing from ``node_modules`` is ever in a tool result or the overview.

    .venv/bin/python benchmarks/bench_large_repo.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from joiner.testing.loopback import LoopbackServer

NEEDLE = "NEEDLE_MARK_4711"
SCRIPT = [
    {"tool_calls": [{"name": "list_files", "arguments": {}}]},
    {"tool_calls": [{"name": "grep", "arguments": {"pattern": NEEDLE}}]},
    {"tool_calls": [{"name": "list_files", "arguments": {"pattern": "mod050.py"}}]},
    {"text": "Found it in src/pkg150/mod050.py."},
]


def build_large(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("node_modules/\n")
    body = "".join(f"def function_{i}(x):\n    return x + {i}\n\n" for i in range(10))
    for d in range(300):
        folder = root / "src" / f"pkg{d:03}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"mod{f:03}.py").write_text(body)
    (root / "src" / "pkg150" / "mod050.py").write_text(body + f"{NEEDLE} = 1\n")
    for d in range(200):
        folder = root / "node_modules" / f"lib{d:03}"
        folder.mkdir(parents=True)
        for f in range(100):
            (folder / f"index{f:03}.js").write_text(f"const {NEEDLE} = 'ignored';\n")


def build_small(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / "src" / "pkg150").mkdir(parents=True)
    (root / "a.py").write_text("def a():\n    return 1\n")
    (root / "src" / "pkg150" / "mod050.py").write_text(f"{NEEDLE} = 1\n")
    (root / "README.md").write_text("# small\n")


def run_once(workspace: Path, home: Path) -> tuple[float, list[dict]]:
    """One ``joiner -p`` run: (wall seconds, the request bodies the server recorded)."""
    with LoopbackServer(SCRIPT) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
        env |= {"JOINER_HOME": str(home), "OPENAI_API_KEY": "sk-loopback",
                "OPENAI_BASE_URL": server.openai_base_url}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "joiner", "-p", "Where is the needle?",
                               "--model", "openai/gpt-4.1", "--output-format", "json"],
                              cwd=workspace, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the run failed in {workspace}: {done.stderr}")
    return elapsed, [r.body for r in server.requests]


def check(bodies: list[dict], large: bool) -> list[str]:
    """The tool results and the system prompt the model got: needle found, nothing ignored."""
    last = bodies[-1]["messages"]
    results = [m["content"] for m in last if m["role"] == "tool"]
    system = last[0]["content"]
    assert len(results) == 3, results
    assert "src/pkg150/mod050.py" in results[1], results[1][:500]
    assert "src/pkg150/mod050.py" in results[2]
    for text in [*results, system]:
        assert "node_modules" not in text, "an ignored file reached the model"
    if large:
        assert "30,000 files" in system, system
        assert "more" in results[0]  # 30,000 paths: capped, with a note to narrow it
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        large, small, home = Path(tmp, "large"), Path(tmp, "small"), Path(tmp, "home")
        home.mkdir()
        start = time.perf_counter()
        build_large(large)
        build_small(small)
        print(f"built 30,000 + 20,000 ignored files in {time.perf_counter() - start:.1f} s")
        run_once(small, home)  # warm the disk cache and Python's bytecode
        run_once(large, home)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(runs):
            for name, root in (("small", small), ("large", large)):
                elapsed, bodies = run_once(root, home)
                check(bodies, name == "large")
                times[name].append(elapsed)
        _, bodies = run_once(large, home)
        results = check(bodies, True)
    small_s, large_s = statistics.median(times["small"]), statistics.median(times["large"])
    ratio = large_s / small_s
    print(f"headless run, 3-file repository    {small_s * 1000:8.0f} ms (median of {runs})")
    print(f"headless run, 50,000-file repo      {large_s * 1000:8.0f} ms (median of {runs})")
    print(f"ratio                               {ratio:8.2f}x  "
          f"{'OK' if ratio <= 3 else 'OVER'} (limit 3x)")
    print("needle found: " + results[1].splitlines()[0])
    print("list_files answer ends: " + results[0].splitlines()[-1])
    print("node_modules in any tool result or the system prompt: never")
    print("system prompt overview: " + json.dumps(
        bodies[-1]["messages"][0]["content"].split("Repository overview", 1)[1][:300]))


if __name__ == "__main__":
    main()
