"""Rich's Markdown with cached code lexers: what an answer's segments are drawn with.

Rich looks its Pygments lexer up by name for every code block it draws (a plugin scan,
about half a millisecond); answers are full of code blocks and are redrawn as they
stream, so the lexers are looked up once and kept.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Markdown, MarkdownElement
from rich.segment import Segment
from rich.syntax import Syntax


@lru_cache(maxsize=64)
def lexer(name: str) -> Lexer | str:
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=8)
    except ClassNotFound:
        return "text"


class FastCodeBlock(CodeBlock):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Syntax(str(self.text).rstrip(), lexer(self.lexer_name), theme=self.theme,
                     word_wrap=True, padding=1)


class AnswerMarkdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "fence": FastCodeBlock, "code_block": FastCodeBlock}


class RenderedOnce:
    """A renderable drawn once per width and then replayed from its lines.

    Textual re-renders a Rich renderable whenever its widget moves (a chat scrolls up at
    every frame of a stream); replaying the lines costs a fraction of rendering Markdown.
    """

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable
        self._lines: tuple[int, list[list[Segment]]] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self._lines is None or self._lines[0] != options.max_width:
            lines = console.render_lines(self.renderable, options, pad=False)
            self._lines = (options.max_width, lines)
        new_line = Segment.line()
        for line in self._lines[1]:
            yield from line
            yield new_line
