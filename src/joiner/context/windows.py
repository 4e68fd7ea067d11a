"""Context windows: the built-in table, the config override, the local model's own.

The one place that knows how many tokens a model takes. ``resolve_window`` answers, in order:
``[models."PROVIDER/MODEL"] context_window`` in config, the provider's own ``context_window``
(the local model reads it from its file), the built-in table below. The runtime hands the
answer to the fitter and to the cost meter (its ``context_used_pct``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Used by the fitter when nothing is known (an OpenAI-compatible server with a model of its
# own): the smallest window of current hosted models. Set the real one in config.
DEFAULT_WINDOW = 128_000


@dataclass(frozen=True, slots=True)
class Window:
    """``tokens``: what one request may hold, prompt and answer together. ``max_input``: a
    lower cap on the prompt alone, where the vendor has one (GPT-5: 400K window, 272K in)."""

    tokens: int
    max_input: int | None = None
    source: str = "table"  # table | config | provider | default

    def input_limit(self, answer_room: int) -> int:
        limit = self.tokens - answer_room
        return limit if self.max_input is None else min(limit, self.max_input)


# Model-name prefixes, longest match wins ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini").
OPENAI: dict[str, Window] = {
    "gpt-5": Window(400_000, 272_000),
    "gpt-5-chat": Window(128_000),
    "gpt-4.1": Window(1_047_576),
    "gpt-4.5": Window(128_000),
    "gpt-4o": Window(128_000),
    "chatgpt-4o": Window(128_000),
    "gpt-4-turbo": Window(128_000),
    "gpt-4-0125": Window(128_000),
    "gpt-4-1106": Window(128_000),
    "gpt-4": Window(8_192),
    "gpt-3.5-turbo": Window(16_385),
    "o1": Window(200_000),
    "o1-mini": Window(128_000),
    "o1-preview": Window(128_000),
    "o3": Window(200_000),
    "o3-mini": Window(200_000),
    "o4-mini": Window(200_000),
    "codex-mini": Window(200_000),
    "gpt-oss": Window(131_072),
}
ANTHROPIC: dict[str, Window] = {
    "claude-opus-4": Window(200_000),
    "claude-sonnet-4": Window(200_000),
    "claude-haiku-4": Window(200_000),
    "claude-3-7-sonnet": Window(200_000),
    "claude-3-5-sonnet": Window(200_000),
    "claude-3-5-haiku": Window(200_000),
    "claude-3-opus": Window(200_000),
    "claude-3-sonnet": Window(200_000),
    "claude-3-haiku": Window(200_000),
    "claude-2": Window(100_000),
}
TABLES = {"openai": OPENAI, "anthropic": ANTHROPIC}


class WindowConfigError(ValueError):
    """``[models."…"] context_window`` is not a usable number; the message says which."""


def builtin_window(spec: str) -> Window | None:
    """The table's window for ``PROVIDER/MODEL``, by the longest matching model-name prefix.

    The provider's own table is searched first, then the others by the model's name alone, so
    ``openai/claude-sonnet-4-5`` through an OpenAI-compatible proxy still matches.
    """
    provider, _, model = spec.partition("/")
    model = model.rsplit("/", 1)[-1].lower()  # a router's "vendor/gpt-4.1": "gpt-4.1"
    own = TABLES.get(provider)
    for table in ([own] if own else []) + [t for t in TABLES.values() if t is not own]:
        best: tuple[int, Window] | None = None
        for prefix, window in table.items():
            if (model == prefix or model.startswith((prefix + "-", prefix + ".",
                                                     prefix + ":"))) \
                    and (best is None or len(prefix) > best[0]):
                best = (len(prefix), window)
        if best is not None:
            return best[1]
    return None


def configured_window(config: dict[str, Any], spec: str) -> int | None:
    """``[models."SPEC"] context_window`` from config, checked; None if unset."""
    models = config.get("models") or {}
    section = models.get(spec) if isinstance(models, dict) else None
    if not isinstance(section, dict) or "context_window" not in section:
        return None
    value = section["context_window"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
        raise WindowConfigError(
            f'[models."{spec}"] context_window in config must be a whole number of tokens of '
            f"at least 1024, not {value!r}")
    return value


def resolve_window(spec: str, config: dict[str, Any] | None = None,
                   provider: Any = None) -> Window | None:
    """The window of model ``spec``: config, then the provider's own, then the table.

    None when nothing is known (the caller may fall back to ``DEFAULT_WINDOW``). Raises
    ``WindowConfigError`` for a bad config value.
    """
    if (configured := configured_window(config or {}, spec)) is not None:
        table = builtin_window(spec)
        max_input = table.max_input if table and table.max_input else None
        return Window(configured, min(max_input, configured) if max_input else None, "config")
    own = getattr(provider, "context_window", None) if provider is not None else None
    if isinstance(own, int) and not isinstance(own, bool) and own > 0:
        return Window(own, None, "provider")
    return builtin_window(spec)
