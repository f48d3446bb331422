"""Where a sync's state may stand, against the fake server (the connector in-process, the fake over HTTP).

- never below the state the sync started from, even while its first window is still open and a later one has
  closed (a killed sync would otherwise read lookback_days again, and again after every kill);
- never later than the sync's start less the settle margin on the server's clock too: a server whose clock runs
  behind dates a change made during the sync before the connector's bound, and the change would fall below it.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from airbyte_cdk.models import SyncMode

from integration_tests.fake_periskope import FakePeriskope
from integration_tests.support.servers import connector_config
from source_periskope import state
from source_periskope.read_plan import state_text
from unit_tests.mock_server.utils import final_state, read_stream, record_data

ONE_SECOND = timedelta(seconds=1)


def per_number_checkpoints(output, phone):
    found = []
    for message in output.state_messages:
        for entry in message.state.stream.stream_state.__dict__.get("states", []):
            if entry["partition"]["phone"] == phone:
                found.append(entry["cursor"]["timestamp"])
    return found


def test_a_later_window_closing_first_does_not_checkpoint_below_the_saved_state(monkeypatch):
    later_window_checkpointed = threading.Event()
    original = state.SettledStateConverter._get_latest_complete_time

    def checkpoint(converter, slices):
        if len(converter.merge_intervals(slices)) > 1:  # a later window closed while the first is open
            later_window_checkpointed.set()
        return original(converter, slices)

    monkeypatch.setattr(state.SettledStateConverter, "_get_latest_complete_time", checkpoint)
    saved = (datetime.now(timezone.utc) - timedelta(days=5)).replace(microsecond=0)
    first_window_start = state_text(saved - ONE_SECOND - timedelta(days=1))  # lookback_days 1

    def hold_the_first_window(number, path, query):
        if path == "/chats/messages" and query.get("start_time") == first_window_start:
            later_window_checkpointed.wait(timeout=30)

    with FakePeriskope(seed=5, sizes={"messages": 400}).start() as server:
        server.on_request = hold_the_first_window
        config = connector_config(server, additional_phone_numbers=[], window_days=2, lookback_days=1)
        phone = config["phone_number"]
        saved_state = {"states": [{"partition": {"phone": phone}, "cursor": {"timestamp": state_text(saved)}}]}
        output = read_stream("messages", SyncMode.incremental, config, state=saved_state)

    assert later_window_checkpointed.is_set()  # the situation happened
    checkpoints = per_number_checkpoints(output, phone)
    assert len(checkpoints) >= 3 and min(checkpoints) >= state_text(saved), checkpoints  # it was the first window's start


def test_an_update_made_while_its_page_had_been_read_is_not_lost_when_the_server_clock_is_behind():
    """Tickets are listed by creation: the newest ticket, on the first page, is updated while the second page is
    read, then the oldest, on the last page. With the server's clock ten minutes behind, both are dated ten minutes
    before the sync started, past the settle margin (5 minutes): the state must still stay below the first."""
    with FakePeriskope(seed=7, sizes={"tickets": 250}, clock_behind_seconds=600).start() as server:
        by_creation = sorted(server.records("tickets"), key=lambda ticket: ticket["created_at"])
        newest, oldest = by_creation[-1]["ticket_id"], by_creation[0]["ticket_id"]
        lists, updated = [], {}

        def update_while_paging(number, path, query):
            if path == "/tickets":
                lists.append(query)
                if len(lists) == 2:  # the first page has been read
                    updated["newest"] = server.update_record("tickets", newest, subject="changed after its page was read")
                    updated["oldest"] = server.update_record("tickets", oldest, subject="changed before its page was read")

        server.on_request = update_while_paging
        config = connector_config(server, page_size=100, fetch_ticket_closed_by=False)
        first = read_stream("tickets", SyncMode.incremental, config)
        server.on_request = None
        second = read_stream("tickets", SyncMode.incremental, config, state=final_state(first))

    assert len(lists) >= 3 and updated  # three pages; both changes were made during the first sync
    first_subjects = {ticket["ticket_id"]: ticket.get("subject") for ticket in record_data(first)}
    assert first_subjects[oldest] == "changed before its page was read"
    assert first_subjects[newest] != "changed after its page was read"  # its page was read before the change
    second_subjects = {ticket["ticket_id"]: ticket.get("subject") for ticket in record_data(second)}
    assert second_subjects.get(newest) == "changed after its page was read", final_state(first)
