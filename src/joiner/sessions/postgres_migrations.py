"""The schema migrations as PostgreSQL runs them.

Each numbered migration of ``joiner.sessions.migrations`` is used as written unless
its module has ``POSTGRES_STATEMENTS`` (SQL that is SQLite's own) or it is listed in
``OVERRIDES`` here (migrations written before the PostgreSQL backend existed).

Migration 2 (the usage numbers as indexed generated columns, for ``joiner usage``):
SQLite's virtual columns over ``json_extract`` become stored columns over ``jsonb``,
through one immutable function that yields a number only where the payload has one
(a malformed payload gives NULL, as ``json_extract`` would, never a failed insert).
"""

from __future__ import annotations

import importlib

from joiner.sessions.migrations import all_migrations

_NUMBER_FUNCTION = """
CREATE FUNCTION joiner_json_number(payload TEXT, key TEXT) RETURNS NUMERIC
LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(payload::jsonb -> key) = 'number'
                THEN (payload::jsonb ->> key)::numeric END
$$"""

_TEXT_FUNCTION = """
CREATE FUNCTION joiner_json_text(payload TEXT, key TEXT) RETURNS TEXT
LANGUAGE SQL IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(payload::jsonb -> key) = 'string'
                THEN payload::jsonb ->> key END
$$"""

_USAGE_COLUMNS = {  # column: (type, function, payload key)
    "usage_model": ("TEXT", "joiner_json_text", "model"),
    "usage_input_tokens": ("NUMERIC", "joiner_json_number", "input_tokens"),
    "usage_output_tokens": ("NUMERIC", "joiner_json_number", "output_tokens"),
    "usage_cache_read_tokens": ("NUMERIC", "joiner_json_number", "cache_read_tokens"),
    "usage_cache_write_tokens": ("NUMERIC", "joiner_json_number", "cache_write_tokens"),
    "usage_cost_picodollars": ("NUMERIC", "joiner_json_number", "cost_picodollars"),
    "usage_cost_usd": ("DOUBLE PRECISION", "joiner_json_number", "cost_usd"),
}

_NUMBERS = [c for c in _USAGE_COLUMNS if c != "usage_model"]

OVERRIDES: dict[int, list[str]] = {
    2: [
        _NUMBER_FUNCTION,
        _TEXT_FUNCTION,
        *(f"ALTER TABLE events ADD COLUMN {column} {kind} GENERATED ALWAYS AS "
          f"(CASE WHEN type = 'usage' THEN CAST({function}(payload, '{key}') AS {kind}) END) "
          "STORED"
          for column, (kind, function, key) in _USAGE_COLUMNS.items()),
        # the quarter-hour of the request (floor: a cast to an integer rounds in PostgreSQL)
        "ALTER TABLE events ADD COLUMN usage_quarter BIGINT GENERATED ALWAYS AS "
        "(CASE WHEN type = 'usage' THEN CAST(floor(time / 900) AS BIGINT) END) STORED",
        "CREATE INDEX events_usage ON events (type, session_id, usage_model, usage_quarter, "
        f"time, seq, {', '.join(_NUMBERS)}) WHERE type = 'usage'",
    ],
}


def postgres_migrations() -> list[tuple[int, list[str]]]:
    """(version, statements) of every migration, in order, as PostgreSQL runs them."""
    out = []
    for migration in all_migrations():
        module = importlib.import_module(f"joiner.sessions.migrations.{migration.name}")
        statements = getattr(module, "POSTGRES_STATEMENTS", None)
        if statements is None:
            statements = OVERRIDES.get(migration.version, list(migration.statements))
        out.append((migration.version, list(statements)))
    return out
