"""MCP start-up: servers start in parallel, so N servers should cost about what one costs.

Baseline: start, list and stop one echo server (tests/mcp/servers/echo_server.py) in a warm
process. Then four at once, and the four one after the other for comparison. Also the cost of a
run with no MCP server configured (nothing may be imported or started).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import report
from joiner.mcp import McpServers, parse_server

ECHO = Path(__file__).parents[1] / "tests" / "mcp" / "servers" / "echo_server.py"
LOGS = Path(tempfile.mkdtemp(prefix="joiner-bench-mcp-"))


def config(name: str):  # type: ignore[no-untyped-def]
    return parse_server(name, {"command": sys.executable, "args": [str(ECHO)]})


async def start_stop(names: list[str]) -> None:
    async with McpServers([config(n) for n in names], Path.cwd(), print, LOGS) as servers:
        assert len({t.server for t in servers.tools}) == len(names), "a server did not start"


async def one_after_another(names: list[str]) -> None:
    for name in names:
        await start_stop([name])


def median(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        asyncio.run(fn())
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


asyncio.run(start_stop(["warmup"]))  # imports the SDK once
four = ["a", "b", "c", "d"]
base = median(lambda: start_stop(["one"]))
report("1 server: start, list tools, stop (baseline)", base, base)
report("4 servers in parallel", median(lambda: start_stop(four)), base, 2.5)
report("4 servers one after another (for comparison)", median(lambda: one_after_another(four)),
       base)
report("no server configured", median(lambda: start_stop([])), base, 0.05)
