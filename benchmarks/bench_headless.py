"""A whole headless read-edit-answer run on the loopback server vs `python -c "import httpx"`.

Limit: 4x. Each sample runs ``joiner -p`` in a fresh copy of a 2-file repository, on both
wire formats, with the real store under a temporary ``JOINER_HOME``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_joiner, report, time_command
from joiner.testing.loopback import LoopbackServer

STEPS = [
    {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}],
     "usage": {"input_tokens": 420, "output_tokens": 25}},
    {"tool_calls": [{"name": "edit_file", "arguments": {
        "path": "calc.py", "old_string": "    return a + b\n",
        "new_string": "    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"}}],
     "usage": {"input_tokens": 520, "output_tokens": 60}},
    {"text": "Added mul(a, b) to calc.py.", "usage": {"input_tokens": 610, "output_tokens": 12}},
]


def one_run(joiner: str, model: str, env: dict[str, str], root: Path) -> float:
    repo = Path(tempfile.mkdtemp(dir=root))
    (repo / ".git").mkdir()
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    start = time.perf_counter()
    subprocess.run([joiner, "-p", "Add a mul function to calc.py", "--model", model,
                    "--permission-mode", "accept-edits", "--output-format", "json"],
                   cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    assert "def mul" in (repo / "calc.py").read_text()
    return elapsed


def main(runs: int = 9) -> None:
    compile_joiner()
    joiner = shutil.which("joiner", path=str(Path(sys.executable).parent)) or "joiner"
    root = Path(tempfile.mkdtemp(prefix="joiner-bench-"))
    try:
        with LoopbackServer(STEPS, repeat=True) as server:
            env = {**os.environ, "JOINER_HOME": str(root / "home"), "OPENAI_API_KEY": "x",
                   "ANTHROPIC_API_KEY": "x", "OPENAI_BASE_URL": server.openai_base_url,
                   "ANTHROPIC_BASE_URL": server.base_url}
            one_run(joiner, "openai/gpt-4.1", env, root)  # warm the store's creation
            base = time_command([sys.executable, "-c", "import httpx"], runs=runs)
            report("python -c 'import httpx' (baseline)", base, base)
            for model in ("openai/gpt-4.1", "anthropic/claude-sonnet-4-5"):
                samples = [one_run(joiner, model, env, root) for _ in range(runs)]
                report(f"joiner -p read-edit-answer ({model.split('/')[0]})",
                       statistics.median(samples), base, 4.0)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
