"""The scan for the API key in a run's output finds it in each form a library writes it (unit_tests/key_leaks.py)."""

import base64
import json
from urllib.parse import quote

import pytest

from unit_tests.key_leaks import assert_no_key, leaked_forms

KEY = "sk-live-0123456789\u200babcdefghij"


@pytest.mark.parametrize(
    "printed",
    [
        KEY,
        repr(f"Bearer {KEY}"),  # requests' InvalidHeader message
        str(f"Bearer {KEY}".encode("utf-8")),  # a bytes repr: \xe2\x80\x8b
        json.dumps({"error": f"Bearer {KEY}"}),  # \u200b
        json.dumps({"trace": repr(KEY)}),  # a repr inside a JSON trace message: \\u200b
        quote(KEY),
        quote(KEY).lower(),
        base64.b64encode(KEY.encode()).decode(),
        "sk-live-0123456789",  # a visible stretch on its own, whatever became of the invisible character
    ],
)
def test_the_key_is_found_however_it_was_written(printed):
    assert leaked_forms(f"... {printed} ...", KEY)
    with pytest.raises(AssertionError) as found:
        assert_no_key(printed, KEY)
    assert "0123456789" not in str(found.value)  # the failure never shows the key


def test_text_without_the_key_passes():
    assert_no_key("api_key holds 1 character(s) that are not visible ASCII (U+200B)", KEY)
