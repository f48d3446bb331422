import pytest
import requests_mock
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpRequest, HttpResponse
from freezegun import freeze_time

from source_periskope.api import ApiProblem, KeyProblem
from source_periskope.config import normalize_config
from source_periskope.phone_numbers import phones_to_read, resolve
from unit_tests.mock_server.config import API_KEY, BASE_URL, OTHER_PHONE, PHONE, ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import page, records
from unit_tests.mock_server.utils import MockedApi, read_stream, record_data

ORGANISATION = [
    {"org_phone": f"{PHONE}@c.us", "phone_id": "phone-aaaaaaaaaaaaaaaa", "wa_state": "CONNECTED"},
    {"org_phone": f"{OTHER_PHONE}@c.us", "phone_id": "phone-bbbbbbbbbbbbbbbb", "wa_state": "DISCONNECTED"},
    {"org_phone": None, "phone_id": "phone-cccccccccccccccc", "wa_state": "DISCONNECTED"},
]


def test_a_phone_given_as_digits_and_as_its_id_is_read_once_under_its_digits():
    resolved, _ = resolve([PHONE, "phone-aaaaaaaaaaaaaaaa", "phone-bbbbbbbbbbbbbbbb"], ORGANISATION, all_phones=False)
    assert resolved == [PHONE, OTHER_PHONE]


def test_all_phones_adds_every_phone_of_the_organisation_with_a_number_and_warns_about_the_others():
    resolved, warnings = resolve([PHONE], ORGANISATION, all_phones=True)
    assert resolved == [PHONE, OTHER_PHONE]
    assert [w.split(" is ")[0] for w in warnings] == ["Phone phone-cccccccccccccccc", f"Phone {OTHER_PHONE}"]
    assert "without a number (not paired yet?): skipped" in warnings[0]


def test_a_configured_phone_id_without_a_number_is_kept_for_the_streams_to_report():
    resolved, _ = resolve(["phone-cccccccccccccccc"], ORGANISATION, all_phones=True)
    assert resolved == ["phone-cccccccccccccccc", PHONE, OTHER_PHONE]


def test_no_lookup_when_every_number_is_given_as_digits():
    config = normalize_config({"api_key": "k", "phone_number": PHONE, "additional_phone_numbers": [OTHER_PHONE]})
    with requests_mock.Mocker():  # any request fails the test
        assert phones_to_read(config) == [PHONE, OTHER_PHONE]


def test_a_phone_id_is_never_read_under_its_raw_id_when_the_phone_list_is_unavailable():
    """The state is kept per number: read as phone-..., it would be saved under another name than the digits."""
    config = normalize_config({"api_key": "k", "phone_number": "phone-aaaaaaaaaaaaaaaa", "base_url": BASE_URL, "max_retries": 0})
    with requests_mock.Mocker() as http:
        http.get(f"{BASE_URL}/phones/all", status_code=503)
        with pytest.raises(ApiProblem) as failed:
            phones_to_read(config)

    assert not isinstance(failed.value, KeyProblem) and "503" in str(failed.value)


@freeze_time("2026-11-15T12:00:00Z")
def test_sync_all_phones_reads_each_phone_with_its_own_x_phone_and_org_streams_once():
    config = ConfigBuilder().with_values(sync_all_phones=True).build()
    phones_request = HttpRequest(url=f"{BASE_URL}/phones/all", headers={"Authorization": f"Bearer {API_KEY}"})
    windows = [("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"), ("2026-10-31T00:00:00Z", "2026-11-15T12:00:01Z")]
    with MockedApi() as http:
        http.get(phones_request, page("phones", ORGANISATION[:2]))
        # A discovered number is first asked for one chat: one the key cannot read is skipped, not a failed sync.
        http.get(HttpRequest(url=f"{BASE_URL}/chats", query_params={"offset": "0", "limit": "1"},
                             headers={"Authorization": f"Bearer {API_KEY}", "x-phone": OTHER_PHONE}), page("chats", []))
        for phone in (PHONE, OTHER_PHONE):
            for window in windows:
                http.get(PeriskopeRequestBuilder.for_stream("notes", phone).with_window(*window).with_page(0).build(),
                         page("notes", records("notes", 1, org_phone=f"{phone}@c.us")))
        output = read_stream("notes", SyncMode.incremental, config)
        http.assert_number_of_calls(phones_request, 1)

    assert sorted({r["org_phone"] for r in record_data(output)}) == [f"{OTHER_PHONE}@c.us", f"{PHONE}@c.us"]


@freeze_time("2026-11-15T12:00:00Z")
def test_sync_all_phones_skips_a_discovered_phone_the_key_cannot_read_with_one_warning_naming_it():
    config = ConfigBuilder().with_values(sync_all_phones=True).build()
    phones_request = HttpRequest(url=f"{BASE_URL}/phones/all", headers={"Authorization": f"Bearer {API_KEY}"})
    windows = [("2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z"), ("2026-10-31T00:00:00Z", "2026-11-15T12:00:01Z")]
    with MockedApi() as http:
        http.get(phones_request, page("phones", ORGANISATION))
        can_it_be_read = HttpRequest(url=f"{BASE_URL}/chats", query_params={"offset": "0", "limit": "1"},
                                     headers={"Authorization": f"Bearer {API_KEY}", "x-phone": OTHER_PHONE})
        http.get(can_it_be_read, HttpResponse('{"message": "The phone in x-phone is not accessible"}', 401))
        for window in windows:  # and nothing for OTHER_PHONE or the unpaired phone-cccccccccccccccc
            http.get(PeriskopeRequestBuilder.for_stream("notes", PHONE).with_window(*window).with_page(0).build(),
                     page("notes", records("notes", 1, org_phone=f"{PHONE}@c.us")))
        output = read_stream("notes", SyncMode.incremental, config)

    assert {r["org_phone"] for r in record_data(output)} == {f"{PHONE}@c.us"}
    skipped = [log.log.message for log in output.logs if "skipped" in log.log.message]
    assert len(skipped) == 2 and "Phone phone-cccccccccccccccc" in skipped[0] and f"Phone {OTHER_PHONE} is listed" in skipped[1]
