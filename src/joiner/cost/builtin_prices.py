"""The built-in price table: USD per million tokens, standard (non-batch) tier.

Row: (input, output, cache read, cache write[, long prompt above N tokens, rates
of the whole request when the prompt is longer]). Rates are strings so they
become exact ``Decimal``s. Users override or add models with
``[pricing."PROVIDER/MODEL"]`` in config.toml; a model missing here has an
unknown cost (reported as null), never a guessed one.

Sources, read 2026-11-25 (stored copies, see the commit message):
- Anthropic: platform.claude.com/docs/en/about-claude/pricing ("Model pricing")
  and the per-model overview pages (models/opus-5-5, sonnet-5, haiku-5-5...).
  Cache write is the 5-minute rate (1.25x input; the provider reports one
  cache-creation count). Claude Sonnet 5.5 cache hits: $0.10 since 2026-10-07.
  Sonnet 4 / 4.5 with the 1M-context beta: prompts over 200K tokens bill at
  $6 / $22.50. Haiku 5.5: prompts over 100K tokens bill at $0.50 / $2.50.
- OpenAI: developers.openai.com/api/docs/pricing, as collected in
  simonw/llm-prices data/openai.json and OpenAI's priority-processing page.
  OpenAI does not bill cache writes (reported as 0), so the cache-write rate is
  the input rate. Long context: GPT-5.4 / 5.5 prompts over 272K tokens (taken
  as 272,000, the earlier of the two readings). Models without a cached-input
  price (the -pro models) bill cached tokens at the input rate.
"""

from __future__ import annotations

from typing import TypeAlias

Rates: TypeAlias = tuple[str, str, str, str]
PriceRow: TypeAlias = Rates | tuple[str, str, str, str, int, Rates]

_SONNET_4: PriceRow = ("3", "15", "0.30", "3.75", 200_000, ("6", "22.50", "0.60", "7.50"))
_OPUS_45: PriceRow = ("5", "25", "0.50", "6.25")
_OPUS_4: PriceRow = ("15", "75", "1.50", "18.75")

ANTHROPIC: dict[str, PriceRow] = {
    "claude-fable-5-1": ("10", "50", "0.25", "12.50"),
    "claude-fable-5": ("10", "50", "1", "12.50"),
    "claude-mythos-5-1": ("10", "50", "0.25", "12.50"),
    "claude-mythos-5": ("10", "50", "1", "12.50"),
    "claude-opus-5-5": ("4", "20", "0.20", "5"),
    "claude-opus-5": _OPUS_45,
    "claude-opus-4-8": _OPUS_45,
    "claude-opus-4-7": _OPUS_45,
    "claude-opus-4-6": _OPUS_45,
    "claude-opus-4-5": _OPUS_45,
    "claude-opus-4-1": _OPUS_4,
    "claude-opus-4-0": _OPUS_4,
    "claude-opus-4": _OPUS_4,
    "claude-3-opus": _OPUS_4,
    "claude-sonnet-5-5": ("2", "10", "0.10", "2.50"),
    "claude-sonnet-5": ("2", "10", "0.20", "2.50"),
    "claude-sonnet-4-6": ("3", "15", "0.30", "3.75"),
    "claude-sonnet-4-5": _SONNET_4,
    "claude-sonnet-4-0": _SONNET_4,
    "claude-sonnet-4": _SONNET_4,
    "claude-3-7-sonnet": ("3", "15", "0.30", "3.75"),
    "claude-3-5-sonnet": ("3", "15", "0.30", "3.75"),
    "claude-haiku-5-5": ("0.10", "0.50", "0.01", "0.125",
                         100_000, ("0.50", "2.50", "0.05", "0.625")),
    "claude-haiku-4-5": ("1", "5", "0.10", "1.25"),
    "claude-3-5-haiku": ("0.80", "4", "0.08", "1"),
    "claude-3-haiku": ("0.25", "1.25", "0.03", "0.30"),
}

OPENAI: dict[str, PriceRow] = {
    "gpt-5.5": ("5", "30", "0.50", "5", 272_000, ("10", "45", "1", "10")),
    "gpt-5.5-pro": ("30", "180", "30", "30", 272_000, ("60", "270", "60", "60")),
    "gpt-5.4": ("2.50", "15", "0.25", "2.50", 272_000, ("5", "22.50", "0.50", "5")),
    "gpt-5.4-pro": ("30", "180", "30", "30", 272_000, ("60", "270", "60", "60")),
    "gpt-5.4-mini": ("0.75", "4.50", "0.075", "0.75"),
    "gpt-5.4-nano": ("0.20", "1.25", "0.02", "0.20"),
    "gpt-5.2": ("1.75", "14", "0.175", "1.75"),
    "gpt-5.2-pro": ("21", "168", "21", "21"),
    "gpt-5.1": ("1.25", "10", "0.125", "1.25"),
    "gpt-5.1-codex": ("1.25", "10", "0.125", "1.25"),
    "gpt-5.1-codex-mini": ("0.25", "2", "0.025", "0.25"),
    "gpt-5": ("1.25", "10", "0.125", "1.25"),
    "gpt-5-codex": ("1.25", "10", "0.125", "1.25"),
    "gpt-5-mini": ("0.25", "2", "0.025", "0.25"),
    "gpt-5-nano": ("0.05", "0.40", "0.005", "0.05"),
    "gpt-5-pro": ("15", "120", "15", "15"),
    "gpt-4.1": ("2", "8", "0.50", "2"),
    "gpt-4.1-mini": ("0.40", "1.60", "0.10", "0.40"),
    "gpt-4.1-nano": ("0.10", "0.40", "0.025", "0.10"),
    "gpt-4o": ("2.50", "10", "1.25", "2.50"),
    "gpt-4o-mini": ("0.15", "0.60", "0.075", "0.15"),
    "o3": ("2", "8", "0.50", "2"),
    "o3-pro": ("20", "80", "20", "20"),
    "o3-mini": ("1.10", "4.40", "0.55", "1.10"),
    "o4-mini": ("1.10", "4.40", "0.275", "1.10"),
    "o1": ("15", "60", "7.50", "15"),
}

BUILTIN_PRICES: dict[str, PriceRow] = {
    **{f"anthropic/{m}": row for m, row in ANTHROPIC.items()},
    **{f"openai/{m}": row for m, row in OPENAI.items()},
}
