"""Far history folded away, so a long conversation lays out about as fast as a short one.

Textual lays out every widget of the conversation whenever one of them changes height, and
a streaming answer does at every batch: 100-160 ms a layout with 2,000 messages, against
~5 ms in a fresh session. So the oldest widgets, far above the view, are hidden (display:
none, which layout skips: ~12 ms a layout at 2,000 messages) and one spacer of exactly
their height stands in for them, so nothing on screen moves.

- Folding (``fold``): when more than ``FOLD_AT`` widgets are shown, all but the newest
  ``KEEP``, as long as each is final (an answer drawn in its final look, a tool call
  finished: a folded widget must not change height unseen) and ends a screen or more above
  the view. The spacer's height is where the first widget kept starts, less its top margin
  (margins collapse: the spacer has none, so the gap above that widget stays the same).
- Unfolding (``unfold_to``): when the view comes within a screen of the spacer, the newest
  ``CHUNK`` folded widgets are shown again and the spacer shrinks to where the first of
  them started (measured when it was folded), as often as needed: the view does not move,
  and a jump to the top unfolds everything. A new width or theme unfolds everything (the
  heights measured no longer hold).
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

FOLD_AT = 300  # widgets shown before the oldest are folded
KEEP = 120  # the newest widgets never folded (~25 screens of history)
CHUNK = 100  # widgets unfolded at a time while scrolling up
FINISHED_TOOLS = {"done", "failed", "refused", "interrupted"}


class Spacer(Widget):
    """Stands in for the folded widgets: blank, exactly as tall as they were."""

    DEFAULT_CSS = "Spacer { height: 0; margin: 0; padding: 0; }"


def final(widget: Widget) -> bool:
    """The widget's height can no longer change unless it is shown (and laid out) again."""
    if getattr(widget, "settled", None) is not None:  # an answer
        return bool(widget.settled)  # type: ignore[attr-defined]
    state = getattr(widget, "state", None)
    if isinstance(state, str):  # a tool call
        return state in FINISHED_TOOLS
    return True  # a prompt, a notice


class HistoryFold:
    def __init__(self, host: Any) -> None:
        self.host = host  # the Conversation
        self.spacer: Spacer | None = None
        self.folded: list[tuple[Widget, int]] = []  # oldest first: (widget, spacer height
        # that makes it the first widget shown)

    def shown(self) -> list[Widget]:
        return [child for child in self.host.children
                if child is not self.spacer and child.display]

    def fold(self) -> int:
        """Fold what can be; how many widgets were folded. Uses the last layout's places:
        call it when that layout is current (the app idle, before a new prompt is mounted)."""
        shown = self.shown()
        if len(shown) <= FOLD_AT:
            return 0
        view_top = self.host.scroll_y - self.host.scrollable_content_region.height
        tops: list[tuple[Widget, int]] = []
        for widget in shown[: len(shown) - KEEP]:
            region = widget.virtual_region
            if not final(widget) or not region.height or region.bottom > view_top:
                break
            tops.append((widget, region.y - widget.styles.margin.top))
        if len(tops) < CHUNK:
            return 0  # not worth a layout
        first_kept = shown[len(tops)]
        kept_region = first_kept.virtual_region
        if not kept_region.height:
            return 0
        if self.spacer is None:
            self.spacer = Spacer()
            self.host.mount(self.spacer, before=0)
        with self.host.app.batch_update():
            for widget, _ in tops:
                widget.display = False
            self.folded.extend(tops)
            self._set_height(kept_region.y - first_kept.styles.margin.top)
        return len(tops)

    def unfold_to(self, scroll_y: float) -> None:
        """Show folded widgets again until the spacer ends a screen above ``scroll_y``."""
        if not self.folded:
            return
        screen = self.host.scrollable_content_region.height
        if scroll_y - screen >= self._spacer_end():
            return
        with self.host.app.batch_update():
            while self.folded and scroll_y - screen < self._spacer_end():
                chunk = self.folded[-CHUNK:]
                del self.folded[-CHUNK:]
                for widget, _ in chunk:
                    widget.display = True
                self._set_height(chunk[0][1])

    def unfold_all(self) -> None:
        self.unfold_to(-1e9)

    def clear(self) -> None:
        """The conversation's widgets were all removed (the spacer with them)."""
        self.folded.clear()
        self.spacer = None

    def _spacer_end(self) -> int:
        spacer = self.spacer
        return int(spacer.styles.height.value) if spacer and spacer.styles.height else 0

    def _set_height(self, height: int) -> None:
        if self.spacer is not None:
            self.spacer.styles.height = max(0, height)
            self.spacer.display = bool(self.folded)
