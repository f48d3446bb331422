"""Schema checks for the Periskope streams.

Checks that every ``source_periskope/schemas/<stream>.json``:

* is a valid draft-07 schema with ``additionalProperties: true``;
* requires its primary key fields, typed as non-null strings, and lets every other property be null;
* declares every field of the contract fixtures in ``unit_tests/resource/http/response/<stream>.json`` and
  validates each fixture record as-is;
* declares every field the product brief promises (hard-coded below, from streams-and-fields.md) and every
  column of the stream's table in the API contract (appendix 8 of periskope-api.md).

The expected field lists are copied into this file on purpose: tests must not read ../shared.
"""

import json
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from source_periskope.normalize import from_iso
from unit_tests.stream_table import PHONE_STREAMS
from unit_tests.stream_table import STREAMS as STREAM_TABLE

UNIT_TESTS_DIR = Path(__file__).resolve().parent
CONNECTOR_DIR = UNIT_TESTS_DIR.parent
SCHEMAS_DIR = CONNECTOR_DIR / "source_periskope" / "schemas"
FIXTURES_DIR = UNIT_TESTS_DIR / "resource" / "http" / "response"

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

PRIMARY_KEYS = {name: list(stream.primary_key) for name, stream in STREAM_TABLE.items()}
STREAMS = sorted(PRIMARY_KEYS)

# Envelope of each list endpoint's response: records key (None = bare JSON array) and the other keys it carries.
ENVELOPES = {
    name: (stream.records_key, set() if stream.records_key is None else {"from", "to", "count"} | (
        {"start_time", "end_time"} if name in ("notes", "reactions") else set()))  # notes and reactions echo the window
    for name, stream in STREAM_TABLE.items()
}

# Fields the product brief (streams-and-fields.md) promises per stream.
BRIEF_FIELDS = {
    "tickets": [
        "ticket_id", "subject", "status", "priority", "assignee", "assigned_by", "raised_by", "chat_id",
        "created_at", "last_updated_at", "closed_at", "closed_by", "due_date", "first_assigned_at", "is_deleted",
        "quoted_message_id", "ticket_labels", "ticket_custom_properties", "labels", "custom_properties",
        "freshdesk_metadata", "hubspot_metadata", "zohodesk_metadata",
    ],
    "messages": [
        "message_id", "unique_id", "chat_id", "body", "message_type", "from_me", "sender_phone", "performed_by",
        "timestamp", "updated_at", "has_media", "media", "media_key", "is_forwarded", "forwarding_score", "is_gif",
        "links", "vcards", "location", "ack", "delivery_info", "flag_status", "flag_metadata", "is_deleted",
        "is_starred", "is_ephemeral", "has_quoted_msg", "quoted_message_id", "has_reaction", "reactions",
        "mentioned_ids", "prev_body", "broadcast_id", "broadcast", "poll_info", "poll_results", "org_id",
        "org_phone", "author", "device_type", "id", "invite_v4",
    ],
    "chats": [
        "chat_id", "chat_name", "chat_type", "chat_image", "created_at", "updated_at", "closed_at", "assigned_to",
        "member_count", "message_unread_count", "group_description", "invite_link", "info_admins_only",
        "messages_admins_only", "is_muted", "is_exited", "labels", "label_ids", "custom_properties", "chat_access",
        "flag_count_map", "org_id", "org_phone", "chat_org_phones", "latest_message", "hubspot_metadata",
    ],
    "contacts": [
        "contact_id", "contact_name", "contact_type", "contact_color", "contact_image", "updated_at",
        "is_imported", "is_internal", "is_my_contact", "is_wa_contact", "labels", "label_ids", "chat_ids", "org_id",
    ],
    "notifications": [
        "notification_id", "unique_id", "chat_id", "author", "body", "type", "timestamp", "recipientids",
        "metadata", "org_id", "org_phone", "id",
    ],
    "notes": [
        "message_id", "unique_id", "chat_id", "body", "from_me", "is_private_note", "is_deleted", "performed_by",
        "timestamp", "updated_at", "prev_body", "quoted_message_id", "mentioned_ids", "media", "org_id",
        "org_phone", "sender_phone", "sent_message_id", "ack", "message_type",
    ],
    "reactions": [
        "unique_id", "reaction_id", "message_id", "chat_id", "reaction", "timestamp", "sender_id", "read", "ack",
        "orphan", "orphan_reason", "org_id", "org_phone", "id", "msg_id",
    ],
    "phones": [
        "phone_id", "phone_name", "phone_image", "org_phone", "wa_state", "is_ready", "is_browser_open",
        "qr_code", "created_at", "updated_at", "first_connected_at", "labels", "label_ids", "org_id",
    ],
}

# Table columns per the API contract (appendix 8, Supabase Row types of @periskope/types), plus the derived
# fields the API adds on top of the rows (labels, chat_ids, reactions, member_add_mode, ...).
CONTRACT_FIELDS = {
    "tickets": [
        "assigned_by", "assignee", "chat_id", "close_ticket_metadata", "closed_at", "created_at",
        "custom_properties", "due_date", "first_assigned_at", "freshdesk_metadata", "hubspot_metadata",
        "is_deleted", "label_ids", "last_updated_at", "last_updated_by", "org_id", "priority", "quoted_message_id",
        "raised_by", "response_time", "status", "subject", "ticket_id", "zohodesk_metadata",
        # derived: list adds labels; TicketInfo.ticket adds these
        "labels", "ticket_labels", "ticket_custom_properties", "closed_by", "closed_message",
    ],
    "messages": [
        "ack", "author", "body", "broadcast", "broadcast_id", "chat_id", "delivery_info", "device_type",
        "duration", "flag_metadata", "flag_response_time", "flag_status", "forwarding_score", "from", "from_me",
        "fts", "has_media", "has_quoted_msg", "has_reaction", "id", "invite_v4", "is_deleted", "is_ephemeral",
        "is_forwarded", "is_gif", "is_starred", "is_status", "links", "location", "media", "media_key",
        "mentioned_ids", "message_id", "message_ticket_id", "message_type", "order_id", "org_id", "org_phone",
        "performed_by", "poll_info", "poll_results", "prev_body", "quoted_message_id", "raw_data", "sender_phone",
        "sent_message_id", "timestamp", "to", "token", "unique_id", "updated_at", "vcards",
        # derived: GET /message/{id}
        "reactions",
    ],
    "chats": [
        "add_members_admins_only", "ai_metadata", "assigned_to", "chat_access", "chat_id", "chat_image",
        "chat_name", "chat_org_phones", "chat_type", "closed_at", "created_at", "custom_properties", "flag_count",
        "flag_count_map", "freshdesk_metadata", "group_description", "group_metadata", "hubspot_metadata",
        "info_admins_only", "initiated_by", "invite_link", "is_archived", "is_exited", "is_muted", "label_ids",
        "latest_mention_at", "latest_message", "member_closed_at", "member_count", "member_unread_count",
        "message_unread_count", "messages_admins_only", "org_id", "org_phone", "override_chat_access",
        "parent_community_id", "pinned_messages", "snooze_metadata", "updated_at", "zohodesk_metadata",
        # derived: DOCS list example and TYPES ChatType
        "member_add_mode", "latest_message_timestamp", "members", "active_phone", "common_chats", "labels",
    ],
    "contacts": [
        "business_profile", "contact_color", "contact_id", "contact_image", "contact_lid", "contact_name",
        "contact_type", "id", "is_blocked", "is_business", "is_enterprise", "is_group", "is_imported",
        "is_internal", "is_me", "is_my_contact", "is_user", "is_wa_contact", "label_ids", "name", "number",
        "org_id", "periskope_name", "pushname", "short_name", "updated_at", "verified_level", "verified_name",
        # derived: list adds labels; GET /contacts/{id} adds chat_ids
        "labels", "chat_ids",
    ],
    "notifications": [
        "author", "body", "chat_id", "id", "metadata", "notification_id", "org_id", "org_phone", "recipientids",
        "timestamp", "type", "unique_id",
    ],
    "notes": [
        "ack", "body", "chat_id", "from_me", "is_deleted", "is_private_note", "media", "mentioned_ids",
        "message_id", "message_type", "org_id", "org_phone", "performed_by", "prev_body", "quoted_message_id",
        "sender_phone", "sent_message_id", "timestamp", "unique_id", "updated_at",
    ],
    "reactions": [
        "ack", "chat_id", "id", "message_id", "msg_id", "org_id", "org_phone", "orphan", "orphan_reason",
        "reaction", "reaction_id", "read", "sender_id", "timestamp", "unique_id",
    ],
    "phones": [
        "created_at", "first_connected_at", "is_browser_open", "is_ready", "label_ids", "last_disconnect",
        "library", "org_id", "org_phone", "phone_id", "phone_image", "phone_name", "phone_state", "qr_code",
        "queue_status", "server_image", "server_ip", "server_name", "server_zone", "updated_at", "wa_state",
        "wa_version",
        # derived: PhoneInfoType
        "labels",
    ],
}

# ISO-8601 timestamp fields: {"type": ["null", "string"], "format": "date-time", "airbyte_type": ...}.
TIMESTAMP_FIELDS = {
    "tickets": ["created_at", "last_updated_at", "closed_at", "due_date", "first_assigned_at"],
    "messages": ["timestamp", "updated_at"],
    "chats": ["created_at", "updated_at", "latest_mention_at"],
    "contacts": ["updated_at"],
    "notifications": ["timestamp"],
    "notes": ["timestamp", "updated_at"],
    "reactions": ["timestamp"],
    "phones": ["created_at", "updated_at", "first_connected_at"],
}

# Fields whose type the contract gives in conflicting or unusual ways, pinned so they are not "tidied" away.
PINNED_TYPES = {
    ("messages", "forwarding_score"): ["null", "number", "string"],
    ("messages", "ack"): ["null", "string"],
    ("notes", "ack"): ["null", "string"],
    ("reactions", "ack"): ["null", "integer"],
    ("chats", "closed_at"): ["null", "number", "string"],
    ("chats", "latest_message_timestamp"): ["null", "number"],
    ("chats", "member_add_mode"): ["null", "string"],
    ("tickets", "priority"): ["null", "integer"],
    ("tickets", "response_time"): ["null", "number"],
    ("messages", "flag_response_time"): ["null", "number"],
    ("tickets", "ticket_labels"): ["null", "string"],
    ("messages", "fts"): ["null", "string"],
}

# Streams whose `labels` is an array of label-name strings.
LABEL_ARRAY_STREAMS = ["tickets", "contacts", "phones", "chats"]

# Nested WhatsApp message-id objects: {from_me, id, remote, serialized}.
ID_OBJECTS = [("messages", "id"), ("notifications", "id"), ("reactions", "id"), ("reactions", "msg_id")]


def load_schema(stream):
    return json.loads((SCHEMAS_DIR / f"{stream}.json").read_text())


def load_fixture(stream):
    return json.loads((FIXTURES_DIR / f"{stream}.json").read_text())


def fixture_records(stream):
    body = load_fixture(stream)
    records_key, _ = ENVELOPES[stream]
    return body if records_key is None else body[records_key]


def types_of(prop):
    t = prop.get("type")
    return [t] if isinstance(t, str) else list(t or [])


def test_schema_files_match_streams():
    assert sorted(p.stem for p in SCHEMAS_DIR.glob("*.json")) == STREAMS
    assert sorted(p.stem for p in FIXTURES_DIR.glob("*.json")) == STREAMS


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft7(stream):
    schema = load_schema(stream)
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_07
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    names = list(schema["properties"])
    assert names == sorted(names), "properties must be sorted alphabetically"
    for name, prop in schema["properties"].items():
        assert isinstance(prop.get("description"), str) and prop["description"].strip(), f"{stream}.{name}"
        assert types_of(prop), f"{stream}.{name} has no type"


@pytest.mark.parametrize("stream", STREAMS)
def test_primary_key_required_and_non_null(stream):
    schema = load_schema(stream)
    pk = PRIMARY_KEYS[stream]
    assert schema["required"] == pk
    for field in pk:
        assert schema["properties"][field]["type"] == "string", f"{stream}.{field} must be a non-null string"
    validator = Draft7Validator(schema)
    for field in pk:
        record = {f: "x" for f in pk}
        record[field] = None
        assert not validator.is_valid(record), f"{stream}.{field}: null primary key accepted"
        del record[field]
        assert not validator.is_valid(record), f"{stream}.{field}: missing primary key accepted"


@pytest.mark.parametrize("stream", STREAMS)
def test_other_properties_are_nullable(stream):
    schema = load_schema(stream)
    pk = set(PRIMARY_KEYS[stream])
    not_nullable = [n for n, p in schema["properties"].items() if n not in pk and "null" not in types_of(p)]
    assert not_nullable == []
    # An all-null record (apart from the primary key) is valid.
    record = {n: ("x" if n in pk else None) for n in schema["properties"]}
    assert Draft7Validator(schema).is_valid(record)


@pytest.mark.parametrize("stream", STREAMS)
def test_no_permissive_catch_all_types(stream):
    for name, prop in load_schema(stream)["properties"].items():
        non_null = [t for t in types_of(prop) if t != "null"]
        assert 1 <= len(non_null) <= 2, f"{stream}.{name}: {prop['type']}"
        if "array" in non_null:
            assert "items" in prop or name == "links", f"{stream}.{name}: array without items"


@pytest.mark.parametrize("stream", STREAMS)
def test_timestamps(stream):
    props = load_schema(stream)["properties"]
    for field in TIMESTAMP_FIELDS[stream]:
        assert props[field]["type"] == ["null", "string"], f"{stream}.{field}"
        assert props[field]["format"] == "date-time", f"{stream}.{field}"
        assert props[field]["airbyte_type"] == "timestamp_with_timezone", f"{stream}.{field}"
    declared = sorted(n for n, p in props.items() if p.get("format") == "date-time")
    assert declared == sorted(TIMESTAMP_FIELDS[stream])


def test_pinned_types():
    for (stream, field), expected in PINNED_TYPES.items():
        assert load_schema(stream)["properties"][field]["type"] == expected, f"{stream}.{field}"
    for stream in LABEL_ARRAY_STREAMS:
        labels = load_schema(stream)["properties"]["labels"]
        assert labels["type"] == ["null", "array"] and labels["items"]["type"] == ["null", "string"], stream
    for stream, field in ID_OBJECTS:
        prop = load_schema(stream)["properties"][field]
        assert prop["type"] == ["null", "object"] and prop["additionalProperties"] is True
        nested = {n: [t for t in types_of(p) if t != "null"] for n, p in prop["properties"].items()}
        assert nested["from_me"] == ["boolean"] and nested["id"] == ["string"], f"{stream}.{field}"
        assert nested["remote"] == ["string"] and nested["serialized"] == ["string"], f"{stream}.{field}"
    for stream in PHONE_STREAMS:
        assert "org_phone" in load_schema(stream)["properties"], stream


@pytest.mark.parametrize("stream", STREAMS)
def test_brief_fields_declared(stream):
    props = load_schema(stream)["properties"]
    assert [f for f in BRIEF_FIELDS[stream] if f not in props] == []


@pytest.mark.parametrize("stream", STREAMS)
def test_contract_fields_declared(stream):
    props = load_schema(stream)["properties"]
    assert [f for f in CONTRACT_FIELDS[stream] if f not in props] == []


@pytest.mark.parametrize("stream", STREAMS)
def test_fixture_envelope(stream):
    body = load_fixture(stream)
    records_key, envelope_keys = ENVELOPES[stream]
    if records_key is None:
        assert isinstance(body, list) and body
        return
    assert isinstance(body, dict)
    assert set(body) == envelope_keys | {records_key}
    assert isinstance(body[records_key], list) and body[records_key]
    for key in ("from", "to", "count"):
        assert isinstance(body[key], int), key


@pytest.mark.parametrize("stream", STREAMS)
def test_fixture_fields_declared(stream):
    props = load_schema(stream)["properties"]
    for i, record in enumerate(fixture_records(stream)):
        assert sorted(set(record) - set(props)) == [], f"{stream} record {i} has undeclared fields"
        assert "..." not in record


@pytest.mark.parametrize("stream", STREAMS)
def test_fixture_records_validate(stream):
    validator = Draft7Validator(load_schema(stream))
    problems = [
        f"record {i}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for i, record in enumerate(fixture_records(stream))
        for e in validator.iter_errors(record)
    ]
    assert problems == []


@pytest.mark.parametrize("stream", STREAMS)
def test_fixture_timestamps_parse(stream):
    for i, record in enumerate(fixture_records(stream)):
        for field in TIMESTAMP_FIELDS[stream]:
            value = record.get(field)
            if value is None:
                continue
            parsed = from_iso(value)
            assert parsed.tzinfo is not None, f"{stream} record {i} {field}={value!r} has no offset"
