"""Grounded arguments: the words and paths a tool call may point at.

The tiny model copies strongly from its few-shot examples: asked about ``calc.py``, it
happily reads the example's ``config.ini``. Arguments that name something (a ``path``,
a search ``pattern``) almost always come from the conversation itself, so when the
conversation offers candidates, the call grammar makes those arguments a choice among
them: the file names and words of the latest user message, and the paths that the tool
results since then printed. The model still decides which one; it can no longer invent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from joiner.core.messages import Message

PATH_KEYS = frozenset({"path", "file", "file_path", "filename", "directory", "dir"})
WORD_KEYS = frozenset({"pattern", "query", "symbol"})
OLD_KEYS = frozenset({"old_string", "old", "search"})
NEW_KEYS = frozenset({"new_string", "new", "replace"})
# Files that are usually named without their extension in a request.
BARE_FILES = {"README": ["README.md", "README"], "CHANGELOG": ["CHANGELOG.md", "CHANGELOG"],
              "LICENSE": ["LICENSE", "LICENSE.md"], "CONTRIBUTING": ["CONTRIBUTING.md"],
              "Makefile": ["Makefile"], "Dockerfile": ["Dockerfile"]}
MAX_CANDIDATES = 40

_FILE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z][A-Za-z0-9]{0,7})(?![\w/])")
_DIR = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)+)(?![\w/])")
_LISTED = re.compile(r"^([\w./-]+)(?::\d+:.*)?$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A folder named in words: "the utils folder", "directory src", "under docs".
_FOLDER = re.compile(r"\b([\w.-]+/?)\s+(?:folder|directory|dir)\b|"
                     r"\b(?:folder|directory|dir)\s+([\w./-]+)|\bunder\s+([\w./-]+)",
                     re.IGNORECASE)
_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|`([^`\n]{1,200})`")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*(?![\w.])")
# Words of requests that are never what a request is about.
_STOP_TEXT = """
a about all an and any are as at attribute be by can change class classes code constant
contain contains could create current dataclass def defined define defines definition
delete did directory do does doing edit every
everything explain file files find folder for from function functions get give has have help
here
how i in inside into is it its line lines list look make me method methods module modules
my name named of
on open or our print project read rename repo repository replace return returns run say
says search see set show so some tell than that the their them then there
these this those to type up update use used uses using value variable want was what
where which who
why will with would write you your
"""
STOPWORDS = frozenset(_STOP_TEXT.split())


@dataclass(slots=True)
class Grounding:
    paths: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # quoted phrases, words and numbers
    pair: tuple[str, str] | None = None  # "from A to B", "replace A with B"

    def for_key(self, key: str, required: bool = True) -> list[str]:
        """The allowed values of argument ``key``, or [] when it stays free. An optional
        path is only ever a path the conversation names, never just one of its words."""
        if key in PATH_KEYS:
            return self.paths or (self.words if required else [])
        if key in WORD_KEYS:
            return self.words
        if key in OLD_KEYS or key in NEW_KEYS:
            if self.pair is not None:
                return [self.pair[0] if key in OLD_KEYS else self.pair[1]]
            return self.texts
        return []


def _add(values: list[str], value: str) -> None:
    if value and value not in values and len(values) < MAX_CANDIDATES:
        values.append(value)


def file_names(text: str) -> list[str]:
    """File-like tokens (``calc.py``, ``docs/usage.md``, ``src/``), in order of appearance."""
    found: list[str] = []
    for match in _FILE.finditer(text):
        name = match.group(1)
        if not re.fullmatch(r"[\d.]+", name):  # a version number, not a file
            _add(found, name)
    for match in _DIR.finditer(text):
        _add(found, match.group(1).rstrip("/"))
    return found


def key_words(text: str, exclude: Sequence[str] = ()) -> list[str]:
    """The words of a request that may name something in the code."""
    parts = {p for name in exclude for p in re.split(r"[/.]", name)}
    found: list[str] = []
    for word in _WORD.findall(text):
        if word.lower() not in STOPWORDS and word not in parts and len(word) > 1:
            _add(found, word)
    return found


_TERM = r"\"[^\"\n]+\"|'[^'\n]+'|`[^`\n]+`|[\w.-]+"
_PAIRS = [re.compile(p, re.IGNORECASE) for p in (
    rf"\bfrom\s+({_TERM})\s+(?:to|into)\s+({_TERM})",
    rf"\b(?:rename|change|turn)\s+(?:the\s+\w+\s+)?({_TERM})\s+(?:to|into)\s+({_TERM})",
    rf"\breplace\s+({_TERM})\s+(?:with|by)\s+({_TERM})",
)]


def _unquote(term: str) -> str:
    if len(term) >= 2 and term[0] == term[-1] and term[0] in "\"'`":
        return term[1:-1]
    return term.rstrip(".,;:!?")


def edit_pair(request: str) -> tuple[str, str] | None:
    """The text to replace and its replacement, when the request says both."""
    for pattern in _PAIRS:
        match = pattern.search(request)
        if match:
            old, new = _unquote(match.group(1)), _unquote(match.group(2))
            if old and new and old != new:
                return old, new
    return None


def grounding(messages: Sequence[Message]) -> Grounding:
    """Candidates from the latest user message and the tool results after it."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    if last_user < 0:
        return Grounding()
    request = messages[last_user].text
    paths = file_names(request)
    for message in messages[last_user + 1:]:
        if message.role == "tool" and not message.is_error:
            for line in message.text.splitlines()[:200]:
                # a listing line ("utils/text.py") or a search hit ("utils/text.py:6:...")
                listed = _LISTED.match(line.strip())
                if listed and file_names(listed.group(1)):
                    _add(paths, listed.group(1))
    for word in _WORD.findall(request):
        for name in BARE_FILES.get(word, []):
            _add(paths, name)
    for folder in _FOLDER.findall(request):
        _add(paths, next(f for f in folder if f).rstrip("/.,;:!?"))
    words = key_words(request, exclude=paths)
    texts: list[str] = []
    for quoted in _QUOTED.findall(request):
        _add(texts, next(q for q in quoted if q))
    for value in [*words, *_NUMBER.findall(request)]:
        _add(texts, value)
    return Grounding(paths, words, texts, edit_pair(request))
