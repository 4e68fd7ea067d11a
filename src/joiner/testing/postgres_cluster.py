"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` + ``pg_ctl``.

``with PostgresCluster() as pg: url = pg.create_database("t1")``. The cluster lives
in a temporary directory, listens on 127.0.0.1 on a free port (and a socket in its
directory) with trust authentication, and is removed on exit. ``initdb`` refuses to
run as root, so as root the server runs as the ``postgres`` user (Debian's package
creates it) or ``nobody``. ``durable=False`` (tests) turns fsync off for speed;
benchmarks keep PostgreSQL's defaults.

The binaries are found with ``pg_config --bindir``, in ``/usr/lib/postgresql/*/bin``
or on ``PATH``; ``find_bindir()`` is None when PostgreSQL is not installed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_TIMEOUT_S = 60


def find_bindir() -> Path | None:
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                              check=False)
        if done.returncode == 0:
            candidates.append(Path(done.stdout.strip()))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                    key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    candidates += reversed(debian)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb") or "").resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """The unprivileged user to run the server as (None: the current user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and there is no 'postgres' or 'nobody' user to run "
                       "PostgreSQL as")


class PostgresCluster:
    def __init__(self, durable: bool = False, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = found
        self.durable = durable
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="joiner-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.superuser = "joiner_test"
        self._started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True,
                              text=True, check=False, user=self.user, cwd=self.root,
                              timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()}\n{tail}")
        return done

    def start(self) -> PostgresCluster:
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8" if _has_c_utf8() else "--no-locale")
        options = [f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1",
                   "-c max_connections=200", "-c shared_buffers=64MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", str(START_TIMEOUT_S), "-o", " ".join(options), "start")
        self._started = True
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, check=False, user=self.user,
                           cwd=self.root, timeout=START_TIMEOUT_S)
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _has_c_utf8() -> bool:
    done = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False) \
        if shutil.which("locale") else None
    return bool(done and any(x.lower() in ("c.utf8", "c.utf-8") for x in done.stdout.split()))
