"""NormalizeRecord: each record in the shapes its stream's schema declares, never dropped."""

from airbyte_cdk.sources.types import StreamSlice

from source_periskope.components import NormalizeRecord


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
