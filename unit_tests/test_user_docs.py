"""docs/periskope.md, the Airbyte user page, in the structure of Airbyte's connector docs and true to the connector."""

import json
import pkgutil
import re
from pathlib import Path

from unit_tests.stream_table import STREAMS

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "periskope.md").read_text()
SECTIONS = ["Prerequisites", "Setup guide", "Supported sync modes", "Supported streams", "Performance considerations",
            "Limitations and troubleshooting", "Changelog"]


def test_the_page_has_airbytes_connector_doc_sections_in_order():
    headings = re.findall(r"^## (.+)$", PAGE, flags=re.MULTILINE)
    assert headings == SECTIONS
    assert "For Airbyte Cloud" in PAGE and "For Airbyte Open Source" in PAGE


def test_the_streams_table_matches_the_streams():
    rows = {}
    for line in PAGE.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in STREAMS:
            rows[cells[0]] = cells
    assert set(rows) == set(STREAMS)
    for name, stream in STREAMS.items():
        _, endpoint, primary_key, cursor, _, _ = rows[name]
        assert endpoint == f"`GET {stream.path}`", name
        assert primary_key == ", ".join(f"`{field}`" for field in stream.primary_key), name
        assert cursor == f"`{stream.cursor}`", name


def test_every_field_of_the_form_is_described_and_the_hidden_one_is_not_in_the_form():
    spec = json.loads(pkgutil.get_data("source_periskope", "spec.json"))["connectionSpecification"]
    for name, field in spec["properties"].items():
        if field.get("airbyte_hidden"):
            assert f"`{name}`" in PAGE, name
        else:
            assert field["title"].split(" (")[0].lower() in PAGE.lower(), field["title"]


def test_the_changelog_names_the_released_version():
    version = re.search(r'^version = "(.+)"$', (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(),
                        flags=re.MULTILINE)[1]
    assert re.search(rf"^\| {re.escape(version)} \| \d{{4}}-\d{{2}}-\d{{2}} \|", PAGE, flags=re.MULTILINE)
