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


# --- batch room: the real engines (PostgreSQL, Ray) ----------------------------------------


def engine_missing(what: str) -> None:
    """Skip a test whose engine is not installed, except in CI (``CI`` set): there it fails,
    so the PostgreSQL and Ray tests are never skipped silently."""
    import os

    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must run these tests (.ci/run installs it)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """One throwaway PostgreSQL server for the whole test run (``PostgresCluster``)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        engine_missing("psycopg is not installed (pip install 'joiner[postgres]')")
    from joiner.testing.postgres_cluster import PostgresCluster, find_bindir

    if find_bindir() is None:
        engine_missing("PostgreSQL is not installed (apt-get install postgresql)")
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: Any) -> str:
    """The URL of a new, empty database on the test server."""
    import uuid

    return str(postgres_cluster.create_database(f"t_{uuid.uuid4().hex[:16]}"))


# --- end of batch room -----------------------------------------------------------------------
