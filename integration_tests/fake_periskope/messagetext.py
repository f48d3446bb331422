"""The text of a message: its body from a template (vocab.py), vCards, the poll
question, and the `fts` search column.

Odd text (lone surrogates, cut emoji, ...) is layered on top by oddtext.py.
"""

import functools
import string

from . import vocab

POLL_QUESTION = "Which slot works for the demo?"


def compose_body(kind, chat, h3, h4):
    """(body, url in it, template it came from) for a message of type `kind`."""
    if kind == "chat":
        template = vocab.MESSAGE_TEMPLATES[(h3 >> 16) % len(vocab.MESSAGE_TEMPLATES)]
    elif kind in ("image", "video", "document"):
        template = vocab.CAPTIONS[(h3 >> 16) % len(vocab.CAPTIONS)]
    elif kind == "vcard":
        body = vcard_text(h4)
        return body, None, body
    elif kind == "poll_creation":
        return POLL_QUESTION, None, POLL_QUESTION
    else:
        return None, None, None
    if template is None or "{" not in template:
        return template, None, template
    # Only build the placeholder values this template uses: formatting runs per record.
    values = {name: _PLACEHOLDER_VALUES[name](chat, h4) for name in _placeholders(template)}
    return template.format(**values), values.get("url"), template


@functools.lru_cache(maxsize=1024)
def fts(text):
    """A Postgres tsvector-ish rendering of a message text (column `fts`)."""
    if not text:
        return None
    words = [word for word in text.lower().split() if "{" not in word][:8]
    return " ".join(f"'{word}':{position}" for position, word in enumerate(words, 1))


@functools.lru_cache(maxsize=None)
def _placeholders(template: str) -> tuple:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


_PLACEHOLDER_VALUES = {
    "name": lambda chat, h: chat.name.split(" ")[0],
    "order": lambda chat, h: f"OD{h % 10_000_000:07d}",
    "amount": lambda chat, h: f"{(h >> 8) % 50_000:,}",
    "url": lambda chat, h: f"{vocab.URL_HOSTS[h % 3]}{h % 1_000_000:06d}",
    "date": lambda chat, h: f"{1 + (h >> 12) % 28} {('Jan', 'Feb', 'Mar', 'Apr')[(h >> 20) % 4]}",
    "city": lambda chat, h: vocab.CITIES[(h >> 24) % len(vocab.CITIES)],
}


def vcard_text(h: int) -> str:
    number = f"91{9_000_000_000 + h % 999_999_999}"
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:Contact {h % 997}\nTEL;type=CELL;waid={number}:+{number}\nEND:VCARD"
