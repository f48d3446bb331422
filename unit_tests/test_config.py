import pytest

from source_periskope.config import (
    ALL_HISTORY_START,
    PHONES_KEY,
    ConfigError,
    normalize_config,
    normalize_phone,
    parse_start_date,
)


@pytest.mark.parametrize(
    "pasted, expected",
    [
        ("919876543210", "919876543210"),
        ("+91 98765-43210", "919876543210"),
        ("0091 98765 43210", "919876543210"),
        ("+44 (0)7700 900123", "447700900123"),
        ("+1 (415) 555-0100", "14155550100"),
        ("919876543210@c.us", "919876543210"),
        ("  919876543210\n", "919876543210"),
        ("phone-bqzvyibhmwkaergr", "phone-bqzvyibhmwkaergr"),
        ("Phone-BQZVYIBHMWKAERGR", "phone-bqzvyibhmwkaergr"),
        (919876543210, "919876543210"),
    ],
)
def test_pasted_numbers_become_the_x_phone_value(pasted, expected):
    assert normalize_phone(pasted) == expected


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("98765abc10", "is not a WhatsApp number"),
        ("+91 98765", "has 7 digits"),
        ("1234567890123456", "has 16 digits"),
        ("", "is not a WhatsApp number"),
        ("९१९८७६५४३२१०", "is not a WhatsApp number"),  # Devanagari digits pass str.isdigit()
        ("phone-", "is not a WhatsApp number"),
    ],
)
def test_unusable_numbers_name_the_field_and_the_expected_form(bad, problem):
    with pytest.raises(ConfigError) as error:
        normalize_phone(bad, "phone_number")
    message = str(error.value)
    assert message.startswith("phone_number") and problem in message
    assert "919876543210" in message  # shows the expected form


def test_a_float_number_is_rejected_rather_than_rounded():
    with pytest.raises(ConfigError, match="phone_number must be text"):
        normalize_phone(9.19876543210e11)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2025-01-31", "2025-01-31T00:00:00Z"),
        ("2025-01-31T10:20:30Z", "2025-01-31T10:20:30Z"),
        ("2025-01-31T10:20:30.123+05:30", "2025-01-31T04:50:30Z"),
        ("2025-01-31 10:20:30", "2025-01-31T10:20:30Z"),
    ],
)
def test_start_date_accepts_a_date_or_a_date_time(given, expected):
    assert parse_start_date(given) == expected


@pytest.mark.parametrize("bad", ["31/01/2025", "yesterday", "2999-01-01"])
def test_bad_start_date_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="start_date"):
        parse_start_date(bad)


def test_normalised_config_has_defaults_and_every_number_once():
    config = normalize_config(
        {"api_key": " key ", "phone_number": "+91 98765-43210", "additional_phone_numbers": ["919876543210", "0091 85271 84400"]}
    )
    assert config[PHONES_KEY] == ["919876543210", "918527184400"]
    assert config["api_key"] == "key"
    assert config["start_date"] == ALL_HISTORY_START
    assert config["base_url"] == "https://api.periskope.app/v1"
    assert (config["page_size"], config["window_days"], config["lookback_days"]) == (1999, 30, 0)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"api_key": ""}, "api_key"),
        ({"phone_number": None}, "phone_number"),
        ({"additional_phone_numbers": ["abc"]}, "additional_phone_numbers[0]"),
        ({"page_size": 2001}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"window_days": "many"}, "window_days"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"base_url": "api.periskope.app"}, "base_url"),
    ],
)
def test_each_bad_value_is_named(change, field):
    with pytest.raises(ConfigError) as error:
        normalize_config({"api_key": "key", "phone_number": "919876543210", **change})
    assert str(error.value).startswith(field)


@pytest.mark.parametrize("num_workers, threads", [(None, 4), (1, 1), (2, 2), (8, 8)])
def test_num_workers_sets_the_reader_threads(num_workers, threads):
    from source_periskope import SourcePeriskope

    config = {"api_key": "key", "phone_number": "919876543210"}
    if num_workers is not None:
        config["num_workers"] = num_workers
    source = SourcePeriskope(config=config)
    # Private names of the CDK, guarded by unit_tests/test_cdk_hooks.py (TEST_REACHES).
    assert source._concurrent_source._threadpool._threadpool._max_workers == threads


@pytest.mark.parametrize("num_workers", [0, 9, "many"])
def test_num_workers_out_of_range_is_named(num_workers):
    with pytest.raises(ConfigError) as error:
        normalize_config({"api_key": "key", "phone_number": "919876543210", "num_workers": num_workers})
    assert str(error.value).startswith("num_workers")


@pytest.mark.parametrize("num_workers", [0, "many"])
def test_a_bad_num_workers_fails_check_naming_it_instead_of_crashing(num_workers):
    import logging

    from airbyte_cdk.models import Status

    from source_periskope import SourcePeriskope

    config = {"api_key": "key", "phone_number": "919876543210", "num_workers": num_workers}
    status = SourcePeriskope(config=config).check(logging.getLogger("test"), config)
    assert status.status == Status.FAILED and "num_workers must be a whole number from 1 to 8" in status.message


@pytest.mark.parametrize("url, allowed", [
    ("https://api.periskope.app/v1", True),
    ("https://api-staging.periskope.app/v1/", True),
    ("http://127.0.0.1:8765/v1", True),  # the tests and the demo
    ("http://localhost:8765/v1", True),
    ("http://[::1]:8765/v1", True),
    ("http://api.periskope.app/v1", False),  # the key would travel unencrypted
    ("http://10.0.0.5/v1", False),
    ("ftp://api.periskope.app/v1", False),
    ("api.periskope.app", False),
])
def test_base_url_must_be_https_except_a_loopback_host(url, allowed):
    config = {"api_key": "key", "phone_number": "919876543210", "base_url": url}
    if allowed:
        assert normalize_config(config)["base_url"] == url.rstrip("/")
    else:
        with pytest.raises(ConfigError) as error:
            normalize_config(config)
        assert str(error.value).startswith("base_url")


INVISIBLE = {
    "a zero-width space": "\u200b",
    "a byte-order mark": "\ufeff",
    "a line break": "\n",
    "a carriage return": "\r",
    "a tab": "\t",
    "a non-breaking space": "\u00a0",
    "a space": " ",
}


# Whitespace at the ends is trimmed, as for every field: only the characters that are not whitespace are refused there.
PLACES = [(name, "inside") for name in INVISIBLE] + [(name, "at the start") for name in INVISIBLE if not INVISIBLE[name].isspace()]


@pytest.mark.parametrize("name, where", PLACES)
def test_a_key_with_an_invisible_character_is_refused_naming_the_field_never_the_value(name, where):
    from unit_tests.key_leaks import assert_no_key

    secret = "sk-live-0123456789abcdefghij"
    key = secret[:10] + INVISIBLE[name] + secret[10:] if where == "inside" else INVISIBLE[name] + secret
    with pytest.raises(ConfigError) as refused:
        normalize_config({"api_key": key, "phone_number": "919876543210"})

    assert str(refused.value).startswith("api_key ")
    assert "visible ASCII" in str(refused.value)
    assert_no_key(str(refused.value), key)
