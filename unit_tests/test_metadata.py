"""metadata.yaml as a registry would take it: consistent with spec.json, the Dockerfile and the test suites present."""

import json
import re
from pathlib import Path
from typing import Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent


def metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]


def spec() -> dict:
    return json.loads((ROOT / "source_periskope" / "spec.json").read_text())


def dockerfile_instructions() -> List[str]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#")]


def dockerfile_values(instruction: str) -> List[str]:
    prefix = instruction.upper() + " "
    return [line[len(prefix):].strip() for line in dockerfile_instructions() if line.upper().startswith(prefix)]


def dockerfile_env() -> Dict[str, str]:
    env = {}
    for value in dockerfile_values("ENV"):
        match = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)[= ]\s*"?([^"]*)"?', value)
        assert match, f"cannot read ENV {value}"
        env[match.group(1)] = match.group(2)
    return env


def dockerfile_labels() -> Dict[str, str]:
    labels = {}
    for value in dockerfile_values("LABEL"):
        for key, val in re.findall(r'([\w.-]+)=("[^"]*"|\S+)', value):
            labels[key] = val.strip('"')
    return labels


def test_documentation_urls_name_the_same_page():
    url = metadata()["documentationUrl"]
    assert url == spec()["documentationUrl"], "metadata.yaml and spec.json must point users at the same page"
    assert url.startswith("https://"), url
    # The connector is not in Airbyte's registry: docs.airbyte.com has no page for it.
    assert "docs.airbyte.com" not in url, url


def test_acceptance_suite_is_listed_when_its_config_exists():
    suites = [option["suite"] for option in metadata()["connectorTestSuitesOptions"]]
    assert {"unitTests", "integrationTests"} <= set(suites), suites
    assert len(suites) == len(set(suites)), suites
    if (ROOT / "acceptance-test-config.yml").exists():
        assert "acceptanceTests" in suites, "acceptance-test-config.yml exists but connectorTestSuitesOptions omits it"
    # The standard tests run against the bundled fake server: no secrets to fetch.
    acceptance = [option for option in metadata()["connectorTestSuitesOptions"] if option["suite"] == "acceptanceTests"]
    assert all("testSecrets" not in option for option in acceptance), acceptance


def test_entrypoint_and_airbyte_entrypoint_are_the_same_absolute_path():
    entrypoints = dockerfile_values("ENTRYPOINT")
    assert len(entrypoints) == 1, entrypoints
    command = json.loads(entrypoints[0])  # exec form: a JSON array
    assert isinstance(command, list) and len(command) == 1, command
    airbyte_entrypoint = dockerfile_env()["AIRBYTE_ENTRYPOINT"]
    assert airbyte_entrypoint.startswith("/"), airbyte_entrypoint
    assert command == [airbyte_entrypoint]


def test_docker_repository_and_tag_match_the_dockerfile_labels():
    labels = dockerfile_labels()
    data = metadata()
    assert labels["io.airbyte.name"] == data["dockerRepository"]
    assert labels["io.airbyte.version"] == data["dockerImageTag"]


def test_base_image_matches_the_dockerfile_default():
    base_args = [value for value in dockerfile_values("ARG") if value.startswith("BASE_IMAGE=")]
    assert len(base_args) == 1, base_args
    default = base_args[0].split("=", 1)[1].strip('"')
    base_image = metadata()["connectorBuildOptions"]["baseImage"]
    # Without a digest until release (see the note in metadata.yaml); with one, the tag part must still match.
    assert base_image.split("@sha256:")[0] == default.split("@sha256:")[0], (base_image, default)
