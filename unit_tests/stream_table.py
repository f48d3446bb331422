"""The tests' own table of the eight streams, written from the API contract.

The connector reads the same facts from its manifest (source_periskope/stream_facts.py) and the fake server keeps
an independent copy (it is the oracle); unit_tests/test_stream_facts.py checks that the manifest agrees with this.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple


class Stream(NamedTuple):
    path: str
    records_key: Optional[str]  # where the contract's examples put the records (None: a bare array)
    primary_key: Tuple[str, ...]
    cursor: str
    phone_scoped: bool

    @property
    def id_field(self) -> str:
        return self.primary_key[0]


STREAMS = {
    "tickets": Stream("/tickets", "tickets", ("ticket_id",), "last_updated_at", False),
    "messages": Stream("/chats/messages", "messages", ("message_id", "org_phone"), "timestamp", True),
    "chats": Stream("/chats", "chats", ("chat_id", "org_phone"), "updated_at", True),
    "contacts": Stream("/contacts", "contacts", ("contact_id",), "updated_at", False),
    # GET /chats/notifications: the docs put the records under "messages" (the SDK type's "notifictions" is a typo).
    "notifications": Stream("/chats/notifications", "messages", ("notification_id", "org_phone"), "timestamp", True),
    "notes": Stream("/note", "notes", ("message_id", "org_phone"), "timestamp", True),
    "reactions": Stream("/reactions", "reactions", ("reaction_id", "org_phone"), "timestamp", True),
    "phones": Stream("/phones/all", None, ("phone_id",), "updated_at", False),
}
NAMES = tuple(STREAMS)
PHONE_STREAMS = tuple(name for name, stream in STREAMS.items() if stream.phone_scoped)


def key(stream: str, record) -> tuple:
    """A record's primary key values."""
    return tuple(record[field] for field in STREAMS[stream].primary_key)


def keys_of(stream: str, records) -> set:
    """The primary keys of some records, e.g. of everything a fake server holds."""
    return {key(stream, record) for record in records}
