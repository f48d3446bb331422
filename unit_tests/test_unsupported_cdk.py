"""An airbyte-cdk outside the series the hooks were checked against: the command refuses to sync, as a system_error
(the build's fault, not the user's configuration) naming the installed and the supported versions."""

import json

import pytest

from source_periskope.cdk_hooks import SUPPORTED_CDK_SERIES, policy
from source_periskope.entrypoint import launch_source
from unit_tests.mock_server.config import ConfigBuilder


@pytest.fixture
def cdk_7_40(monkeypatch):
    real = policy.installed_version
    monkeypatch.setattr(policy, "installed_version", lambda name: "7.40.0" if name == "airbyte-cdk" else real(name))


@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_the_command_refuses_an_unsupported_cdk_as_a_system_error_naming_both_versions(command, cdk_7_40, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(ConfigBuilder().build()))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"streams": []}))
    args = [command, "--config", str(config)] + (["--catalog", str(catalog)] if command == "read" else [])

    with pytest.raises(SystemExit) as exit_status:
        launch_source(args)

    assert exit_status.value.code == 1
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (error,) = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert error["failure_type"] == "system_error"
    assert "airbyte-cdk 7.40.0" in error["message"] and f"airbyte-cdk {SUPPORTED_CDK_SERIES}.x" in error["message"]
    assert "not misconfigured" in error["message"]
