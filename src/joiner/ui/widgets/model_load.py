"""A local model's load, as one calm line above the token tracker.

A local model (``local/…``) loads its weights on first use: a second or more, longer on the
very first run, when its model file is built. ``ModelLoadLine.start`` begins the load as soon
as the session exists, in a worker, so the first prompt finds the model ready or nearly. The
provider does the blocking part in a thread of its own and reports each phase on the event
loop's thread (``provider.on_load_progress``, a ``LoadProgress``), so the line is updated
from there directly; between reports a timer only moves the seconds on. The line shows the
phase, how far it is and how long it has taken, and goes away once the model is ready. A
failed load is said once, in the conversation (the next prompt tries again and says why).

llama.cpp's model load itself (``xllamacpp.Server``) keeps Python's interpreter lock for all
of its ~1.3 s, thread or not: nothing in the process runs meanwhile, Textual's output thread
included. So the line is put on screen first, and the load starts once that frame has had
``SHOWN_S`` to reach the terminal; the keys pressed during the pause are read after it.

A provider without ``load`` and ``on_load_progress`` (every remote one) is left alone, and
``joiner -p`` never shows this: it loads on its first request, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from joiner.core import ProviderError
from joiner.ui.timers import call_after

TICK_S = 0.5
SHOWN_S = 0.05  # after the frame with the line: time for Textual's writer thread to send it
BAR_CELLS = 12
WORDS = {"preparing": "Preparing local model {model} (first run: building its file)",
         "loading": "Loading local model {model}"}


def needs_load(provider: Any) -> bool:
    """The provider loads a model in-process and has not yet."""
    return (callable(getattr(provider, "load", None)) and hasattr(provider, "on_load_progress")
            and not getattr(provider, "loaded", False))


def progress_text(model: str, phase: str, fraction: float, elapsed: float) -> Text:
    words = WORDS.get(phase, "Loading local model {model}").format(model=model)
    filled = max(0, min(BAR_CELLS, round(fraction * BAR_CELLS)))
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{words}… ").append(f"{fraction:.0%}", "bold")
    line.append("  ").append("━" * filled, "bold").append("─" * (BAR_CELLS - filled), "dim")
    line.append(f"  {elapsed:.0f} s", "dim")
    return line


class ModelLoadLine(Static):
    DEFAULT_CLASSES = "model-load"

    def __init__(self, on_failure: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.on_failure = on_failure
        self.model = ""
        self.phase = ""
        self.fraction = 0.0
        self._started = 0.0
        self._ticker: Timer | None = None
        self.provider: Any = None

    def on_mount(self) -> None:
        self.display = False

    def start(self, provider: Any) -> bool:
        """Load ``provider``'s model in the background if it needs it; True if started."""
        if not needs_load(provider):
            return False
        if self.provider is not None and self.provider is not provider:
            self.provider.on_load_progress = None  # a session replaced during its load
        self.provider = provider
        self.model = str(getattr(provider, "model", "") or getattr(provider, "name", "model"))
        provider.on_load_progress = self.report
        self._show("loading", 0.0, 0.0)
        self.call_after_refresh(call_after, self, SHOWN_S, self._begin, provider)
        return True

    def _begin(self, provider: Any) -> None:
        if provider is self.provider:
            self.run_worker(self._load(provider), group="model-load", exit_on_error=False)

    async def _load(self, provider: Any) -> None:
        try:
            await provider.load()
        except Exception as err:  # not only ProviderError: any failure is one line, not a
            # worker dying silently with the line ticking on for good
            if provider is self.provider:
                reason = err.message if isinstance(err, ProviderError) else (
                    str(err) or type(err).__name__)
                self.on_failure(f"The local model did not load: {reason}")
        finally:
            if provider is self.provider:
                self._hide()  # loaded or failed, the load is over

    def report(self, progress: Any) -> None:
        """``provider.on_load_progress``: called on the event loop's thread."""
        if progress.phase in ("ready", "failed"):
            self._hide()
            return
        self._show(progress.phase, float(progress.fraction), float(progress.elapsed))

    def _show(self, phase: str, fraction: float, elapsed: float) -> None:
        self.phase, self.fraction = phase, fraction
        self._started = time.monotonic() - elapsed
        if self._ticker is None:
            self._ticker = self.set_interval(TICK_S, self._redraw)
        self._redraw()
        self.display = True

    def _redraw(self) -> None:
        elapsed = time.monotonic() - self._started
        self.update(progress_text(self.model, self.phase, self.fraction, elapsed), layout=False)

    def _hide(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.phase = ""
        self.display = False

    @property
    def shown(self) -> bool:
        return bool(self.display)
