"""Large strings of event payloads, stored once by content hash.

Before an event is written, every string longer than ``THRESHOLD`` characters
anywhere in its payload (tool output, file contents, diffs…) is replaced by a
reference ``{"$joiner_blob": "<sha256>"}`` and its text goes to the ``blobs``
table once, whatever the number of events that carry it. Reading an event puts
the text back, so callers never see references.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

THRESHOLD = 2048  # characters
REF_KEY = "$joiner_blob"
ESCAPE_KEY = "$joiner_escaped"  # wraps a payload's own dict that would look like a reference
MARK = "$joiner_"  # in a stored payload's text when it may hold either


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def externalize(value: Any, found: dict[str, str], threshold: int = THRESHOLD) -> Any:
    """``value`` with long strings replaced by references; ``found`` collects sha → text."""
    if isinstance(value, str):
        if len(value) > threshold:
            sha = digest(value)
            found[sha] = value
            return {REF_KEY: sha}
        return value
    if isinstance(value, Mapping):
        out = {k: externalize(v, found, threshold) for k, v in value.items()}
        return {ESCAPE_KEY: out} if _reserved(value) else out
    if isinstance(value, list | tuple):
        return [externalize(v, found, threshold) for v in value]
    return value


def _reserved(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and (REF_KEY in value or ESCAPE_KEY in value)


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(REF_KEY), str):
        return value[REF_KEY]
    return None


def _escaped(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(ESCAPE_KEY), dict):
        return value[ESCAPE_KEY]
    return None


def references(value: Any, out: set[str]) -> set[str]:
    """The blob hashes ``value`` refers to, added to ``out``."""
    if (sha := _ref(value)) is not None:
        out.add(sha)
    elif (inner := _escaped(value)) is not None:
        for v in inner.values():
            references(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            references(v, out)
    elif isinstance(value, list):
        for v in value:
            references(v, out)
    return out


def resolve(value: Any, lookup: Callable[[str], str]) -> Any:
    """``value`` with every reference replaced by its text."""
    if (sha := _ref(value)) is not None:
        return lookup(sha)
    if (inner := _escaped(value)) is not None:
        return {k: resolve(v, lookup) for k, v in inner.items()}
    if isinstance(value, dict):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    return value
