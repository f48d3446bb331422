import json
import logging
import pkgutil

from jsonschema import Draft7Validator

from source_periskope import SourcePeriskope
from source_periskope.source import load_manifest


def spec_file():
    return json.loads(pkgutil.get_data("source_periskope", "spec.json"))


def test_spec_prints_exactly_spec_json():
    spec = SourcePeriskope().spec(logging.getLogger("test"))
    assert spec.connectionSpecification == spec_file()["connectionSpecification"]
    assert "spec" not in load_manifest(), "spec.json is the single source of truth: the manifest must not hold a second spec"


def test_spec_is_valid_and_reads_well_in_the_ui():
    schema = spec_file()["connectionSpecification"]
    Draft7Validator.check_schema(schema)
    assert schema["required"] == ["api_key", "phone_number"]
    properties = schema["properties"]
    assert properties["api_key"]["airbyte_secret"] is True
    orders = [prop["order"] for prop in properties.values()]
    assert sorted(orders) == list(range(len(orders)))
    for name, prop in properties.items():
        assert prop.get("title") and prop.get("description"), name


def test_spec_does_not_reject_what_the_connector_normalises():
    schema = spec_file()["connectionSpecification"]
    assert all("pattern" not in prop for prop in schema["properties"].values())
    validator = Draft7Validator(schema)
    for pasted in ["+91 98765-43210", "0091 98765 43210", "+44 (0)7700 900123", "phone-bqzvyibhmwkaergr"]:
        assert validator.is_valid({"api_key": "k", "phone_number": pasted, "start_date": "2025-01-31"})
