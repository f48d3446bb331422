"""A faithful fake of the Periskope REST API for integration tests.

    from integration_tests.fake_periskope import FakePeriskope

    with FakePeriskope(seed=42, sizes={"messages": 500}).start() as server:
        requests.get(f"{server.base_url}/chats/messages",
                     headers={"Authorization": f"Bearer {server.api_key}",
                              "x-phone": server.phones[0]["number"]})

Modules: world (who's who), generators (lazy phone streams), tables (small
materialised streams), timeline (paging), store (one organisation's data and
its changes), api (the /v1 endpoints), faults, admin, server (HTTP and the
FakePeriskope class), __main__ (CLI). Behaviour follows the contract in
shared/periskope-api.md; the INFERRED choices are documented in api.py.
"""

from .faults import ALL_KINDS, DEFAULT_KINDS, FaultSettings
from .server import FakePeriskope
from .store import DEFAULT_SIZES, STREAMS

__all__ = ["FakePeriskope", "FaultSettings", "ALL_KINDS", "DEFAULT_KINDS", "DEFAULT_SIZES", "STREAMS"]
