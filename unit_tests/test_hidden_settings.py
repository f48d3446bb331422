"""base_url is for staging and test servers only: hidden from the Airbyte UI's form (airbyte_hidden), still read
from a config file (the tests, the demo and the standard tests point it at the fake server)."""

import json
import logging
import pkgutil

import requests_mock
from airbyte_cdk.models import Status, SyncMode

from source_periskope import SourcePeriskope
from unit_tests.mock_server.config import ConfigBuilder, PHONE
from unit_tests.mock_server.utils import read_stream, record_data

STAGING = "https://staging.periskope.test/v1"
PHONES = [{"org_phone": f"{PHONE}@c.us", "phone_id": "phone-aaaaaaaaaaaaaaaa", "wa_state": "CONNECTED",
           "updated_at": "2026-11-01T00:00:00+00:00"}]


def test_the_spec_hides_base_url_and_only_base_url_from_the_form():
    spec = SourcePeriskope().spec(logging.getLogger("test")).connectionSpecification
    assert spec == json.loads(pkgutil.get_data("source_periskope", "spec.json"))["connectionSpecification"]
    hidden = [name for name, field in spec["properties"].items() if field.get("airbyte_hidden")]
    assert hidden == ["base_url"]
    assert "base_url" not in spec["required"]


def test_a_base_url_in_the_config_file_is_still_used_by_check_and_read():
    config = {**ConfigBuilder().build(), "base_url": STAGING}
    with requests_mock.Mocker() as http:
        phones = http.get(f"{STAGING}/phones/all", json=PHONES)
        http.get(f"{STAGING}/chats", json={"chats": [], "count": 0})
        status = SourcePeriskope(config=config).check(logging.getLogger("test"), config)
        output = read_stream("phones", SyncMode.full_refresh, config)

    assert status.status == Status.SUCCEEDED, status.message
    assert [record["phone_id"] for record in record_data(output)] == ["phone-aaaaaaaaaaaaaaaa"]
    assert phones.call_count >= 2 and all(request.url.startswith(STAGING) for request in http.request_history)
