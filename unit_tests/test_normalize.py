"""The pure functions that give Periskope's odd value shapes one form each (source_periskope/normalize.py)."""

import pytest

from source_periskope.normalize import NotATimestamp, label_names, normalize_timestamp, snake_case_id


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10+00:00"),
        ("2025-01-24T05:11:10.691753+00:00", "2025-01-24T05:11:10.691753+00:00"),
        ("2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.9+00:00"),
        ("2024-05-13 11:19:34+00", "2024-05-13T11:19:34+00:00"),
        ("2025-01-24T05:11:10.123Z", "2025-01-24T05:11:10.123+00:00"),
        ("2025-01-24T05:11:10", "2025-01-24T05:11:10+00:00"),
        ("2025-01-24T10:41:10.25+05:30", "2025-01-24T05:11:10.25+00:00"),
        ("2025-01-24T00:30:00-0100", "2025-01-24T01:30:00+00:00"),
        ("2025-01-24", "2025-01-24T00:00:00+00:00"),
    ],
)
def test_timestamps_become_rfc3339_utc_keeping_their_precision(raw, expected):
    assert normalize_timestamp(raw) == expected


@pytest.mark.parametrize("raw", ["1737695471721", "yesterday", "2025-13"])
def test_non_timestamps_are_refused(raw):
    with pytest.raises(NotATimestamp):
        normalize_timestamp(raw)


def test_camel_case_id_becomes_snake_case():
    assert snake_case_id({"fromMe": True, "id": "A", "remote": "r@c.us", "_serialized": "true_r@c.us_A"}) == {
        "from_me": True, "id": "A", "remote": "r@c.us", "serialized": "true_r@c.us_A",
    }
    assert snake_case_id({"fromMe": False, "serialized": "x"}) == {"from_me": False, "serialized": "x"}
    assert snake_case_id({"from_me": True, "_serialized": "x"}) == {"from_me": True, "serialized": "x"}
    snake = {"from_me": True, "id": "A", "remote": "r@c.us", "serialized": "true_r@c.us_A"}
    assert snake_case_id(dict(snake)) == snake
    assert snake_case_id(snake) is snake  # already snake_case: not copied
    assert snake_case_id(None) is None


@pytest.mark.parametrize("value, names", [
    ("vip, Follow up", ["vip", "Follow up"]), (" a ,, b ", ["a", "b"]), ("", []), ("1", ["1"]), ("null", ["null"]),
    ('["a", "b"]', ["a", "b"]), ("[not json", ["[not json"]), (["x"], ["x"]), (None, None),
])
def test_labels_are_names_from_a_list_or_comma_separated_text(value, names):
    assert label_names(value) == names


@pytest.mark.parametrize("value", [
    "2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.691753+00:00",
    "2024-05-13 11:19:34+00", "2025-01-24T05:11:10Z", "2025-01-24T10:41:10.25+05:30", "2025-01-24", "2025-01-24T05:11:10.+00:00",
])
def test_canonical_timestamps_skip_the_regex_with_the_same_result(value, monkeypatch):
    from source_periskope import normalize

    fast = normalize.normalize_timestamp(value) if normalize._TIMESTAMP.match(value) else None
    monkeypatch.setattr(normalize, "_is_canonical", lambda text: False)
    if fast is not None:
        assert normalize.normalize_timestamp(value) == fast


def test_a_body_with_a_latin1_byte_is_read_with_a_replacement_character():
    from source_periskope.normalize import loads_json, not_utf8

    body = '{"subject": "Caf\u00e9"}'.encode("latin-1")
    assert loads_json(body) == ({"subject": "Caf\ufffd"}, True)
    assert not_utf8(body) and not not_utf8('{"subject": "Caf\u00e9"}'.encode("utf-8"))
