"""Start-up: ``joiner --version`` and ``--help`` against a bare ``python -c pass`` (limit 6x)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_joiner, report, time_command

compile_joiner()

joiner = shutil.which("joiner", path=str(Path(sys.executable).parent)) or "joiner"
base = time_command([sys.executable, "-c", "pass"], runs=21)
report("python -c pass (baseline)", base, base)
report("joiner --version", time_command([joiner, "--version"], runs=21), base, 6.0)
report("joiner --help", time_command([joiner, "--help"], runs=11), base)
report("python -c 'import httpx'", time_command([sys.executable, "-c", "import httpx"]), base)
