"""llama.cpp in-process through the ``xllamacpp`` wheel: one loaded model per process.

``xllamacpp.Server`` runs llama.cpp's own server loop on a native thread; its
``handle_completions`` blocks the calling thread and reports each generated piece to a
callback. ``LocalEngine.stream`` runs that call in a worker thread and hands the
pieces to the event loop through an ``asyncio.Queue``, so the loop never blocks.

The server also opens an HTTP listener on 127.0.0.1 (xllamacpp always does); it gets a
random API key that never leaves this process, so nothing else on the machine can use it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joiner.providers._local_model import REMOTE_HINT, available_memory, missing_cpu_features

log = logging.getLogger(__name__)

# Gemma 3 270M keeps full-context keys and values only in its 3 global-attention layers
# (1 KV head of 256, f16: 3 KB a token); the other 15 layers hold a 512-token window.
KV_BYTES_PER_TOKEN = 4_000
OVERHEAD_BYTES = 250 * 1024 * 1024  # compute buffers, tokenizer, the Python process
# With the defaults that is about 630 MB; the measured peak (bench_local.py) is 520-650 MB.


class EngineError(Exception):
    """The model cannot be loaded or run; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    path: Path
    n_ctx: int
    threads: int | None = None  # None: llama.cpp's default (the machine's cores)


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as err:
        raise EngineError(f"the embedded model cannot run here: llama.cpp (the xllamacpp "
                          f"package) is not available for this platform ({err}); "
                          f"{REMOTE_HINT}") from None
    return xllamacpp


def _check_machine(xllamacpp: Any, options: EngineOptions) -> None:
    missing = missing_cpu_features(str(xllamacpp.get_system_info()))
    if missing:
        raise EngineError(f"this CPU lacks {', '.join(missing)}, which the embedded llama.cpp "
                          f"build needs; {REMOTE_HINT}")
    needed = options.path.stat().st_size + options.n_ctx * KV_BYTES_PER_TOKEN + OVERHEAD_BYTES
    free = available_memory()
    if free is not None and free < needed:
        raise EngineError(f"not enough memory for the embedded model (it needs about "
                          f"{needed >> 20} MB, {free >> 20} MB are available); close other "
                          f"programs or {REMOTE_HINT}")


class LocalEngine:
    """A loaded model. Thread-safe: llama.cpp's server queues concurrent requests."""

    def __init__(self, options: EngineOptions) -> None:
        xllamacpp = _import_xllamacpp()
        _check_machine(xllamacpp, options)
        params = xllamacpp.CommonParams()
        params.model.path = str(options.path)
        params.n_ctx = options.n_ctx
        params.n_parallel = 1  # one conversation at a time keeps its prompt cache
        params.verbosity = -1  # llama.cpp writes nothing to stderr (the TUI owns the screen)
        params.api_keys = [secrets.token_hex(24)]  # the loopback listener refuses everyone
        params.warmup = True  # one empty decode at load: the first answer starts sooner
        params.cache_ram_mib = 0  # no host-memory prompt cache (8 GB by default): the one
        # slot's own KV cache already keeps the conversation's prefix between requests
        if options.threads:
            params.cpuparams.n_threads = options.threads
            params.cpuparams_batch.n_threads = options.threads
        try:
            self.server = xllamacpp.Server(params)
        except MemoryError:
            raise EngineError(f"not enough memory to load the embedded model; {REMOTE_HINT}"
                              ) from None
        except (RuntimeError, ValueError) as err:  # xllamacpp says no more than "failed"
            log.debug("xllamacpp.Server failed: %s", err)
            raise EngineError(f"llama.cpp could not load the model file {options.path} (it is "
                              "damaged, or not a model this llama.cpp supports)") from None
        self.options = options

    def complete(self, body: dict[str, Any],
                 on_chunk: Callable[[dict[str, Any]], bool]) -> None:
        """Blocking streamed completion; ``on_chunk`` returns True to stop generating."""

        def callback(chunk: Any) -> bool:
            try:
                return bool(on_chunk(chunk))
            except Exception:  # an exception here would be swallowed by the binding
                return True

        self.server.handle_completions({**body, "stream": True}, callback)

    async def stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The completion's chunks, as they are generated. Closing the iterator (or
        cancelling its consumer) stops the generation at the next token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        done = object()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stop.set()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            put(chunk)
            return stop.is_set()

        def work() -> None:
            try:
                self.complete(body, on_chunk)
            except BaseException as err:  # handed to the consumer, raised there
                put(err)
            finally:
                put(done)

        worker = threading.Thread(target=work, name="joiner-local-generate", daemon=True)
        worker.start()
        try:
            while (item := await queue.get()) is not done:
                if isinstance(item, BaseException):
                    raise EngineError(f"llama.cpp failed while generating ({item})")
                if isinstance(item, dict) and "error" in item:
                    error = item["error"]
                    message = error.get("message", error) if isinstance(error, dict) else error
                    raise EngineError(f"llama.cpp refused the request ({message})")
                yield item
        finally:
            stop.set()


_engines: dict[EngineOptions, LocalEngine] = {}
_engines_lock = threading.Lock()


def loaded_engine(options: EngineOptions) -> LocalEngine | None:
    return _engines.get(options)


def load_engine(options: EngineOptions) -> LocalEngine:
    """The process's engine for ``options``, loading it on first use (blocking;
    concurrent callers wait for the one load)."""
    engine = _engines.get(options)
    if engine is not None:
        return engine
    with _engines_lock:
        engine = _engines.get(options)
        if engine is None:
            engine = LocalEngine(options)
            _engines[options] = engine
        return engine

