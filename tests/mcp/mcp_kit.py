"""Helpers the MCP tests import: the echo server's path, a server table, a warnings sink.
(Not in conftest.py: ``from conftest import`` finds whichever conftest comes first on the
path when several test folders run together.)"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ECHO_SERVER = Path(__file__).parent / "servers" / "echo_server.py"


def echo_table(*flags: str, **extra: Any) -> dict[str, Any]:
    """A ``[mcp_servers.NAME]`` table that starts the echo server with ``flags``."""
    return {"command": sys.executable, "args": [str(ECHO_SERVER), *flags], **extra}


class Warnings(list[str]):
    """A ``warn`` callback that keeps the lines."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def about(self, server: str) -> list[str]:
        return [line for line in self if f"'{server}'" in line]
