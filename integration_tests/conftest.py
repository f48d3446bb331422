import pytest

from integration_tests.container.image import image  # noqa: F401  (the session fixture that builds the image)
from integration_tests.fake_periskope import ORGANISATION_SIZES, FakePeriskope
from integration_tests.support.servers import connector_config  # noqa: F401  (defined there: import it from there)


@pytest.fixture
def fake_server():
    """A fresh fake Periskope (two connected numbers with partly overlapping group chats) per test."""
    with FakePeriskope(seed=7).start() as server:
        yield server


@pytest.fixture
def organisation():
    """A realistic organisation: tickets and contacts several pages long at the default page size, three numbers of
    which the last is quiet (its newest record is four months old), history ending a day before the first sync."""
    with FakePeriskope(seed=11, sizes=ORGANISATION_SIZES, connected_phones=3, quiet_phones=1,
                       history_age_seconds=86_400).start() as server:
        yield server

