"""How an answer's pieces become terminal lines: Rich's Markdown (code lexers cached) for
a finished piece, plain text for a piece still streaming, and a cheap height estimate for
a piece not drawn yet.

Rich looks its Pygments lexer up by name for every code block it draws (a plugin scan,
about half a millisecond); answers are full of code blocks, so the lexers are looked up
once and kept. Rich also builds a new Markdown parser for every document (~0.4 ms, as long
as parsing a 500-character piece); an answer is drawn as many pieces, so they share one.
Lines come out of a generator, so a long piece can be drawn a few lines
per frame (``ui.answer_blocks``) instead of holding the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markdown import CodeBlock, Markdown, MarkdownElement
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax, SyntaxTheme
from rich.text import Text

from joiner.ui.packed_lines import Line, pack


@lru_cache(maxsize=64)
def lexer(name: str) -> Lexer | str:
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=8)
    except ClassNotFound:
        return "text"


@lru_cache(maxsize=8)
def theme(name: str) -> SyntaxTheme:
    """One theme object per name: each keeps a cache of its token styles, which a theme
    made anew for every code block (Rich's way) starts empty."""
    return Syntax.get_theme(name)


class FastCodeBlock(CodeBlock):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Syntax(str(self.text).rstrip(), lexer(self.lexer_name), theme=self.theme,
                     word_wrap=True, padding=1)


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The parser Rich makes for each document, made once (parsing keeps no state in it)."""
    return MarkdownIt().enable("strikethrough").enable("table")


class AnswerMarkdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "fence": FastCodeBlock, "code_block": FastCodeBlock}

    def __init__(self, markup: str, code_theme: Any, inline_code_lexer: Any) -> None:
        # Rich's ``__init__`` with the shared parser (a test checks it sets what Rich's sets)
        self.markup = markup
        self.parsed = parser().parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = inline_code_lexer
        self.inline_code_theme = code_theme


def markdown(source: str, dark: bool) -> AnswerMarkdown:
    """A finished piece of an answer, as it is finally shown."""
    # Rich takes names for the inline lexer and the theme, and looks them up for every code
    # block and `code` span: the objects are accepted as well and kept as they are
    code_theme: Any = theme("monokai" if dark else "default")
    inline_lexer: Any = lexer("text")
    return AnswerMarkdown(source, code_theme=code_theme, inline_code_lexer=inline_lexer)


def warm_up(console: Console, dark: bool) -> None:
    """Draw a small answer once, so the first real one does not pay for loading Pygments,
    its Python lexer and the theme (~40 ms, all in one frame)."""
    console.render_lines(markdown("`x` **y**\n\n```python\nx = 1\n```\n", dark),
                         console.options.update_width(40))


def draft(console: Console, options: ConsoleOptions, source: str, base: Style) -> list[Line]:
    """A piece still streaming, as its raw text wrapped at spaces. Plain ASCII lines (nearly
    all of them) are cut here, a twentieth of the cost of Rich's wrapping; others (wide or
    combining characters, tabs, control codes) go through Rich."""
    width, out = options.max_width, []
    for line in source.rstrip("\n").split("\n"):
        if not (line.isascii() and line.isprintable()):
            out.extend(lines(console, options, Text(line), base))
            continue
        while len(line) > width:
            cut = line.rfind(" ", 0, width + 1)
            if cut <= 0:
                out.append(pack([Segment(line[:width], base)]))
                line = line[width:]
            else:
                out.append(pack([Segment(line[:cut], base)]))
                line = line[cut + 1:]
        out.append(pack([Segment(line, base)]) if line else ())
    return out


def lines(console: Console, options: ConsoleOptions, renderable: RenderableType,
          base: Style, trim_top: bool = False) -> Iterator[Line]:
    """The lines of ``renderable`` at ``options.max_width``, one at a time, each under the
    widget's ``base`` style, as Textual's ``Static`` draws a Rich renderable. Packed
    (``packed_lines``), and no ``Strip`` (it holds seven caches): the widget makes one only
    for a line it shows. No empty lines last (Rich ends a rule with one), and with
    ``trim_top`` none first (Rich starts a document that opens with a list with one): the
    pieces of an answer are drawn apart, one blank line between them."""
    segments = console.render(renderable, options)
    if base:
        add = base.__add__
        segments = (Segment(text, add(style), None) for text, style, _ in segments)
    blank = 0  # empty lines held back: yielded only if something follows them
    for line in Segment.split_and_crop_lines(segments, options.max_width,
                                             include_new_lines=False, pad=False):
        if not any(text for text, _, _ in line):
            blank += not trim_top
            continue
        trim_top = False
        for _ in range(blank):
            yield ()
        blank = 0
        yield pack(line)


def estimate_height(source: str, width: int) -> int:
    """About how many lines ``source`` takes at ``width`` (a piece not drawn yet still
    needs a height for scrolling; drawing it corrects the guess)."""
    width = max(width, 1)  # a code fence's two lines become its padding: no correction
    return sum(len(line) // width + 1 for line in source.rstrip("\n").split("\n"))
