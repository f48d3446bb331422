"""Finds an API key in text, in every form a library might write it.

The CDK's secret filter replaces the key as given; a library that writes it escaped (Python's repr, JSON's \\u
escapes, a URL's percent-encoding, a header in base64) slips past that filter. Tests scan a run's whole output with
`assert_no_key`; integration_tests/support/connector.run does it for every run of the command.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Iterable, Set
from urllib.parse import quote, quote_plus

# Parts of a key this long are specific to it; shorter ones (a prefix such as "pk_") are not evidence of a leak.
MIN_FRAGMENT = 8


def key_forms(key: str) -> Set[str]:
    """The key as it may appear in output: as given, escaped in each way a library writes text, and its visible
    stretches on their own (between two invisible characters, whatever escape a library chose for them)."""
    forms = {
        key,
        repr(key)[1:-1],
        repr(key.encode("utf-8", "surrogatepass"))[2:-1],
        json.dumps(key)[1:-1],
        json.dumps(key, ensure_ascii=False)[1:-1],
        key.encode("unicode_escape").decode("ascii"),
        key.encode("unicode_escape").decode("ascii").replace("\\", "\\\\"),
        "".join(f"\\u{ord(c):04x}" if not c.isascii() or not c.isprintable() else c for c in key),
        quote(key, safe=""),
        quote_plus(key),
        base64.b64encode(key.encode("utf-8", "surrogatepass")).decode("ascii"),
        base64.b64encode(f"Bearer {key}".encode("utf-8", "surrogatepass")).decode("ascii"),
    }
    forms |= {form.upper() for form in forms if "%" in form}  # percent-encoding in either case
    forms |= {part for part in re.split(r"[^\x21-\x7e]+", key) if len(part) >= MIN_FRAGMENT}
    return {form for form in forms if form}


def leaked_forms(text: str, key: str) -> Iterable[str]:
    return sorted(form for form in key_forms(key) if form in text)


def assert_no_key(text: str, key: str) -> None:
    leaked = leaked_forms(text, key)
    # The message shows how it leaked (which escape), never the key itself.
    assert not leaked, f"the API key appears in the output, {len(leaked)} form(s) of it (e.g. {len(leaked[0])} characters long)"
