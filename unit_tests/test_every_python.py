"""What differs between the Pythons pyproject.toml declares (3.10 to 3.13), tested on each of them by `make test`
(integration_tests/test_lowest_and_highest_python.py runs unit_tests/ on 3.10 and 3.13).

- The CDK builds every custom component with typing.get_type_hints: on 3.10 a module written with
  `from __future__ import annotations` makes its InitVar annotations unreadable, and discover, check and read fail.
- datetime.fromisoformat before 3.11 reads only 0, 3 or 6 fractional digits; the API trims trailing zeros, so it
  sends 1 to 6. Every cursor must parse the same on every Python.
"""

import importlib
import typing
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover
from freezegun import freeze_time

from source_periskope import SourcePeriskope
from source_periskope.config import parse_start_date
from source_periskope.normalize import from_iso, normalize_timestamp
from source_periskope.read_plan import parse_cursor
from source_periskope.state import SettledStateConverter
from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import a_record, page
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "source_periskope" / "manifest.yaml"

# value the API may send -> the moment it means
TRIMMED = {
    "2025-01-24T05:11:10.9+00:00": datetime(2025, 1, 24, 5, 11, 10, 900000, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.25+00:00": datetime(2025, 1, 24, 5, 11, 10, 250000, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.123+00:00": datetime(2025, 1, 24, 5, 11, 10, 123000, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.1234+00:00": datetime(2025, 1, 24, 5, 11, 10, 123400, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.12345+00:00": datetime(2025, 1, 24, 5, 11, 10, 123450, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.691753+00:00": datetime(2025, 1, 24, 5, 11, 10, 691753, tzinfo=timezone.utc),
    "2025-01-24 05:11:10.5+00": datetime(2025, 1, 24, 5, 11, 10, 500000, tzinfo=timezone.utc),
    "2025-01-24T10:41:10.25+05:30": datetime(2025, 1, 24, 5, 11, 10, 250000, tzinfo=timezone.utc),
    "2025-01-24T05:11:10.25Z": datetime(2025, 1, 24, 5, 11, 10, 250000, tzinfo=timezone.utc),
}


def custom_component_classes():
    names = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str):
                names.add(node["class_name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(MANIFEST_PATH.read_text()))
    return sorted(names)


@pytest.mark.parametrize("class_name", custom_component_classes())
def test_the_cdk_can_read_the_type_hints_of_every_custom_component(class_name):
    module, _, name = class_name.rpartition(".")
    component = getattr(importlib.import_module(module), name)
    assert typing.get_type_hints(component)  # what ModelToComponentFactory.create_custom_component calls


def test_discover_builds_every_stream():
    config = ConfigBuilder().build()
    output = discover(SourcePeriskope(config=config), config)
    assert not output.errors
    assert len(output.catalog.catalog.streams) == 8


@pytest.mark.parametrize("value", sorted(TRIMMED))
def test_a_cursor_with_trimmed_fractional_digits_parses_to_the_same_moment(value):
    moment = TRIMMED[value]
    assert from_iso(value) == moment
    assert parse_cursor(value) == moment  # the read plan's and the client-side filter's reading
    converter = SettledStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ",
                                      input_datetime_formats=["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"])
    assert converter.parse_timestamp(normalize_timestamp(value)) == moment  # the state's (records come normalised)


@pytest.mark.parametrize("value, expected", [
    ("2025-01-31T10:00:00.5Z", "2025-01-31T10:00:00Z"),
    ("2025-01-31T10:00:00.25+05:30", "2025-01-31T04:30:00Z"),
    ("2025-01-31T10:00:00.1234+00:00", "2025-01-31T10:00:00Z"),
])
def test_a_start_date_with_trimmed_fractional_digits_is_accepted(value, expected):
    assert parse_start_date(value) == expected


@freeze_time("2026-11-15T12:00:00Z")
def test_an_incremental_read_emits_only_records_newer_than_the_state_whatever_their_fractional_digits():
    """tickets are filtered on the connector's side: a cursor it could not read would be emitted on every sync."""
    older = [a_record("tickets", ticket_id=f"old-{digits}", last_updated_at=f"2026-11-09T10:00:00.{'5' * digits}+00:00")
             for digits in (1, 2, 4, 5)]
    newer = a_record("tickets", ticket_id="new", last_updated_at="2026-11-14T09:30:00.25+00:00")
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("tickets").with_page(0, 100).build(), page("tickets", [newer, *older]))
        output = read_stream("tickets", SyncMode.incremental, ConfigBuilder().build(),
                             state={"last_updated_at": "2026-11-10T00:00:00Z"})

    assert [record["ticket_id"] for record in record_data(output)] == ["new"]
    assert final_state(output)["last_updated_at"] == "2026-11-14T09:30:00Z"
