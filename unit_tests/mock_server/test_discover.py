from airbyte_cdk.test.entrypoint_wrapper import discover

from source_periskope import SourcePeriskope
from unit_tests.mock_server.config import ConfigBuilder

EXPECTED = {
    "tickets": ([["ticket_id"]], ["last_updated_at"]),
    "messages": ([["message_id"], ["org_phone"]], ["timestamp"]),
    "chats": ([["chat_id"], ["org_phone"]], ["updated_at"]),
    "contacts": ([["contact_id"]], ["updated_at"]),
    "notifications": ([["notification_id"], ["org_phone"]], ["timestamp"]),
    "notes": ([["message_id"], ["org_phone"]], ["timestamp"]),
    "reactions": ([["reaction_id"], ["org_phone"]], ["timestamp"]),
    "phones": ([["phone_id"]], ["updated_at"]),
}


def test_discover_lists_the_eight_streams_with_keys_cursors_and_modes():
    config = ConfigBuilder().build()
    output = discover(SourcePeriskope(config=config), config)

    streams = {stream.name: stream for stream in output.catalog.catalog.streams}
    assert set(streams) == set(EXPECTED)
    for name, (primary_key, cursor) in EXPECTED.items():
        stream = streams[name]
        assert stream.source_defined_primary_key == primary_key, name
        assert stream.default_cursor_field == cursor, name
        assert stream.source_defined_cursor is True, name
        assert [mode.value for mode in stream.supported_sync_modes] == ["full_refresh", "incremental"], name
        assert stream.json_schema["properties"][cursor[0]]["format"] == "date-time", name


def test_discover_with_an_unusable_phone_is_a_config_error():
    config = ConfigBuilder().with_phone_number("not a phone").build()
    output = discover(SourcePeriskope(config=config), config, expecting_exception=True)

    (error,) = output.errors
    assert error.trace.error.failure_type.value == "config_error"
    assert "phone_number 'not a phone' is not a WhatsApp number" in error.trace.error.message
