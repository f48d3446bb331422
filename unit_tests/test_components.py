"""Each component on its own, on the value shapes the contract documents."""

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.components import EnvelopeRecordExtractor, NormalizeRecord
from source_periskope.normalize import NotATimestamp, label_names, normalize_timestamp, snake_case_id


def response(body, status=200, url="https://api.periskope.app/v1/chats/notifications"):
    made = requests.Response()
    made.status_code = status
    made._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    made.url = url
    return made


def extractor(keys, stream="notifications"):
    return EnvelopeRecordExtractor(config={}, parameters={"name": stream, "records_keys": keys})


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2025-01-24T05:11:10+00:00", "2025-01-24T05:11:10+00:00"),
        ("2025-01-24T05:11:10.691753+00:00", "2025-01-24T05:11:10.691753+00:00"),
        ("2025-01-24T05:11:10.9+00:00", "2025-01-24T05:11:10.9+00:00"),
        ("2024-05-13 11:19:34+00", "2024-05-13T11:19:34+00:00"),
        ("2025-01-24T05:11:10.123Z", "2025-01-24T05:11:10.123+00:00"),
        ("2025-01-24T05:11:10", "2025-01-24T05:11:10+00:00"),
        ("2025-01-24T10:41:10.25+05:30", "2025-01-24T05:11:10.25+00:00"),
        ("2025-01-24T00:30:00-0100", "2025-01-24T01:30:00+00:00"),
        ("2025-01-24", "2025-01-24T00:00:00+00:00"),
    ],
)
def test_timestamps_become_rfc3339_utc_keeping_their_precision(raw, expected):
    assert normalize_timestamp(raw) == expected


@pytest.mark.parametrize("raw", ["1737695471721", "yesterday", "2025-13"])
def test_non_timestamps_are_refused(raw):
    with pytest.raises(NotATimestamp):
        normalize_timestamp(raw)


def test_camel_case_id_becomes_snake_case():
    assert snake_case_id({"fromMe": True, "id": "A", "remote": "r@c.us", "_serialized": "true_r@c.us_A"}) == {
        "from_me": True, "id": "A", "remote": "r@c.us", "serialized": "true_r@c.us_A",
    }
    assert snake_case_id({"fromMe": False, "serialized": "x"}) == {"from_me": False, "serialized": "x"}
    assert snake_case_id({"from_me": True, "_serialized": "x"}) == {"from_me": True, "serialized": "x"}
    snake = {"from_me": True, "id": "A", "remote": "r@c.us", "serialized": "true_r@c.us_A"}
    assert snake_case_id(dict(snake)) == snake
    assert snake_case_id(snake) is snake  # already snake_case: not copied
    assert snake_case_id(None) is None


@pytest.mark.parametrize("key", ["messages", "notifictions", "notifications"])
def test_extractor_finds_records_under_each_known_key(key):
    records = extractor(["messages", "notifictions", "notifications"]).extract_records(
        response({"from": 1, "to": 1, key: [{"notification_id": "n1"}]})
    )
    assert records == [{"notification_id": "n1"}]


def test_extractor_reads_a_bare_array():
    assert extractor([], "phones").extract_records(response([{"phone_id": "p"}])) == [{"phone_id": "p"}]


def test_extractor_treats_a_missing_key_on_an_empty_envelope_as_an_empty_page():
    assert extractor(["messages"]).extract_records(response({"from": 1, "to": 0, "count": 0})) == []
    assert extractor(["messages"]).extract_records(response({"from": 1, "to": 0})) == []


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"from": 1, "to": 5, "count": 5}, "count is 5 but no 'messages' key"),
        ({"messages": {"a": 1}}, "'messages' is a dict, not a list"),
        ({"messages": ["x"]}, "a record that is not an object"),
        (b"<html><body>502 Bad Gateway</body></html>", "an HTML page with status 200"),
        (b'{"messages": [', "a body that is not JSON"),
        ("a string", "a str instead of a list envelope"),
        ({"status": "ok"}, "an object without 'messages', count, from or to"),
    ],
)
def test_extractor_fails_loudly_on_bad_responses_naming_the_stream_and_path(body, problem):
    with pytest.raises(AirbyteTracedException) as error:
        extractor(["messages"]).extract_records(response(body))
    assert error.value.message.startswith("Stream notifications: ")
    assert "/v1/chats/notifications" in error.value.message and problem in error.value.message


def transform(stream, record, phone="919876543210"):
    NormalizeRecord(parameters={"name": stream}).transform(record, stream_slice=StreamSlice(partition={"phone": phone}, cursor_slice={}))
    return record


def test_normalize_parses_json_strings_only_in_object_and_array_fields():
    record = transform("messages", {
        "message_id": "m", "org_phone": "1@c.us", "ack": "3", "body": '{"looks": "like json"}',
        "media": '{"path": "https://x/y.jpg", "mimetype": "image/jpeg"}', "links": "[]", "mentioned_ids": '["a@c.us"]',
        "delivery_info": '{"read": {"919537851844@c.us": 1737711828823}}',
    })
    assert record["media"] == {"path": "https://x/y.jpg", "mimetype": "image/jpeg"}
    assert record["links"] == [] and record["mentioned_ids"] == ["a@c.us"]
    assert record["delivery_info"]["read"]["919537851844@c.us"] == 1737711828823
    assert record["ack"] == "3" and record["body"] == '{"looks": "like json"}'


def test_normalize_keeps_text_that_is_not_json_of_its_type_in_that_type_and_warns_once(caplog):
    normalizer = NormalizeRecord(parameters={"name": "chats"})
    for _ in range(3):
        record = {"chat_id": "c", "org_phone": "1@c.us", "custom_properties": "{broken", "chat_org_phones": "1@c.us", "ai_metadata": "1"}
        normalizer.transform(record)
        assert record["custom_properties"] == {"unparsed_text": "{broken"}
        assert record["chat_org_phones"] == ["1@c.us"] and record["ai_metadata"] == {"unparsed_text": "1"}
    assert caplog.text.count("Stream chats: field custom_properties is text that is not a JSON object") == 1
    assert caplog.text.count("Stream chats: field chat_org_phones is text that is not a JSON array") == 1


def test_normalize_repairs_lone_surrogates_inside_json_text_fields():
    record = transform("messages", {"message_id": "m", "org_phone": "1@c.us", "media": '{"filename": "cut \\ud83d.jpg"}'})
    assert record["media"] == {"filename": "cut \ufffd.jpg"}


def test_extractor_reads_a_body_with_a_lone_surrogate_and_repairs_it(caplog):
    body = b'{"from": 1, "to": 1, "count": 1, "messages": [{"notification_id": "n1", "body": "ok \\ud83d", "id": {"id": "\\udc00x"}}]}'
    (record,) = extractor(["messages"]).extract_records(response(body))
    assert record == {"notification_id": "n1", "body": "ok \ufffd", "id": {"id": "\ufffdx"}}
    assert caplog.text.count("Stream notifications: field body held text cut in the middle of a character") == 1
    assert "field id held text cut" in caplog.text


@pytest.mark.parametrize("value, names", [
    ("vip, Follow up", ["vip", "Follow up"]), (" a ,, b ", ["a", "b"]), ("", []), ("1", ["1"]), ("null", ["null"]),
    ('["a", "b"]', ["a", "b"]), ("[not json", ["[not json"]), (["x"], ["x"]), (None, None),
])
def test_labels_are_names_from_a_list_or_comma_separated_text(value, names):
    assert label_names(value) == names


def test_normalize_fixes_ids_nested_in_latest_message_and_timestamps():
    record = transform("chats", {
        "chat_id": "c", "org_phone": "1@c.us", "updated_at": "2025-01-24 05:11:10.1+00",
        "latest_message": {"id": {"fromMe": True, "_serialized": "s"}}, "closed_at": 1737695471721,
    })
    assert record["latest_message"]["id"] == {"from_me": True, "serialized": "s"}
    assert record["updated_at"] == "2025-01-24T05:11:10.1+00:00"
    assert record["closed_at"] == 1737695471721  # a number in the API: kept


def test_normalize_fills_org_phone_from_the_x_phone_only_when_missing():
    assert transform("reactions", {"reaction_id": "r"})["org_phone"] == "919876543210@c.us"
    assert transform("reactions", {"reaction_id": "r", "org_phone": "1@c.us"})["org_phone"] == "1@c.us"
    assert "org_phone" not in transform("tickets", {"ticket_id": "t"})


def test_a_record_without_its_primary_key_is_kept_with_a_warning(caplog):
    record = transform("tickets", {"subject": "no id"})
    assert record == {"subject": "no id"}
    assert "Stream tickets: field ticket_id (part of the primary key) is missing; the record is emitted as it came" in caplog.text
