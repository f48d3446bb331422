"""At the edges (issue 21), at the HTTP level: an unknown stream in the catalog, a revoked key on a first sync, a
detail that cannot be had, a response with a byte that is not UTF-8, a passing outage of the phone list."""

import json

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from freezegun import freeze_time

from source_periskope import SourcePeriskope
from unit_tests.mock_server.config import API_KEY, BASE_URL, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import a_record, error, example_records, page
from unit_tests.mock_server.utils import MockedApi, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"


def read_catalog(catalog, config, state=None, expect_error=False):
    source = SourcePeriskope(catalog=catalog, config=config, state=state)
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_error else ExpectedOutcome.ALLOW_ANY
    return read(source, config, catalog, state, expected_outcome=outcome)


def statuses(output):
    return {m.trace.stream_status.stream_descriptor.name: m.trace.stream_status.status.value
            for m in output.trace_messages if m.trace.stream_status}


@freeze_time(NOW)
def test_a_stream_in_the_catalog_the_connector_does_not_know_is_incomplete_and_the_others_sync():
    catalog = ConfiguredAirbyteCatalogSerializer.dump(CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build())
    catalog["streams"].append({**catalog["streams"][0], "stream": {**catalog["streams"][0]["stream"], "name": "tickets_v0"}})
    catalog = ConfiguredAirbyteCatalogSerializer.load(catalog)
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("tickets").with_page(0).build(), page("tickets", example_records("tickets")))
        output = read_catalog(catalog, ConfigBuilder().build())

    assert not output.errors, output.get_formatted_error_message()
    assert len(output.records) == 2
    assert statuses(output)["tickets"] == "COMPLETE" and statuses(output)["tickets_v0"] == "INCOMPLETE"
    assert output.is_in_logs("Stream tickets_v0 is in the configured catalog but this connector has no such stream")


@freeze_time(NOW)
def test_a_revoked_key_on_a_first_sync_ends_the_read_at_its_first_probe_as_one_config_error():
    everything = PeriskopeRequestBuilder.for_stream("messages").with_window("2026-10-01T00:00:00Z", "2026-11-15T12:00:01Z")
    with MockedApi() as http:
        http.get(everything.with_page(0, 100).build(), error(401, {"message": "Invalid API key"}))  # and nothing else
        output = read_stream("messages", SyncMode.incremental, ConfigBuilder().build(), expect_error=True)

    assert len(output.errors) == 1, output.get_formatted_error_message()
    failure = output.errors[0].trace.error
    assert failure.failure_type.value == "config_error"
    assert "401 Unauthorized to GET /chats/messages for phone 919876543210: the API key was rejected" in failure.message
    assert not output.is_in_logs("could not probe")


PHONES_REQUEST = HttpRequest(url=f"{BASE_URL}/phones/all", headers={"Authorization": f"Bearer {API_KEY}"})


@freeze_time(NOW)
def test_an_outage_of_the_phone_list_is_a_transient_error_and_a_phone_id_is_not_read_under_another_name():
    config = ConfigBuilder().with_phone_number("phone-aaaaaaaaaaaaaaaa").with_values(max_retries=2).build()
    with MockedApi() as http:
        http.get(PHONES_REQUEST, [error(503)] * 3)  # and no window of phone-aaaaaaaaaaaaaaaa
        output = read_stream("notes", SyncMode.incremental, config, expect_error=True)
        http.assert_number_of_calls(PHONES_REQUEST, 3)

    assert [e.trace.error.failure_type.value for e in output.errors] == ["transient_error"]
    assert "Periskope answered 503 to GET /phones/all" in output.errors[0].trace.error.message
    assert not output.state_messages


@freeze_time(NOW)
def test_a_refused_key_on_the_phone_list_stays_a_config_error():
    config = ConfigBuilder().with_values(sync_all_phones=True).build()
    with MockedApi() as http:
        http.get(PHONES_REQUEST, error(403, {"message": "Forbidden"}))
        output = read_stream("notes", SyncMode.incremental, config, expect_error=True)

    assert [e.trace.error.failure_type.value for e in output.errors] == ["config_error"]
    assert "403" in output.errors[0].trace.error.message


@freeze_time(NOW)
def test_a_byte_that_is_not_utf8_is_read_as_a_replacement_character_with_one_warning_naming_the_stream():
    tickets = [a_record("tickets", ticket_id=f"BKT-00{n}", subject="Caf\u00e9 order", status="open") for n in (1, 2)]
    body = json.dumps({"from": 1, "to": 2, "count": 2, "tickets": tickets}, ensure_ascii=False).encode("latin-1")
    with MockedApi() as http:
        http.get(PeriskopeRequestBuilder.for_stream("tickets").with_page(0).build(), HttpResponse(body))
        output = read_stream("tickets", SyncMode.full_refresh, ConfigBuilder().build())

    assert [r["subject"] for r in record_data(output)] == ["Caf\ufffd order", "Caf\ufffd order"]
    warnings = [log.log.message for log in output.logs if "not UTF-8" in log.log.message]
    assert len(warnings) == 1 and warnings[0].startswith("Stream tickets: a response from /v1/tickets held bytes"), warnings
