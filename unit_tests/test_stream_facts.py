"""The connector's stream facts come from its manifest, and they agree with the tests' own table."""

from source_periskope import stream_facts
from source_periskope.config import start_dates
from unit_tests.stream_table import STREAMS


def test_the_manifest_lists_the_streams_of_the_contract_with_their_facts():
    facts = stream_facts.all_streams()
    assert tuple(facts) == tuple(STREAMS)
    for name, expected in STREAMS.items():
        stream = facts[name]
        assert stream.api_path == expected.path, name
        assert stream.primary_key == expected.primary_key, name
        assert stream.cursor_field == expected.cursor, name
        assert stream.phone_scoped == expected.phone_scoped, name
        assert (stream.records_keys[0] if stream.records_keys else None) == expected.records_key, name


def test_the_config_covers_every_stream_of_the_manifest():
    assert set(start_dates({"start_date": "2025-01-01T00:00:00Z"})) == set(STREAMS)
