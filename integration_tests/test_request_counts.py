"""What a sync costs in requests, on a realistic organisation with a quiet number and one that goes offline.

- a full sync: one request per page, plus one short page per time window, plus at most 14 probes per stream and
  number (finding where its history begins, whether anything is older than 2009, and confirming it);
- a no-change incremental sync: at most two requests per phone-scoped stream and number (one probe), quiet numbers
  included;
- a number that was offline and delivers its backlog: its records are read by the next sync, for a probe and the
  windows since its state.
"""

from datetime import datetime, timezone

from integration_tests.support.connector import configured_catalog, run
from source_periskope.paging import overlap_for
from integration_tests.support.servers import connector_config
from source_periskope.normalize import from_iso
from unit_tests.stream_table import PHONE_STREAMS, STREAMS

PHONE_PATHS = {name: STREAMS[name].path for name in PHONE_STREAMS}


def read_all(config, sync_mode, state=None):
    discovered = run("discover", config)
    assert discovered.returncode == 0, discovered.output
    catalog = configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode)
    result = run("read", config, catalog=catalog, state=state)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    return result


def numbers(server):
    return [phone["number"] for phone in server.phones if phone["wa_state"] == "CONNECTED"]


def requests_for(server, path, number):
    return [entry for entry in server.request_log if entry[1] == path and entry[3] == number]


def test_a_full_sync_makes_one_request_per_page_plus_one_per_window_and_a_few_probes(organisation):
    page_size = 500
    result = read_all(connector_config(organisation, page_size=page_size, window_days=30), "full_refresh")

    for stream, path in PHONE_PATHS.items():
        for number in numbers(organisation):
            log = requests_for(organisation, path, number)
            pages = [entry for entry in log if entry[2].get("limit") == str(page_size)]
            probes = [entry for entry in log if entry[2].get("limit") == "1"]
            records = len(organisation.records(stream, number))
            # Pages go by time: each repeats the records of the second the previous one ended in (one, mostly).
            windows = len({entry[2].get("start_time") for entry in pages})
            assert len(pages) <= -(-records // (page_size - 1)) + windows, (stream, number, len(pages), records, windows)
            assert len(probes) <= 14, (stream, number, len(probes))  # ~log2(6,500 days / 7), before 2009?, the confirmation
    for stream, path in {"tickets": "/tickets", "contacts": "/contacts"}.items():
        records = len(organisation.records(stream))
        assert records > 2 * page_size  # several pages
        # Offset pages overlap by a few records (paging.py), so each moves the reader on by a little less than a page.
        step = page_size - overlap_for(page_size)
        assert organisation.request_count(path=path) == (records - page_size) // step + 2, stream
    assert organisation.request_count(path="/phones/all") <= 2  # the stream, plus the phone list when ids need resolving
    assert len(result.records("messages")) == len(organisation.records("messages"))


def test_a_no_change_incremental_sync_costs_at_most_two_requests_per_phone_scoped_stream_and_number(organisation):
    config = connector_config(organisation)
    first = read_all(config, "incremental")
    organisation.reset_counts()
    second = read_all(config, "incremental", state=first.final_states())

    for path in PHONE_PATHS.values():
        for number in numbers(organisation):  # the quiet one included
            assert len(requests_for(organisation, path, number)) <= 2, (path, number)
    # Only records changed within the settle margin before the first sync's start are read again.
    assert len(second.records()) < 20, [(r.get("ticket_id"), r.get("message_id")) for r in second.records()]


def test_a_backlog_delivered_when_a_number_comes_back_online_is_read_by_the_next_sync(organisation):
    config = connector_config(organisation)
    first = read_all(config, "incremental")
    number = numbers(organisation)[1]
    newest = max(from_iso(r["timestamp"]) for r in first.records("messages") if r["org_phone"] == f"{number}@c.us")
    # Offline since just after its newest synced message; what it received meanwhile is held back until it reconnects.
    organisation.disconnect(number, started_seconds_ago=(datetime.now(timezone.utc) - newest).total_seconds() - 60)
    backlog = organisation.outage_traffic(number, 30, "messages") + organisation.outage_traffic(number, 5, "notes")
    during = read_all(config, "incremental", state=first.final_states())
    assert not {r["message_id"] for r in during.records("messages")} & {r["message_id"] for r in backlog}

    organisation.reconnect(number)
    organisation.reset_counts()
    after = read_all(config, "incremental", state=during.final_states())

    emitted = {(r["message_id"], r["org_phone"]) for stream in ("messages", "notes") for r in after.records(stream)}
    assert {(r["message_id"], r["org_phone"]) for r in backlog} <= emitted
    for path in ("/chats/messages", "/note"):
        log = requests_for(organisation, path, number)
        assert len([e for e in log if e[2]["limit"] == "1"]) == 1 and len(log) <= 4, (path, log)
