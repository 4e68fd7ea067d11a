"""Migration 1: sessions, their append-only event log, content-addressed blobs.

Plain SQL that both SQLite and PostgreSQL accept (TEXT, BIGINT, DOUBLE PRECISION).
Never edit a released migration: add ``m00N_….py`` instead.
"""

VERSION = 1

STATEMENTS = [
    """CREATE TABLE schema_version (
        version BIGINT PRIMARY KEY,
        applied_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        permission_mode TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        parent_id TEXT,
        host TEXT NOT NULL DEFAULT '',
        pid BIGINT,
        pid_start BIGINT,
        last_seq BIGINT NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX sessions_by_workspace ON sessions (workspace, updated_at)",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at)",
    """CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        time DOUBLE PRECISION NOT NULL,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
    "CREATE INDEX events_by_type ON events (type)",
    """CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        data TEXT NOT NULL
    )""",
    """CREATE TABLE blob_refs (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (session_id, sha256)
    )""",
    "CREATE INDEX blob_refs_by_sha ON blob_refs (sha256)",
]
