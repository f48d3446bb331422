"""The slot layout shared by the four lazy, phone-scoped streams (messages,
notifications, notes, reactions): timestamps, ids, chat choice.

A record is a pure function of (seed, phone, index). Index 0 is the newest
record; record i gets a timestamp inside its own time slot
[now - (i+1)*step, now - i*step), so timestamps strictly decrease with the
index. That lets the server slice pages by offset and apply start_time/end_time
with a binary search instead of materialising a million messages.

Overlap between phones: when two or more phones are connected, every
SHARE_PERIOD-th slot of a phone's stream is a *shared* record that lives in a
group chat seen by all connected phones. Shared slot i maps to shared number
i // SHARE_PERIOD on every phone, and its content is derived from that shared
number only, so the same message (same message_id and timestamp) appears
through each phone with that phone's org_phone.

Record ids embed an encrypted (stream, owner, number) triple (see
hashing.IdCodec), so `index_of_key` finds a record from its id in O(1).

The records themselves are built by the TimelineGenerator subclasses in
messages.py, notifications.py, notes.py and reactions.py.
"""

import bisect

import orjson

from .hashing import IdCodec, mix64, percent, salt
from .timefmt import ROUNDING_GRIDS

SHARE_PERIOD = 5  # every 5th slot of a connected phone's stream is shared
SHARED_OWNER = 0
ADDED_OWNER_BASE = 0x100  # owner codes of records created with add_record
MESSAGES, NOTIFICATIONS, NOTES, REACTIONS = 1, 2, 3, 4  # stream tags inside record ids

# Constants that derive a record's further hashes (h2, h3, h4) from its slot hash.
K2, K3, K4 = 0x5851F42D4C957F2D, 0x14057B7EF767814F, 0x2545F4914F6CDD1D


class ChatPicker:
    """Weighted choice of a chat from a hash (busy chats get more records)."""

    def __init__(self, chats):
        self.chats = list(chats)
        # Zero-weight (quiet) chats are never picked, unless every chat is quiet.
        weights = [chat.weight for chat in self.chats]
        if not any(weights):
            weights = [1] * len(weights)
        self.cumulative = []
        total = 0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def __bool__(self):
        return bool(self.chats)

    def pick(self, h: int):
        return self.chats[bisect.bisect_right(self.cumulative, h % self.total)]


class TimelineGenerator:
    """Slot layout, timestamps and id lookup shared by the four lazy streams."""

    stream_tag = 0
    stream_name = ""

    def __init__(self, world, phone, size, codec: IdCodec, json_strings=True):
        self.world = world
        self.phone = phone
        self.size = size
        self.codec = codec
        self.json_strings = json_strings
        self.now_us = world.now_us - phone.quiet_offset_us  # a quiet phone's history ends long ago
        self.odd_index = -1  # the base index that always gets a cut-emoji body (oddtext.guaranteed_index)
        self.step_us = max(1, world.span_us // max(1, size))
        self.private_salt = salt(world.seed, self.stream_name, phone.owner)
        self.shared_salt = salt(world.seed, self.stream_name, SHARED_OWNER)
        self.added_salt = salt(world.seed, self.stream_name, "added", phone.owner)
        chats = world.chats_of(phone)
        self.private_chats = ChatPicker(world.private_chats[phone.ordinal])
        self.shared_chats = ChatPicker(world.shared_chats if phone.sharing else [])
        self.all_chats = ChatPicker(chats)
        self.group_chats = ChatPicker([c for c in world.private_chats[phone.ordinal] if c.is_group])
        self.direct_chats = ChatPicker([c for c in world.private_chats[phone.ordinal] if not c.is_group])

    # -- slots ---------------------------------------------------------------
    def is_shared_slot(self, index: int) -> bool:
        return self.phone.sharing and index % SHARE_PERIOD == 0

    def slot(self, index: int):
        """(owner, number, hash) of base record `index`."""
        if self.is_shared_slot(index):
            number = index // SHARE_PERIOD
            return SHARED_OWNER, number, mix64(self.shared_salt ^ number)
        return self.phone.owner, index, mix64(self.private_salt ^ index)

    def time_us(self, index: int) -> int:
        return self._slot_time(index, self.slot(index)[2])

    def _slot_time(self, index: int, h: int) -> int:
        high = self.now_us - index * self.step_us
        low = high - self.step_us
        exact = low + h % self.step_us
        grid = ROUNDING_GRIDS[(h >> 40) % len(ROUNDING_GRIDS)]
        rounded = exact - exact % grid
        return rounded if rounded >= low else exact  # never leave the slot: keeps order strict

    def index_of(self, owner: int, number: int):
        """Base index of (owner, number) on this phone, or None."""
        if owner == SHARED_OWNER:
            index = number * SHARE_PERIOD if self.phone.sharing else None
        elif owner == self.phone.owner and not self.is_shared_slot(number):
            index = number
        else:
            index = None
        return index if index is not None and index < self.size else None

    def index_of_hex(self, hex_text: str):
        decoded = self.codec.decode_hex(hex_text)
        if decoded is None or decoded[0] != self.stream_tag:
            return None
        return self.index_of(decoded[1], decoded[2])

    def record(self, index: int) -> dict:
        owner, number, h = self.slot(index)
        return self.build(owner, number, h, self._slot_time(index, h), index=index)

    def added_record(self, number: int, time_us: int, chat=None, **hints) -> dict:
        """A new record for add_record: ids from a separate owner code so they never clash."""
        owner = ADDED_OWNER_BASE + self.phone.ordinal
        h = mix64(self.added_salt ^ number)
        return self.build(owner, number, h, time_us, chat=chat, index=None, **hints)

    def field_function(self, field: str):
        """A cheap index -> value function for building per-chat (or per-message) sub-indices."""
        functions = {"chat_id": self.chat_of, "message_id": getattr(self, "message_of", None)}
        return functions[field]

    def chat_of(self, index: int) -> str:
        return self.record(index)["chat_id"]

    def _pick_chat(self, owner: int, h: int, picker=None):
        if owner == SHARED_OWNER:
            return self.shared_chats.pick(h)
        return (picker or self.private_chats).pick(h)

    def _maybe_json_string(self, value, h: int, shift: int):
        """A small, deterministic fraction of JSON fields arrive JSON-encoded as strings."""
        if value is not None and self.json_strings and percent(h, shift) < 3:
            return orjson.dumps(value).decode()
        return value

    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        raise NotImplementedError
