"""Shared pytest fixtures. Each room keeps its fixtures in its own marked block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

# --- providers room: the loopback model server ------------------------------------------


@pytest.fixture
def loopback() -> Iterator[Callable[..., Any]]:
    """``server = loopback(steps, **options)``: a started ``LoopbackServer`` (stopped after
    the test). ``server.openai_base_url`` / ``server.base_url``; ``server.requests``."""
    from joiner.testing.loopback import LoopbackServer

    servers: list[LoopbackServer] = []

    def start(script: list[Any], **options: Any) -> LoopbackServer:
        server = LoopbackServer(script, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- end of providers room ---------------------------------------------------------------
