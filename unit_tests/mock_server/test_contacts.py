"""GET /contacts: org-level, newest updated first, no time filter: every page is read and filtered locally."""

from airbyte_cdk.models import SyncMode
from freezegun import freeze_time

from unit_tests.mock_server.config import ConfigBuilder
from unit_tests.mock_server.request_builder import PeriskopeRequestBuilder
from unit_tests.mock_server.response_builder import a_record, example_records, offset_pages, page, records
from unit_tests.mock_server.utils import MockedApi, final_state, read_stream, record_data

NOW = "2026-11-15T12:00:00Z"


def contacts_page(offset):
    return PeriskopeRequestBuilder.for_stream("contacts").with_page(offset).build()


@freeze_time(NOW)
def test_full_refresh_emits_the_contract_example_projection():
    with MockedApi() as http:
        http.get(contacts_page(0), page("contacts", example_records("contacts")))
        output = read_stream("contacts", SyncMode.full_refresh, ConfigBuilder().build())

    emitted = record_data(output)
    assert [r["contact_id"] for r in emitted] == ["919289665999@c.us", "919537851844@c.us"]
    assert emitted[1]["label_ids"] == {"label-ukjqhqngnakncalm": True, "label-wwfrdqogccexahnv": True}
    assert emitted[1]["labels"] == ["label1", "label2"]


@freeze_time(NOW)
def test_full_refresh_reads_three_pages():
    pages = [records("contacts", 100), records("contacts", 100, newest="2026-10-01T00:00:00+00:00"), records("contacts", 1, newest="2026-01-01T00:00:00+00:00")]
    for number, contacts in enumerate(pages):
        for contact in contacts:
            contact["contact_id"] += f"-p{number}"
    with MockedApi() as http:
        for offset, contacts in offset_pages(pages[0] + pages[1] + pages[2]):
            http.get(contacts_page(offset), page("contacts", contacts, offset=offset))
        output = read_stream("contacts", SyncMode.full_refresh, ConfigBuilder().build())

    assert len({r["contact_id"] for r in record_data(output)}) == 201


@freeze_time(NOW)
def test_incremental_keeps_reading_past_old_contacts_and_emits_the_updated_ones():
    updated = a_record("contacts", contact_id="new@c.us", updated_at="2026-11-14T10:00:00.5+00:00")
    old = a_record("contacts", contact_id="old@c.us", updated_at="2026-11-01T10:00:00+00:00")
    with MockedApi() as http:
        http.get(contacts_page(0), page("contacts", [updated, old]))
        output = read_stream("contacts", SyncMode.incremental, ConfigBuilder().build(), state={"updated_at": "2026-11-10T00:00:00Z"})

    assert [r["contact_id"] for r in record_data(output)] == ["new@c.us"]
    assert final_state(output)["updated_at"] >= "2026-11-14T10:00:00Z"
