"""Text helpers."""

import re


def slugify(text):
    """Lowercase words joined by dashes: 'Hello World' -> 'hello-world'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
