"""The envelope extractor, on the response shapes the contract documents and the ones it must refuse."""

import io
import json

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_periskope.components import EnvelopeRecordExtractor


def response(body, status=200, url="https://api.periskope.app/v1/chats/notifications"):
    made = requests.Response()
    made.status_code = status
    made.raw = io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode())
    made.url = url
    return made


def extractor(keys, stream="notifications"):
    return EnvelopeRecordExtractor(config={}, parameters={"name": stream, "records_keys": keys})


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


def test_extractor_reads_a_body_with_a_lone_surrogate_and_repairs_it(caplog):
    body = b'{"from": 1, "to": 1, "count": 1, "messages": [{"notification_id": "n1", "body": "ok \\ud83d", "id": {"id": "\\udc00x"}}]}'
    (record,) = extractor(["messages"]).extract_records(response(body))
    assert record == {"notification_id": "n1", "body": "ok \ufffd", "id": {"id": "\ufffdx"}}
    assert caplog.text.count("Stream notifications: field body held text cut in the middle of a character") == 1
    assert "field id held text cut" in caplog.text
