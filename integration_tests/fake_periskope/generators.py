"""Lazy record generators for the four timestamp-ordered, phone-scoped streams.

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
"""

import bisect
import functools
import string

import orjson

from . import oddtext, vocab
from .hashing import MASK64, IdCodec, mix64, percent, pick, salt
from .timefmt import ROUNDING_GRIDS, format_ts

SHARE_PERIOD = 5  # every 5th slot of a connected phone's stream is shared
SHARED_OWNER = 0
ADDED_OWNER_BASE = 0x100  # owner codes of records created with add_record
MESSAGES, NOTIFICATIONS, NOTES, REACTIONS = 1, 2, 3, 4

_K2, _K3, _K4 = 0x5851F42D4C957F2D, 0x14057B7EF767814F, 0x2545F4914F6CDD1D


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


def _uuid_from(codec_hex: str, filler: int) -> str:
    """A version-4 UUID whose random bits carry the 16 encoded hex digits."""
    code = codec_hex.lower()
    rest = format(filler, "016x")
    raw = code[:12] + "4" + code[12:15] + "89ab"[filler & 3] + code[15] + rest[:14]
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def _codec_hex_from_uuid(text: str):
    raw = text.replace("-", "")
    if len(raw) != 32:
        return None
    return raw[:12] + raw[13:16] + raw[17]


class MessageGenerator(TimelineGenerator):
    stream_tag = MESSAGES
    stream_name = "messages"

    # -- the cheap "core" of a message: enough for ids, chat and reactions ----
    def core(self, index: int):
        owner, number, h = self.slot(index)
        return self._core(owner, number, h)

    def _core(self, owner, number, h, chat=None):
        h2 = mix64(h ^ _K2)
        if owner == SHARED_OWNER:
            chat = chat or self.shared_chats.pick(h2)
            from_me = False  # shared messages come from other members: from_me would differ per phone
        else:
            chat = chat or self.private_chats.pick(h2)
            from_me = (h2 >> 40) % 100 < (20 if chat.is_group else 50)
        # WhatsApp message ids in the three common client styles.
        code = self.codec.encode_hex(MESSAGES, owner, number)
        style = (h2 >> 60) % 3
        if style == 0:
            wa_id = f"3EB0{code}{h2 ^ 0xA5A5A5A5A5A5A5A5:016X}{h2 & 0xFFFF:04X}"  # web: 40 chars
        elif style == 1:
            wa_id = f"3A{code}{h2 & 0xFF:02X}"  # iPhone: 20 chars
        else:
            wa_id = f"{code}{h2 ^ 0xA5A5A5A5A5A5A5A5:016X}"  # Android: 32 chars
        message_id = f"{'true' if from_me else 'false'}_{chat.chat_id}_{wa_id}"
        return chat, from_me, wa_id, message_id, h2

    def index_of_key(self, message_id: str):
        wa_id = message_id.rsplit("_", 1)[-1]
        if len(wa_id) == 40 and wa_id.startswith("3EB0"):
            code = wa_id[4:20]
        elif len(wa_id) == 20 and wa_id.startswith("3A"):
            code = wa_id[2:18]
        elif len(wa_id) == 32:
            code = wa_id[:16]
        else:
            return None
        index = self.index_of_hex(code)
        if index is None or self.core(index)[3] != message_id:
            return None
        return index

    def chat_of(self, index: int) -> str:
        owner, _number, h = self.slot(index)
        return self._pick_chat(owner, mix64(h ^ _K2)).chat_id

    def has_reaction(self, index: int) -> bool:
        return _has_reaction(self.slot(index)[2])

    # -- full record -----------------------------------------------------------
    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        chat, from_me, wa_id, message_id, h2 = self._core(owner, number, h, chat)
        h3 = mix64(h ^ _K3)
        h4 = (h3 * _K4 + h2) & MASK64  # a cheap fourth hash: independent enough of h2 and h3 alone
        kind = vocab.MESSAGE_TYPE_TABLE[h3 % len(vocab.MESSAGE_TYPE_TABLE)]
        record = dict(_MESSAGE_DEFAULTS)  # 52 columns, all null; copying is cheaper than listing them
        record["author"], record["sender_phone"] = self._author_and_sender(chat, from_me, h3)
        record["chat_id"] = chat.chat_id
        record["from_me"] = from_me
        record["id"] = {"from_me": from_me, "id": wa_id, "remote": chat.chat_id, "serialized": message_id}
        record["mentioned_ids"] = self._mentions(chat, from_me, h4)
        record["message_id"] = message_id
        record["message_type"] = kind
        record["org_id"] = self.world.org_id
        record["org_phone"] = self.phone.jid
        record["timestamp"] = format_ts(time_us)
        record["unique_id"] = wa_id
        if (h >> 52) % 100 < 12 and (h >> 8) % 10:  # _has_reaction, inlined; 1 in 10 left null
            record["has_reaction"] = True
        self._fill_content(record, kind, chat, wa_id, h3, h4)
        if kind == "chat" and record["body"] is not None and self.world.odd_text:
            record["body"] = oddtext.message_body(record["body"], h, index == self.odd_index)
        self._fill_sending(record, chat, from_me, kind, time_us, h3, h4)
        self._fill_flags(record, kind, h3, h4)
        # updated_at: a little after the timestamp (hours later if edited), never after `now`.
        updated_us = time_us + 50_000 + (h4 >> 24) % 3_000_000
        if record["prev_body"] is not None:
            updated_us += h4 % 3_600_000_000
        record["updated_at"] = format_ts(min(updated_us, max(time_us, self.now_us - 1)))
        if index is not None and (h3 >> 24) % 100 < 6:  # some are replies (when the chat matches)
            quoted = self._quoted_message_id(index, owner, chat)
            if quoted:
                record["has_quoted_msg"] = True
                record["quoted_message_id"] = quoted
        return record

    def _fill_content(self, record, kind, chat, wa_id, h3, h4):
        """body, media and the type-specific JSON columns."""
        if (h4 >> 10) % 100 == 0:  # about 1% deleted for everyone: no content left
            record["is_deleted"] = True
            return
        body, url, template = self._body(kind, chat, h3, h4)
        record["body"] = body
        record["fts"] = _fts(template)  # from the template: cached, and close enough for a search column
        if url:
            record["links"] = [{"link": url, "isSuspicious": False}]
        elif (h4 >> 40) % 100 < 8:
            record["links"] = "[]"  # SEEN: links as the string "[]"
        if kind in vocab.MEDIA_KINDS:
            media = self._media(kind, wa_id, h4)
            record["media"] = self._maybe_json_string(media, h4, 30)
            record["media_key"] = f"{h4:016x}{h3:016x}"
            record["has_media"] = True
            if kind != "document" and kind != "sticker":
                record["duration"] = str(3 + h4 % 180) if kind != "image" else None
            record["is_gif"] = True if kind == "video" and (h4 >> 44) % 4 == 0 else None
        elif kind == "location":
            record["location"] = self._location(h4)
        elif kind == "vcard":
            record["vcards"] = [body]
        elif kind == "poll_creation":
            record["poll_info"] = self._poll_info(h4)
        elif kind == "chat" and (h4 >> 20) % 100 < 2:  # about 2% edited
            record["prev_body"] = "Hello, original text"

    def _fill_sending(self, record, chat, from_me, kind, time_us, h3, h4):
        """Columns that only outgoing messages have: ack, delivery, agent, broadcast."""
        if not from_me:
            record["device_type"] = _INCOMING_DEVICES[(h3 >> 40) % 4]
            return
        roll = (h3 >> 44) % 100  # who sent it: an agent in Periskope, the API, or the phone itself
        if roll < 55:
            record["performed_by"] = self.world.agents[(h3 >> 54) % len(self.world.agents)]
        elif roll < 80:
            record["performed_by"] = "api"
        record["device_type"] = "web" if roll < 80 else ("android", "ios")[(h3 >> 40) & 1]
        record["ack"] = ("2", "3", "3", "3", "4" if kind == "ptt" else "3", "1")[h4 % 6]
        delivery_info = self._delivery_info(chat, time_us, h4)
        record["delivery_info"] = self._maybe_json_string(delivery_info, h4, 30)
        if kind == "poll_creation":
            record["poll_results"] = {"Yes": [], "No": []}
        if (h4 >> 60) == 0:  # about 6% broadcasts
            record["broadcast"] = True
            record["broadcast_id"] = f"broadcast-{h3 & 0xFFFFFF:06x}"

    def _fill_flags(self, record, kind, h3, h4):
        if (h3 >> 50) % 100 < 5:
            record["is_forwarded"] = True
            record["forwarding_score"] = 1 + (h3 >> 8) % 4
        if (h3 >> 30) % 100 < 2:
            record["is_starred"] = True
        if (h4 >> 50) % 100 == 0:
            agents = self.world.agents
            record["flag_status"] = True
            record["flag_metadata"] = {"flagged_by": agents[h4 % len(agents)], "status": "open"}
            record["flag_response_time"] = int(h4 % 7200)

    def _author_and_sender(self, chat, from_me, h3):
        phone_jid = self.phone.jid
        if not chat.is_group:
            return None, phone_jid if from_me else chat.chat_id
        if from_me or not chat.members:
            return phone_jid, phone_jid
        member = chat.members[(h3 >> 8) % len(chat.members)]
        return member, member

    def _body(self, kind, chat, h3, h4):
        """(body, url in it, template it came from) for a message."""
        if kind == "chat":
            template = vocab.MESSAGE_TEMPLATES[(h3 >> 16) % len(vocab.MESSAGE_TEMPLATES)]
        elif kind in ("image", "video", "document"):
            template = vocab.CAPTIONS[(h3 >> 16) % len(vocab.CAPTIONS)]
        elif kind == "vcard":
            body = _vcard_text(h4)
            return body, None, body
        elif kind == "poll_creation":
            return _POLL_QUESTION, None, _POLL_QUESTION
        else:
            return None, None, None
        if template is None or "{" not in template:
            return template, None, template
        # Only build the placeholder values this template uses: formatting runs per record.
        values = {name: _PLACEHOLDER_VALUES[name](chat, h4) for name in _placeholders(template)}
        return template.format(**values), values.get("url"), template

    def _media(self, kind, wa_id, h4):
        mimetype, extension = vocab.MEDIA_KINDS[kind]
        filename = f"{wa_id[-10:].lower()}.{extension}"
        media = {
            "path": f"https://storage.googleapis.com/periskope-attachments/{self.world.org_id}/{filename}",
            "mimetype": mimetype,
            "filename": filename,
            "size": 2_000 + h4 % 4_000_000,
        }
        if kind in ("image", "video", "sticker"):
            media["dimensions"] = dict(_DIMENSIONS[h4 & 1])
        return media

    def _delivery_info(self, chat, time_us, h4):
        """Who got and read an outgoing message, with epoch-millisecond times."""
        sent_ms = time_us // 1000
        recipients = chat.members[:3] if chat.is_group else [chat.chat_id]
        delivered = {jid: sent_ms + 400 + (h4 >> (8 * n)) % 90_000 for n, jid in enumerate(recipients)}
        read = {jid: ms + (h4 >> 3) % 3_600_000 for jid, ms in delivered.items() if (h4 >> 5) & 1}
        return {
            "delivered": delivered,
            "delivered_count": len(delivered),
            "pending": [],
            "read": read,
            "read_count": len(read),
        }

    def _location(self, h4):
        return {
            "latitude": (18_000 + h4 % 10_000) / 1000,
            "longitude": (72_000 + (h4 >> 16) % 10_000) / 1000,
            "description": vocab.CITIES[(h4 >> 32) % len(vocab.CITIES)],
        }

    def _mentions(self, chat, from_me, h4):
        if chat.is_group and chat.members and not from_me and percent(h4, 44) < 10:
            return [chat.members[(h4 >> 4) % len(chat.members)]]
        return []

    def _poll_info(self, h4):
        options = ["10 AM", "2 PM", "5 PM"]
        return {
            "pollName": _POLL_QUESTION,
            "pollOptions": [{"name": name, "localId": n} for n, name in enumerate(options)],
            "allowMultipleAnswers": bool(h4 & 2),
        }

    def _quoted_message_id(self, index, owner, chat):
        """The id of a slightly older message of the same chat, if one is near."""
        shared = owner == SHARED_OWNER
        stride = SHARE_PERIOD if shared else 1
        for candidate in range(index + stride, min(self.size, index + 4 * stride), stride):
            if self.is_shared_slot(candidate) == shared and self.chat_of(candidate) == chat.chat_id:
                return self.core(candidate)[3]
        return None


_INCOMING_DEVICES = ("android", "ios", "web", None)
_DIMENSIONS = ({"width": 1280, "height": 720, "ar": 1.7778}, {"width": 1080, "height": 1920, "ar": 0.5625})
_POLL_QUESTION = "Which slot works for the demo?"


def _has_reaction(h: int) -> bool:
    return (h >> 52) % 100 < 12


_MESSAGE_COLUMNS = (
    "ack", "author", "body", "broadcast", "broadcast_id", "chat_id", "delivery_info", "device_type",
    "duration", "flag_metadata", "flag_response_time", "flag_status", "forwarding_score", "from",
    "from_me", "fts", "has_media", "has_quoted_msg", "has_reaction", "id", "invite_v4", "is_deleted",
    "is_ephemeral", "is_forwarded", "is_gif", "is_starred", "is_status", "links", "location", "media",
    "media_key", "mentioned_ids", "message_id", "message_ticket_id", "message_type", "order_id",
    "org_id", "org_phone", "performed_by", "poll_info", "poll_results", "prev_body",
    "quoted_message_id", "raw_data", "sender_phone", "sent_message_id", "timestamp", "to", "token",
    "unique_id", "updated_at", "vcards",
)  # TYPES tbl_chat_messages, in the alphabetical order of the DOCS example
_MESSAGE_DEFAULTS = dict.fromkeys(_MESSAGE_COLUMNS)
assert len(_MESSAGE_DEFAULTS) == 52


@functools.lru_cache(maxsize=1024)
def _fts(text):
    """A Postgres tsvector-ish rendering of a message text (column `fts`)."""
    if not text:
        return None
    words = [word for word in text.lower().split() if "{" not in word][:8]
    return " ".join(f"'{word}':{position}" for position, word in enumerate(words, 1))


@functools.lru_cache(maxsize=None)
def _placeholders(template: str) -> tuple:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


_PLACEHOLDER_VALUES = {
    "name": lambda chat, h: chat.name.split(" ")[0],
    "order": lambda chat, h: f"OD{h % 10_000_000:07d}",
    "amount": lambda chat, h: f"{(h >> 8) % 50_000:,}",
    "url": lambda chat, h: f"{vocab.URL_HOSTS[h % 3]}{h % 1_000_000:06d}",
    "date": lambda chat, h: f"{1 + (h >> 12) % 28} {('Jan', 'Feb', 'Mar', 'Apr')[(h >> 20) % 4]}",
    "city": lambda chat, h: vocab.CITIES[(h >> 24) % len(vocab.CITIES)],
}


def _vcard_text(h: int) -> str:
    number = f"91{9_000_000_000 + h % 999_999_999}"
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:Contact {h % 997}\nTEL;type=CELL;waid={number}:+{number}\nEND:VCARD"


class NotificationGenerator(TimelineGenerator):
    stream_tag = NOTIFICATIONS
    stream_name = "notifications"

    def _chat_for(self, owner, h2):
        if owner == SHARED_OWNER:
            return self.shared_chats.pick(h2)
        # Mostly group events; ~15% are calls in one-to-one chats.
        if self.direct_chats and (percent(h2, 30) < 15 or not self.group_chats):
            return self.direct_chats.pick(h2)
        return (self.group_chats or self.all_chats).pick(h2)

    def chat_of(self, index: int) -> str:
        owner, _number, h = self.slot(index)
        return self._chat_for(owner, mix64(h ^ _K2)).chat_id

    def _hex_id(self, owner, number, h2) -> str:
        return (self.codec.encode_hex(self.stream_tag, owner, number) + format(mix64(h2), "016x")).lower()

    def index_of_key(self, notification_id: str):
        parts = notification_id.split("_")
        if len(parts) < 3:
            return None
        index = self.index_of_hex(parts[2][:16])
        if index is None or self.record(index)["notification_id"] != notification_id:
            return None
        return index

    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        h2 = mix64(h ^ _K2)
        chat = chat or self._chat_for(owner, h2)
        kind = pick(vocab.GROUP_NOTIFICATION_TYPES, h2 >> 8) if chat.is_group else "call"
        from_me = owner != SHARED_OWNER and percent(h2, 20) < 25
        members = chat.members or [chat.chat_id]
        position = (h2 >> 36) % len(members)
        author = self.phone.jid if from_me else members[position]
        # The member the event is about: someone other than a member-author when possible.
        target = members[(position + 1 + (h2 >> 44) % max(1, len(members) - 1)) % len(members)]
        hex_id = self._hex_id(owner, number, h2)
        notification_id = f"{'true' if from_me else 'false'}_{chat.chat_id}_{hex_id}_{author}_{kind}"
        return {
            "author": author,
            "body": _notification_body(kind, chat),
            "chat_id": chat.chat_id,
            "id": {"fromMe": from_me, "id": hex_id, "remote": chat.chat_id, "serialized": notification_id},
            "metadata": {"isVideo": bool(h2 & 1), "outgoing": from_me, "callId": hex_id[:20].upper()}
            if kind == "call"
            else None,
            "notification_id": notification_id,
            "org_id": self.world.org_id,
            "org_phone": self.phone.jid,
            "recipientids": [target] if kind in ("add", "remove", "promote", "demote") else [],
            "timestamp": format_ts(time_us),
            "type": kind,
            "unique_id": hex_id,
        }


def _notification_body(kind, chat):
    if kind == "subject":
        return chat.name
    if kind == "desc":
        return f"Official group for {chat.name}. Be respectful."
    return None


class NoteGenerator(TimelineGenerator):
    """Private notes: never shared between phones."""

    stream_tag = NOTES
    stream_name = "notes"

    def is_shared_slot(self, index: int) -> bool:
        return False

    def _chat_for(self, h2):
        return self.all_chats.pick(h2)

    def chat_of(self, index: int) -> str:
        return self._chat_for(mix64(self.slot(index)[2] ^ _K2)).chat_id

    def index_of_key(self, message_id: str):
        parts = message_id.split("_", 2)
        code = _codec_hex_from_uuid(parts[1]) if len(parts) == 3 else None
        index = self.index_of_hex(code) if code else None
        if index is None or self.record(index)["message_id"] != message_id:
            return None
        return index

    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        h2 = mix64(h ^ _K2)
        h3 = mix64(h ^ _K3)
        chat = chat or self._chat_for(h2)
        note_uuid = _uuid_from(self.codec.encode_hex(self.stream_tag, owner, number), h3)
        agents = self.world.agents
        performed_by = "api" if percent(h3, 10) < 30 else agents[(h3 >> 20) % len(agents)]
        mentioned_agent = agents[(h3 >> 30) % len(agents)]
        template = vocab.NOTE_TEMPLATES[(h2 >> 8) % len(vocab.NOTE_TEMPLATES)]
        body = template.format(agent=mentioned_agent, date=format_ts(time_us)[:10])
        if self.world.odd_text:
            body = oddtext.note_body(body, h, index == self.odd_index)
        kind = ("chat",) * 17 + ("image", "audio", "document")
        message_type = kind[(h2 >> 24) % len(kind)]
        edited = percent(h3, 40) < 5
        updated_us = time_us + ((h3 >> 16) % 86_400_000_000 if edited else 0)
        updated_us = min(updated_us, max(time_us, self.now_us - 1))
        return {
            "ack": ("3", "3", "3", "2", None)[(h2 >> 32) % 5],
            "body": body,
            "chat_id": chat.chat_id,
            "from_me": True,
            "is_deleted": True if percent(h3, 50) == 0 else None,
            "is_private_note": True,
            "media": self._maybe_json_string(self._note_media(message_type, note_uuid, h3), h3, 56),
            "mentioned_ids": [mentioned_agent] if template.startswith("@") else [],
            "message_id": f"true_{note_uuid}_{performed_by}",
            "message_type": message_type,
            "org_id": self.world.org_id,
            "org_phone": self.phone.jid,
            "performed_by": performed_by,
            "prev_body": "first draft of this note" if edited else None,
            "quoted_message_id": None,
            "sender_phone": self.phone.jid,
            "sent_message_id": note_uuid,
            "timestamp": format_ts(time_us),
            "unique_id": note_uuid,
            "updated_at": format_ts(updated_us),
        }

    def _note_media(self, message_type, note_uuid, h3):
        if message_type == "chat":
            return None
        mimetype, extension = vocab.MEDIA_KINDS[message_type]
        filename = f"note-{note_uuid[:8]}.{extension}"
        return {
            "path": f"https://storage.googleapis.com/periskope-attachments/{self.world.org_id}/{filename}",
            "filename": filename,
            "mimetype": mimetype,
        }


class ReactionGenerator(TimelineGenerator):
    """Reactions point at real, older messages of the same phone that have has_reaction set."""

    stream_tag = REACTIONS
    stream_name = "reactions"

    def __init__(self, world, phone, size, codec, messages: MessageGenerator, json_strings=True):
        super().__init__(world, phone, size, codec, json_strings)
        self.messages = messages

    def _target_index(self, owner, h, time_us):
        """A message older than the reaction, with has_reaction; None if there is none."""
        messages = self.messages
        if messages.size == 0:
            return None
        # First message index whose whole slot is older than the reaction time.
        first = max(0, -(-(messages.now_us - time_us) // messages.step_us))
        first += (mix64(h ^ _K3) >> 8) % 8
        shared = owner == SHARED_OWNER
        stride = SHARE_PERIOD if shared else 1
        if shared:
            first = -(-first // SHARE_PERIOD) * SHARE_PERIOD
        for candidate in range(first, min(messages.size, first + 60 * stride), stride):
            if messages.is_shared_slot(candidate) == shared and messages.has_reaction(candidate):
                return candidate
        return None

    def _target(self, owner, h, time_us):
        index = self._target_index(owner, h, time_us)
        if index is None:
            return None
        chat, from_me, wa_id, message_id, _ = self.messages.core(index)
        return {"chat": chat, "from_me": from_me, "wa_id": wa_id, "message_id": message_id}

    def chat_of(self, index: int) -> str:
        target = self._target_for_index(index)
        return target["chat"].chat_id if target else self._orphan_chat(index).chat_id

    def message_of(self, index: int) -> str:
        return self.record(index)["message_id"]

    def _target_for_index(self, index):
        owner, _number, h = self.slot(index)
        return self._target(owner, h, self._slot_time(index, h))

    def _orphan_chat(self, index):
        owner, _number, h = self.slot(index)
        return self._pick_chat(owner, mix64(h ^ _K2))

    def index_of_key(self, reaction_id: str):
        wa_id = reaction_id.rsplit("_", 1)[-1]
        index = self.index_of_hex(wa_id[:16]) if len(wa_id) == 32 else None
        if index is None or self.record(index)["reaction_id"] != reaction_id:
            return None
        return index

    def build(self, owner, number, h, time_us, chat=None, index=None, target=None, **hints) -> dict:
        h2 = mix64(h ^ _K2)
        if target is None and index is not None:
            target = self._target(owner, h, time_us)
        orphan = target is None
        if orphan:  # reacted-to message is not (or no longer) in the message history
            orphan_chat = chat or self._pick_chat(owner, h2)
            orphan_wa_id = format(mix64(h2 ^ 1), "016X") + format(mix64(h2 ^ 2), "016X")
            target = {"chat": orphan_chat, "from_me": False, "wa_id": orphan_wa_id,
                      "message_id": f"false_{orphan_chat.chat_id}_{orphan_wa_id}"}
        chat = target["chat"]
        from_me = owner != SHARED_OWNER and percent(h2, 8) < 30
        if from_me:
            sender = self.phone.jid
        else:
            sender = chat.members[(h2 >> 20) % len(chat.members)] if chat.members else chat.chat_id
        wa_id = self.codec.encode_hex(self.stream_tag, owner, number) + format(mix64(h2), "016X")
        reaction_id = f"{'true' if from_me else 'false'}_{chat.chat_id}_{wa_id}"
        emoji = "" if percent(h2, 30) < 3 else pick(vocab.EMOJIS, h2 >> 40)  # "" = reaction removed
        return {
            "org_id": self.world.org_id,
            "message_id": target["message_id"],
            "ack": (1 + (h2 >> 50) % 3) if from_me else None,
            "id": {"id": wa_id, "remote": chat.chat_id, "from_me": from_me, "serialized": reaction_id},
            "orphan": 1 if orphan else None,
            "reaction": emoji,
            "read": bool((h2 >> 56) & 1) or from_me,
            "reaction_id": reaction_id,
            "timestamp": format_ts(time_us),
            "msg_id": {
                "id": target["wa_id"],
                "remote": chat.chat_id,
                "from_me": target["from_me"],
                "serialized": target["message_id"],
            },
            "orphan_reason": "message_not_found" if orphan else None,
            "sender_id": sender,
            "org_phone": self.phone.jid,
            "chat_id": chat.chat_id,
            "unique_id": target["wa_id"],
        }
