"""Airbyte's standard tests (FAST) for this Python-package connector, in-process, against the fake server.

They read acceptance-test-config.yml (at high strictness) except the keys they reject, which
integration_tests/test_acceptance_files.py checks instead (integration_tests/support/acceptance.py).
"""

import os

import pytest
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase
from boltons.typeutils import classproperty

from integration_tests.container.image import DOCKER
from integration_tests.support import acceptance
from source_periskope import SourcePeriskope


@pytest.fixture(scope="module", autouse=True)
def fake_server_for_the_standard_tests():
    with acceptance.acceptance_server().start() as server:
        yield server


@pytest.fixture
def connector_image_override(image, monkeypatch):
    """The image variants (marker image_tests) run the image built from our Dockerfile, through the docker shim."""
    monkeypatch.setenv("PATH", f"{DOCKER.parent}{os.pathsep}{os.environ['PATH']}")
    return image


@pytest.fixture
def read_from_streams():
    """The image variant of the read test reads every stream (the CDK's default reads none)."""
    return "all"


class TestAirbyteStandardTests(SourceTestSuiteBase):
    connector = SourcePeriskope

    @classproperty
    def acceptance_test_config(cls):
        # The suite reads the file through this property; it rejects expect_records, which our own test checks.
        return acceptance.for_the_standard_tests(acceptance.acceptance_config())

    @classmethod
    def create_connector(cls, scenario):
        # The concurrent source reads its config when it is built, so build it with the scenario's config.
        config = scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True) if scenario else None
        return SourcePeriskope(config=config)
