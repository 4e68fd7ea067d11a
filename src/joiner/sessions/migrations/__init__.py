"""Numbered, append-only schema migrations: ``m001_initial.py``, ``m002_….py``, …

Each module has ``VERSION`` (its number) and ``STATEMENTS`` (portable SQL run in
order inside one write transaction, together with a ``schema_version`` row).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def all_migrations() -> list[Migration]:
    """Every migration of this package, by version; checks the numbering has no gap."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("m") or not info.name[1:4].isdigit():
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(module.VERSION, info.name, tuple(module.STATEMENTS)))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected or int(migration.name[1:4]) != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence")
    return found


def latest_version() -> int:
    return len(all_migrations())
