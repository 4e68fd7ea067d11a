"""Token estimates of text and requests, without a tokenizer.

``chars / 4`` underestimates code and numbered file listings (runs of spaces, digits and
punctuation are separate tokens) and overestimates plain English. This counts the pieces a
BPE tokenizer's pre-splitter makes (words, digit groups of up to three, punctuation runs,
whitespace runs) and charges long words by length. Measured against OpenAI's o200k and cl100k
tokenizers (``benchmarks/bench_context.py``) it lands at or a little above the true count on
code, prose, JSON and ``read_file`` output. The fitter also corrects it with the provider's
reported input tokens (``ContextManager``), so a tokenizer that counts more (Anthropic's) is
caught after the first request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from joiner.core.messages import Message, ModelRequest, ToolSpec

# Words (letters, with one leading non-letter such as a space), digit runs, punctuation runs,
# newlines and other whitespace: the classes a GPT-style pre-tokenizer splits on.
_PIECES = re.compile(r"(?:[^\S\n]|[^\w\s]|_)?[^\W\d_]+|\d{1,3}| ?(?:[^\w\s]|_)+\n*|\s*\n|[^\S\n]+")
_PUNCT_CHARS = 3
_WORD_CHARS = 6  # a word longer than this costs one more token per further WORD_CHARS
MESSAGE_OVERHEAD = 4  # role and separators of each message
CALL_OVERHEAD = 8  # id, type and name of each tool call
_CACHE_LIMIT = 20_000  # entries
_CACHE_CHARS = 40_000_000  # characters kept alive by the cache at most
_cache: dict[str, int] = {}
_cached_chars = 0


def estimate_text(text: str, *, remember: bool = True) -> int:
    """About how many tokens ``text`` is (cached: a long conversation is re-estimated often).

    ``remember=False`` for a text estimated once and then dropped (a compaction's transcript,
    the middle cut out of a result): the cache would keep it alive for nothing.
    """
    if not text:
        return 0
    cached = _cache.get(text)
    if cached is not None:
        return cached
    count = 0
    for piece in _PIECES.findall(text):
        last = piece[-1]
        if last.isalpha():
            per = _WORD_CHARS if piece.isascii() else 2  # other scripts: more tokens a word
            count += 1 + (len(piece) - 1) // per
        elif last.isspace() and not piece.strip():
            count += 1 + (len(piece) - 1) // 16
        elif last.isdigit():
            count += 1
        else:  # punctuation (and non-ASCII symbols): about three characters a token
            count += 1 + (len(piece) - 1) // _PUNCT_CHARS
    if not remember:
        return count
    global _cached_chars
    if len(_cache) >= _CACHE_LIMIT or _cached_chars + len(text) > _CACHE_CHARS:
        _cache.clear()
        _cached_chars = 0
    _cache[text] = count
    _cached_chars += len(text)
    return count


def estimate_message(message: Message) -> int:
    tokens = MESSAGE_OVERHEAD + estimate_text(message.text)
    for call in message.tool_calls:
        tokens += CALL_OVERHEAD + estimate_text(call.name) + estimate_text(call.arguments)
    return tokens


def estimate_messages(messages: Iterable[Message]) -> int:
    return sum(estimate_message(m) for m in messages)


def estimate_tools(tools: Iterable[ToolSpec]) -> int:
    return sum(estimate_text(t.name) + estimate_text(t.description)
               + estimate_text(json.dumps(t.parameters)) + 10 for t in tools)


def estimate_request(request: ModelRequest) -> int:
    """The whole request: system prompt, tool schemas and messages."""
    return (estimate_text(request.system) + estimate_tools(request.tools)
            + estimate_messages(request.messages) + 8)
