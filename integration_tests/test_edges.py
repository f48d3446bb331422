"""At the edges (issue 21): what a real organisation and a pasted config produce, with the real command against the
fake server. Each situation either leaked the API key, failed every sync until someone intervened, or cost
thousands of requests."""

import pytest

from integration_tests.support.connector import configured_catalog, run
from integration_tests.support.servers import connector_config
from unit_tests.key_leaks import assert_no_key


def catalog_for(config, sync_mode, streams=None):
    discovered = run("discover", {**config, "api_key": "any"})
    assert discovered.returncode == 0, discovered.output
    return configured_catalog(discovered.of_type("CATALOG")[0]["catalog"], sync_mode, streams)


# -- 1. a key pasted with an invisible character ------------------------------------------------------------------
@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\n", "\u00a0"], ids=["zero-width space", "byte-order mark", "line break", "no-break space"])
@pytest.mark.parametrize("command", ["check", "read"])
def test_a_key_with_an_invisible_character_is_one_config_error_that_never_shows_the_key(fake_server, command, invisible):
    key = fake_server.api_key[:6] + invisible + fake_server.api_key[6:] + "-0123456789"
    config = connector_config(fake_server, api_key=key, start_date="2025-01-01")
    catalog = catalog_for(config, "full_refresh", ["tickets", "messages"]) if command == "read" else None
    fake_server.reset_counts()
    result = run(command, config, catalog=catalog, extra_args=["--debug"], key_scan=False)

    assert_no_key(result.output, key)
    assert fake_server.request_count() == 0, "no request is made with a key that cannot be sent"
    if command == "check":
        status = result.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
        assert status["status"] == "FAILED" and "api_key" in status["message"] and "visible ASCII" in status["message"]
    else:
        errors = result.errors()
        assert len(errors) == 1 and errors[0]["failure_type"] == "config_error", result.output[-3000:]
        assert "api_key" in errors[0]["message"] and "visible ASCII" in errors[0]["message"]


# -- 6. a stream in the catalog that the connector does not know --------------------------------------------------
def test_a_stream_the_connector_does_not_know_is_reported_and_the_others_sync(fake_server):
    config = connector_config(fake_server)
    catalog = catalog_for(config, "incremental", ["tickets", "messages"])
    renamed = {**catalog["streams"][1], "stream": {**catalog["streams"][1]["stream"], "name": "messages_v0"}}
    catalog["streams"].append(renamed)
    result = run("read", config, catalog=catalog)

    assert {record["ticket_id"] for record in result.records("tickets")} == {r["ticket_id"] for r in fake_server.records("tickets")}
    assert len(result.records("messages")) == sum(len(fake_server.records("messages", p["number"])) for p in fake_server.phones)
    assert "KeyError" not in result.output
    statuses = {m["trace"]["stream_status"]["stream_descriptor"]["name"]: m["trace"]["stream_status"]["status"]
                for m in result.of_type("TRACE") if m["trace"]["type"] == "STREAM_STATUS"}
    assert statuses.get("tickets") == statuses.get("messages") == "COMPLETE"
    assert statuses.get("messages_v0") == "INCOMPLETE"
    assert "messages_v0" in " ".join(m["log"]["message"] for m in result.of_type("LOG"))


# -- 3. a revoked key on a sync without state --------------------------------------------------------------------
@pytest.mark.parametrize("sync_mode", ["full_refresh", "incremental"])
def test_a_revoked_key_on_a_first_sync_is_one_config_error_after_a_few_requests(fake_server, sync_mode):
    config = connector_config(fake_server, api_key="revoked-key-0123456789")
    catalog = catalog_for(config, sync_mode)
    fake_server.reset_counts()
    result = run("read", config, catalog=catalog)

    streams, numbers = len(catalog["streams"]), len(config["additional_phone_numbers"]) + 1
    assert fake_server.request_count() <= streams * numbers, fake_server.stats()["by_path"]
    assert len(result.output) < 20_000, f"{len(result.output)} bytes of output"
    errors = result.errors()
    assert len(errors) == 1 and errors[0]["failure_type"] == "config_error", [e["message"] for e in errors]
    assert "401" in errors[0]["message"] and "API key" in errors[0]["message"]
    assert not result.records()


# -- 5. a passing outage of /phones/all ----------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["phone id", "sync_all_phones"])
def test_an_outage_of_the_phone_list_is_transient_and_never_reads_a_phone_id_under_another_name(fake_server, option):
    first = fake_server.phones[0]
    if option == "phone id":
        config = connector_config(fake_server, phone_number=first["phone_id"], additional_phone_numbers=[], max_retries=1)
    else:
        config = connector_config(fake_server, sync_all_phones=True, max_retries=1)
    catalog = catalog_for(config, "incremental", ["messages"])
    fake_server.faults.queue("503", count=2, path_contains="/phones/all")
    during = run("read", config, catalog=catalog)

    errors = during.errors()
    assert len(errors) == 1 and errors[0]["failure_type"] == "transient_error", [(e["failure_type"], e["message"]) for e in errors]
    assert "GET /phones/all" in errors[0]["message"] and "503" in errors[0]["message"]
    assert not during.of_type("STATE"), "no state may be saved under a name the next sync does not use"

    after = run("read", config, catalog=catalog)  # the outage is over
    assert not after.errors(), after.output[-2000:]
    partitions = {entry["partition"]["phone"] for entry in after.final_states()[0]["stream"]["stream_state"]["states"]}
    assert first["number"] in partitions and first["phone_id"] not in partitions


# -- 4. sync_all_phones with phones the key cannot read ------------------------------------------------------------
def logs(result):
    return [m["log"]["message"] for m in result.of_type("LOG")]


def test_sync_all_phones_skips_a_listed_phone_that_cannot_be_read_naming_it(fake_server):
    fake_server.unpaired_phones = fake_server.unreadable_phones = 1
    listed = {phone["phone_id"]: phone for phone in fake_server.org.phones_table.all_records()}
    unpaired_id = next(p["phone_id"] for p in run_phones(fake_server) if p["org_phone"] is None)
    unreadable = next(p["org_phone"].split("@")[0] for p in run_phones(fake_server) if p["phone_id"] not in listed and p["org_phone"])
    config = connector_config(fake_server, sync_all_phones=True, additional_phone_numbers=[])

    check = run("check", config)
    assert check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED", check.output[-2000:]
    for name in (unpaired_id, unreadable):
        assert any(name in message and "skipped" in message for message in logs(check)), logs(check)

    result = run("read", config, catalog=catalog_for(config, "incremental", ["messages", "tickets"]))
    assert not result.errors(), [e["message"] for e in result.errors()]
    numbers = [p["number"] for p in fake_server.phones if p["wa_state"] == "CONNECTED"]
    assert {r["org_phone"] for r in result.records("messages")} == {f"{n}@c.us" for n in numbers}
    for name in (unpaired_id, unreadable):
        assert len([m for m in logs(result) if name in m and "skipped" in m]) == 1, logs(result)


def test_a_configured_phone_the_key_cannot_read_stays_an_error(fake_server):
    fake_server.unreadable_phones = 1
    unreadable = next(p["org_phone"].split("@")[0] for p in run_phones(fake_server) if p["org_phone"] and p["org_phone"].startswith("91999990"))
    config = connector_config(fake_server, sync_all_phones=True, additional_phone_numbers=[unreadable])

    check = run("check", config)
    status = check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and f"Phone {unreadable} is not connected" in status["message"]
    result = run("read", config, catalog=catalog_for(config, "incremental", ["messages"]))
    assert [e["failure_type"] for e in result.errors()] == ["config_error"] and unreadable in result.errors()[0]["message"]


def run_phones(server):
    import requests

    return requests.get(f"{server.base_url}/phones/all", headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).json()


# -- 7. a byte that is not UTF-8 ---------------------------------------------------------------------------------
def test_a_response_with_a_latin1_byte_is_read_with_a_replacement_character_and_one_warning(fake_server):
    config = connector_config(fake_server, additional_phone_numbers=[])
    catalog = catalog_for(config, "full_refresh", ["messages"])
    fake_server.faults.queue("not_utf8", count=10_000, path_contains="/chats/messages")  # every answer
    result = run("read", config, catalog=catalog)

    assert not result.errors(), [e["message"] for e in result.errors()]
    number = config["phone_number"]
    assert len(result.records("messages")) == len(fake_server.records("messages", number))
    assert any((record.get("body") or "").startswith("\ufffd") for record in result.records("messages"))
    warnings = [m for m in logs(result) if "not UTF-8" in m]
    assert len(warnings) == 1 and warnings[0].startswith("Stream messages:"), warnings


# -- 2. one record whose detail request keeps failing ------------------------------------------------------------
@pytest.mark.parametrize("fault", ["500", "410", "slow"])
def test_a_detail_that_keeps_failing_for_one_record_is_a_missing_field_not_a_lost_stream(fake_server, fault):
    closed = [t["ticket_id"] for t in fake_server.records("tickets") if t.get("status") == "closed"]
    broken = closed[0]
    # slow: 5 s per answer, longer than request_timeout_seconds (2) but shorter than the plain requests' 10 s.
    fake_server.faults.configure(slow_seconds=5)
    fake_server.faults.queue(fault, count=2, path_contains=f"/tickets/{broken}")  # every attempt (max_retries 1)
    config = connector_config(fake_server, max_retries=1, request_timeout_seconds=2)
    result = run("read", config, catalog=catalog_for(config, "full_refresh", ["tickets"]))

    assert not result.errors(), [e["message"] for e in result.errors()]
    emitted = {t["ticket_id"]: t for t in result.records("tickets")}
    assert set(emitted) == {t["ticket_id"] for t in fake_server.records("tickets")}
    assert emitted[broken].get("closed_by") is None
    assert all(emitted[other].get("closed_by") for other in closed[1:])
    warnings = [m for m in logs(result) if "without closed_by" in m]
    assert len(warnings) == 1 and warnings[0].startswith("Stream tickets: 1 record emitted without closed_by"), warnings
    assert f"/tickets/{broken}" in warnings[0]
