"""GET /phones/all: a bare array of the organisation's phones, one request, no pagination, no x-phone."""

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpRequest
from freezegun import freeze_time

from unit_tests.mock_server.config import API_KEY, BASE_URL, ConfigBuilder
from unit_tests.mock_server.response_builder import a_record, example_records, page
from unit_tests.mock_server.utils import MockedApi, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"
PHONES_REQUEST = HttpRequest(url=f"{BASE_URL}/phones/all", headers={"Authorization": f"Bearer {API_KEY}"})


@freeze_time(NOW)
def test_full_refresh_reads_the_bare_array_once():
    with MockedApi() as http:
        http.get(PHONES_REQUEST, page("phones", example_records("phones")))
        output = read_stream("phones", SyncMode.full_refresh, ConfigBuilder().build())
        http.assert_number_of_calls(PHONES_REQUEST, 1)

    (phone,) = record_data(output)
    assert phone["phone_id"] == "phone-bqzvyibhmwkaergr" and phone["wa_state"] == "CONNECTED"
    assert phone["labels"] == ["test1", "test2"] and phone["is_ready"] is True
    assert phone["updated_at"] == "2025-01-20T07:51:48.209+00:00"


@freeze_time(NOW)
def test_incremental_emits_phones_updated_after_the_state():
    recent = a_record("phones", phone_id="phone-recent", updated_at="2026-11-14T00:00:00+00:00")
    old = a_record("phones", phone_id="phone-old", updated_at="2025-01-01T00:00:00+00:00")
    with MockedApi() as http:
        http.get(PHONES_REQUEST, page("phones", [old, recent]))
        output = read_stream("phones", SyncMode.incremental, ConfigBuilder().build(), state={"updated_at": "2026-11-01T00:00:00Z"})

    assert [r["phone_id"] for r in record_data(output)] == ["phone-recent"]
