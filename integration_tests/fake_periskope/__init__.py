"""A faithful fake of the Periskope REST API for integration tests.

    from integration_tests.fake_periskope import FakePeriskope

    with FakePeriskope(seed=42, sizes={"messages": 500}).start() as server:
        requests.get(f"{server.base_url}/chats/messages",
                     headers={"Authorization": f"Bearer {server.api_key}",
                              "x-phone": server.phones[0]["number"]})

Modules:
  world          who's who: phones (some quiet), labels, agents, contacts, chats
  slots          the slot, timestamp and id layout of the lazy, timestamp-ordered phone streams
  messages       the message stream (messagetext: message bodies, vCards, `fts`)
  notifications  the notification stream (group events and calls)
  notes          the private-note stream
  reactions      the reaction stream
  tables         the small, materialised streams and the by-id shapes
  timeline       paging (LazyTimeline, SortedTable)
  store          one organisation's data and its changes; DEFAULT_SIZES, ORGANISATION_SIZES
  lookups        the by-id views of an organisation's records
  oddtext        odd but valid text (lone surrogates, emoji, RTL, ...) and the JSON fallback
  labelshape     `labels` as an array or a comma-separated string
  late           late arrivals (deliver_late)
  deletions      soft and hard deletes
  outages        a phone going offline and delivering its backlog on reconnect
  schedule       changes at the Nth request (at_request)
  situations     the FakePeriskope methods that stage these situations
  quota          a per-key request quota (fixed window or token bucket) with truthful X-RateLimit-* headers
  api            the /v1 endpoints
  faults         injected faults
  admin          the /_admin API
  handler        one HTTP request: /v1, /_admin or 404, with faults rendered
  server         the FakePeriskope class: lifecycle, switches, records and request accounting
  __main__       the CLI

Behaviour follows the contract in shared/periskope-api.md; the INFERRED
choices are documented in api.py.

Realistic situations, for reproducing connector bugs:

    FakePeriskope(sizes=ORGANISATION_SIZES)             # tickets and contacts several pages long
    fake.deliver_late("messages", phone, 5, 7200)       # past-dated records after a sync
    fake.at_request(3, lambda: fake.update_record(...)) # a change while a client pages
    fake.soft_delete("tickets", "BKT-004"); fake.hard_delete("messages", message_id)
    FakePeriskope(odd_text=False)                       # odd text is on by default
    FakePeriskope(labels_shape="string")                # or "array"; default "mixed"
    FakePeriskope(quiet_phones=1)                       # the last phone's newest record is 125 days old
    fake.disconnect(phone); fake.outage_traffic(phone, 10); fake.reconnect(phone)
    FakePeriskope(quota_per_minute=100)                 # 429s past 100 requests per key per minute
    FakePeriskope(unpaired_phones=1, unreadable_phones=1)  # /phones/all lists phones no x-phone can read (401)
    FakePeriskope(clock_behind_seconds=600)             # its clock (changed records, Date header) 10 min behind
    FakePeriskope(quota_per_minute=40, quota_reset_format="epoch_down", quota_model="token_bucket")
    fake.faults.queue("429_quota_left")                 # a 429 whose headers still report quota left
"""

from .faults import ALL_KINDS, DEFAULT_KINDS, FaultSettings
from .server import FakePeriskope
from .store import CURSOR_FIELDS, DEFAULT_SIZES, KEY_FIELDS, ORGANISATION_SIZES, PHONE_STREAMS, STREAMS, primary_key

__all__ = ["FakePeriskope", "FaultSettings", "ALL_KINDS", "DEFAULT_KINDS", "DEFAULT_SIZES", "ORGANISATION_SIZES",
           "STREAMS", "PHONE_STREAMS", "KEY_FIELDS", "CURSOR_FIELDS", "primary_key"]
