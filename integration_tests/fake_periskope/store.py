"""The data of one organisation: phones, their streams, and changes made by tests.

Streams and their order (contract "Ordering"):
  messages, notifications, notes, reactions  newest `timestamp` first  (lazy, per phone)
  chats                                       newest `updated_at` first  (per phone)
  tickets                                     newest `created_at` first  (org)
  contacts                                    newest `updated_at` first  (org)
  phones                                      oldest `created_at` first  (org)
"""

import random
import threading
import time

from . import labelshape, oddtext, tables
from .hashing import IdCodec, salt
from .lookups import ByIdLookups
from .messages import MessageGenerator
from .notes import NoteGenerator
from .notifications import NotificationGenerator
from .reactions import ReactionGenerator
from .timefmt import format_ts, parse_record_ts, to_epoch_us
from .timeline import LazyTimeline, SortedTable
from .outages import Outages
from .world import ChatMeta, Contact, build_world, random_mobile

STREAMS = ("tickets", "messages", "chats", "contacts", "notifications", "notes", "reactions", "phones")
PHONE_STREAMS = ("chats", "messages", "notifications", "notes", "reactions")
ORG_STREAMS = ("tickets", "contacts", "phones")
KEY_FIELDS = {
    "tickets": "ticket_id",
    "messages": "message_id",
    "chats": "chat_id",
    "contacts": "contact_id",
    "notifications": "notification_id",
    "notes": "message_id",
    "reactions": "reaction_id",
    "phones": "phone_id",
}
# The field each stream's records are ordered and filtered by, as a client's incremental cursor would use it.
CURSOR_FIELDS = {
    "tickets": "last_updated_at",
    "messages": "timestamp",
    "chats": "updated_at",
    "contacts": "updated_at",
    "notifications": "timestamp",
    "notes": "timestamp",
    "reactions": "timestamp",
    "phones": "updated_at",
}


def primary_key(stream):
    """The fields that identify a record as a client stores it: phone-scoped records are per org phone."""
    return (KEY_FIELDS[stream], "org_phone") if stream in PHONE_STREAMS else (KEY_FIELDS[stream],)

# Per phone for phone-scoped streams, per organisation for the others.
DEFAULT_SIZES = {
    "chats": 40,
    "messages": 500,
    "notifications": 60,
    "notes": 50,
    "reactions": 120,
    "tickets": 80,
    "contacts": 150,
}
# A realistic organisation: tickets and contacts run to several pages of 1000.
ORGANISATION_SIZES = {
    "chats": 120,
    "messages": 5_000,
    "notifications": 300,
    "notes": 200,
    "reactions": 600,
    "tickets": 2_600,
    "contacts": 3_300,
}
# Which field an update bumps to "now" (unless the caller sets it).
BUMPED_FIELDS = {
    "messages": "updated_at",
    "notes": "updated_at",
    "chats": "updated_at",
    "contacts": "updated_at",
    "tickets": "last_updated_at",
    "phones": "updated_at",
}
LATEST_MESSAGE_SCAN = 4000  # how many newest messages to scan for each chat's latest_message


class PhoneData:
    """The phone-scoped streams of one phone."""

    def __init__(self, world, phone, sizes, codec, json_strings, labels_shape="mixed"):
        self.phone = phone
        message_generator = MessageGenerator(world, phone, sizes["messages"], codec, json_strings)
        self.generators = {
            "messages": message_generator,
            "notifications": NotificationGenerator(world, phone, sizes["notifications"], codec, json_strings),
            "notes": NoteGenerator(world, phone, sizes["notes"], codec, json_strings),
            "reactions": ReactionGenerator(world, phone, sizes["reactions"], codec, message_generator, json_strings),
        }
        if world.odd_text:  # before anything caches a record: these indices change their bodies
            message_generator.odd_index = oddtext.guaranteed_index(message_generator, _plain_chat_message)
            notes = self.generators["notes"]
            notes.odd_index = oddtext.guaranteed_index(notes, lambda note: not note["is_deleted"])
        self.timelines = {
            "messages": LazyTimeline(self.generators["messages"], "message_id"),
            "notifications": LazyTimeline(self.generators["notifications"], "notification_id"),
            "notes": LazyTimeline(self.generators["notes"], "message_id"),
            "reactions": LazyTimeline(self.generators["reactions"], "reaction_id", indexed_fields=("chat_id", "message_id")),
        }
        self.chat_metas = {chat.chat_id: chat for chat in world.chats_of(phone)}
        latest = self._latest_messages(message_generator)
        chat_records = tables.build_chat_records(world, phone, latest, json_strings)
        labelshape.apply(chat_records, labels_shape, world.seed, "chats", "chat_id")
        self.chats = SortedTable(chat_records, "chat_id", "updated_at", filter_field="updated_at")

    def _latest_messages(self, generator):
        """chat_id -> newest base message, from a scan of the newest messages."""
        latest = {}
        for index in range(min(generator.size, LATEST_MESSAGE_SCAN)):
            chat_id = generator.chat_of(index)
            if chat_id not in latest:
                latest[chat_id] = generator.record(index)
                if len(latest) == len(self.chat_metas):
                    break
        return latest

    def stream(self, name):
        return self.chats if name == "chats" else self.timelines[name]


def _plain_chat_message(message):
    return message["message_type"] == "chat" and message["body"] is not None and not message["is_deleted"]


class Organisation(ByIdLookups):
    """One organisation's phones and records, plus the add/update operations tests use.

    The by-id views the single-record endpoints answer come from ByIdLookups (lookups.py).
    """

    def __init__(
        self,
        seed=42,
        sizes=None,
        now=None,
        connected_phones=2,
        disconnected_phones=0,
        phone_numbers=None,
        json_strings=True,
        odd_text=True,
        labels_shape="mixed",
        quiet_phones=0,
        history_age_seconds=0,
    ):
        self.sizes = {**DEFAULT_SIZES, **(sizes or {})}
        if "phones" in self.sizes:
            connected_phones = self.sizes.pop("phones")
        unknown = set(self.sizes) - set(DEFAULT_SIZES)
        if unknown:
            raise ValueError(f"unknown stream sizes: {sorted(unknown)}")
        if connected_phones < 1:
            raise ValueError("at least one connected phone is needed")
        if self.sizes["chats"] < 1 and any(self.sizes[s] for s in ("messages", "notifications", "notes", "reactions")):
            raise ValueError("phone streams need at least one chat per phone")
        self.json_strings = json_strings
        self.labels_shape = labelshape.check_shape(labels_shape)
        clock_start_us = to_epoch_us(now) if now is not None else time.time_ns() // 1000
        # The generated history ends `history_age_seconds` before the clock that dates new and changed records, as
        # in an organisation first synced a while after its last message: records delivered late then fall
        # between the newest one synced and the time a sync runs.
        self.now_us = clock_start_us - round(history_age_seconds * 1_000_000)
        self._clock_start_us = clock_start_us
        self._started = time.monotonic_ns()
        self._last_clock_us = clock_start_us
        self.lock = threading.RLock()
        self.world = build_world(seed, self.now_us, self.sizes, connected_phones, disconnected_phones, phone_numbers,
                                 odd_text=odd_text, quiet_phones=quiet_phones)
        codec = IdCodec(seed)
        self.phone_data = {p.ordinal: PhoneData(self.world, p, self.sizes, codec, json_strings, labels_shape)
                           for p in self.world.phones}
        phone_records = self._shape_labels(tables.build_phone_records(self.world), "phones")
        self.phones_table = SortedTable(phone_records, "phone_id", "created_at", newest_first=False)
        contact_records = self._shape_labels(tables.build_contact_records(self.world, json_strings), "contacts")
        self.contacts = SortedTable(contact_records, "contact_id", "updated_at")
        chat_choices = [
            (chat["chat_id"], (chat["latest_message"] or {}).get("message_id"))
            for data in self.phone_data.values()
            for chat in data.chats.all_records()
        ]
        ticket_records = tables.build_ticket_records(self.world, self.sizes["tickets"], chat_choices, json_strings)
        self.tickets = SortedTable(self._shape_labels(ticket_records, "tickets"), "ticket_id", "created_at")
        self._added_count = 0
        self.outages = Outages()  # phones taken offline by tests, and what they hold back

    def _shape_labels(self, records, stream):
        return labelshape.apply(records, self.labels_shape, self.world.seed, stream, KEY_FIELDS[stream])

    # -- time -------------------------------------------------------------------
    def clock_us(self) -> int:
        """'Now' for new and updated records: `now` plus the time since start-up, strictly increasing (except when
        the clock is set back, set_clock_behind)."""
        with self.lock:
            elapsed_us = (time.monotonic_ns() - self._started) // 1000
            self._last_clock_us = max(self._clock_start_us + elapsed_us, self._last_clock_us + 1)
            return self._last_clock_us

    clock_behind_seconds = 0.0

    def set_clock_behind(self, seconds):
        """Run this organisation's clock `seconds` behind `now` (0: on time), as a server whose clock is off: records
        changed from now on are dated by it, and so is the Date header. The history already made keeps its times."""
        with self.lock:
            shift_us = round((float(seconds) - self.clock_behind_seconds) * 1_000_000)
            self._clock_start_us -= shift_us
            self._last_clock_us -= shift_us
            self.clock_behind_seconds = float(seconds)

    # -- phones -------------------------------------------------------------------
    @property
    def phones(self):
        return self.world.phones

    def resolve_phone(self, value):
        """The org phone named by digits, a phone id, a JID, a phones-list dict, or None."""
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get("phone_id") or value.get("number")
        if hasattr(value, "phone_id"):
            value = value.phone_id
        text = str(value).strip()
        for phone in self.world.phones:
            if text in (phone.number, phone.phone_id, phone.jid):
                return phone
        return None

    def _require_phone(self, value):
        phone = self.resolve_phone(value)
        if phone is None:
            raise KeyError(f"unknown phone {value!r}")
        return phone

    def _phones_for(self, phone_value):
        if phone_value is None:
            return list(self.world.phones)
        return [self._require_phone(phone_value)]

    # -- streams ------------------------------------------------------------------
    def stream(self, name, phone=None):
        """The collection behind a stream (a phone is needed for phone-scoped streams)."""
        if name in PHONE_STREAMS:
            return self.phone_data[self._require_phone(phone).ordinal].stream(name)
        return {"tickets": self.tickets, "contacts": self.contacts, "phones": self.phones_table}[_check(name)]

    def records(self, name, phone=None):
        """All current records of a stream in API order (copies)."""
        with self.lock:
            if name in PHONE_STREAMS:
                rows = []
                for each in self._phones_for(phone):
                    rows.extend(self.stream(name, each).all_records())
            else:
                rows = self.stream(name).all_records()
            return oddtext.clone(rows)

    def normalise_key(self, name, key):
        if name == "contacts" and "@" not in key:
            return f"{key}@c.us"  # GET /contacts/{id} takes bare digits
        return key

    # -- updates ------------------------------------------------------------------
    def update_record(self, name, key, phone=None, **changes):
        """Change an existing record everywhere it is seen (or on one phone); returns the new version."""
        key = self.normalise_key(_check(name), key)
        with self.lock:
            now_text = format_ts(self.clock_us())
            updated = []
            for collection in self._collections(name, phone):
                old = collection.get(key)
                if old is None:
                    continue
                new = self._changed(name, old, changes, now_text)
                collection.replace(key, new)
                updated.append(new)
            if not updated:
                raise KeyError(f"no {name} record with key {key!r}")
            return oddtext.clone(updated[0])

    def remove_record(self, name, key, phone=None):
        """Remove a record everywhere it is seen (or on one phone); returns the removed version."""
        key = self.normalise_key(_check(name), key)
        with self.lock:
            removed = []
            for collection in self._collections(name, phone):
                old = collection.get(key)
                if old is not None:
                    collection.remove(key)
                    removed.append(old)
            if not removed:
                raise KeyError(f"no {name} record with key {key!r}")
            return oddtext.clone(removed[0])

    def _collections(self, name, phone):
        if name in PHONE_STREAMS:
            return [self.stream(name, each) for each in self._phones_for(phone)]
        return [self.stream(name)]

    def _changed(self, name, old, changes, now_text):
        new = {**old, **changes}
        bumped = BUMPED_FIELDS.get(name)
        if bumped and bumped not in changes:
            new[bumped] = now_text
        if name == "tickets" and "status" in changes:
            tables.ticket_status_change(old, new, self.world.agents, now_text)
        # An edit keeps the original text in prev_body, as WhatsApp edits do.
        if name in ("messages", "notes") and "body" in changes and "prev_body" not in changes:
            if changes["body"] != old.get("body"):
                new["prev_body"] = old.get("body")
        return new

    # -- additions ----------------------------------------------------------------
    def add_record(self, name, phone=None, **overrides):
        """Create a new record (the newest unless its time is given); returns it."""
        _check(name)
        with self.lock:
            self._added_count += 1
            number = self._added_count
            if name == "phones":
                raise ValueError("phones are fixed when the server is created (connected/disconnected_phones)")
            if name in PHONE_STREAMS:
                target_phone = self.phone_or_default(phone)
                record = self._new_phone_record(name, target_phone, number, overrides)
                if self.outages.is_down(target_phone):  # an offline phone delivers it on reconnect
                    self._check_new_key(name, target_phone, record)
                    self.outages.hold(target_phone, name, record)
                else:
                    self.make_visible(name, target_phone, record)
            else:
                record = self._new_org_record(name, number, overrides)
                self.stream(name).add(record)
            return oddtext.clone(record)

    def make_visible(self, name, phone, record):
        """Put a new phone-scoped record into its stream (a reaction flags its message)."""
        self.stream(name, phone).add(record)
        if name == "reactions":
            messages = self.stream("messages", phone)
            message = messages.get(record["message_id"])
            if message is not None and not message.get("has_reaction"):
                messages.replace(record["message_id"], {**message, "has_reaction": True})

    def _check_new_key(self, name, phone, record):
        key = record[KEY_FIELDS[name]]
        if self.stream(name, phone).get(key) is not None or self.outages.holds_key(phone, name, KEY_FIELDS[name], key):
            raise ValueError(f"{KEY_FIELDS[name]} {key!r} already exists")

    def _first_connected_phone(self):
        return next((p for p in self.world.phones if p.connected), self.world.phones[0])

    def phone_or_default(self, phone):
        """The named phone, or the first connected one (the one add_record uses) for None."""
        return self._require_phone(phone) if phone is not None else self._first_connected_phone()

    def _new_phone_record(self, name, phone, number, overrides):
        data = self.phone_data[phone.ordinal]
        now_us = self.clock_us()
        if name == "chats":
            return self._new_chat(data, number, now_us, overrides)
        time_field = "timestamp"
        time_us = parse_record_ts(overrides[time_field]) if time_field in overrides else now_us
        chat = self._chat_meta_for(data, overrides.get("chat_id"), number)
        hints = {}
        if name == "reactions":
            hints["target"] = self._reaction_target(data, overrides.get("message_id"))
            chat = hints["target"]["chat"]
        record = data.generators[name].added_record(number, time_us, chat=chat, **hints)
        if "updated_at" in record:
            record["updated_at"] = format_ts(now_us)  # just written, whatever its timestamp says
        record.update(overrides)
        return record

    def _chat_meta_for(self, data, chat_id, number):
        if chat_id is None:
            chats = list(data.chat_metas.values())
            return chats[number % len(chats)]
        if chat_id not in data.chat_metas:  # a brand-new one-to-one chat
            data.chat_metas[chat_id] = ChatMeta(
                chat_id=chat_id,
                chat_type="group" if chat_id.endswith("@g.us") else "user",
                name=chat_id.split("@")[0],
                members=[chat_id] if chat_id.endswith("@c.us") else [],
                org_phones=[data.phone.jid],
                weight=1,
                created_us=self.now_us,
                phone_jid=data.phone.jid,
            )
        return data.chat_metas[chat_id]

    def _reaction_target(self, data, message_id):
        """The message a new reaction points at: the given one, or the phone's newest."""
        messages = data.timelines["messages"]
        message = messages.get(message_id) if message_id else (messages.page(0, 1)[0] or [None])[0]
        if message is None:
            raise KeyError(f"no message {message_id!r} on phone {data.phone.number}")
        chat = self._chat_meta_for(data, message["chat_id"], 0)
        return {"chat": chat, "from_me": message["from_me"], "wa_id": message["unique_id"],
                "message_id": message["message_id"]}

    def _new_chat(self, data, number, now_us, overrides):
        rng = random.Random(salt(self.world.seed, "added-chat", number))
        chat_id = overrides.get("chat_id") or f"{random_mobile(rng)}@c.us"
        meta = self._chat_meta_for(data, chat_id, number)
        meta.created_us = now_us
        record = tables.chat_record(self.world, data.phone, meta, None, rng, self.json_strings)
        record["labels"] = labelshape.shaped(record["labels"], self.labels_shape, self.world.seed, "chats", chat_id)
        record["updated_at"] = format_ts(now_us)
        record["closed_at"] = None
        record.update(overrides)
        return record

    def _new_org_record(self, name, number, overrides):
        rng = random.Random(salt(self.world.seed, "added", name, number))
        now_us = self.clock_us()
        if name == "contacts":
            contact_id = overrides.get("contact_id") or f"{random_mobile(rng)}@c.us"
            contact = Contact(contact_id.split("@")[0], overrides.get("contact_name", "New Contact"), "user")
            record = tables.contact_record(self.world, contact, now_us, rng, self.json_strings)
        else:  # tickets
            ticket_number = 1 + max((_ticket_number(key) for key in self.tickets.by_key), default=0)
            chat_id = overrides.get("chat_id") or next(iter(self.phone_data[0].chat_metas))
            record = tables.ticket_record(self.world, ticket_number, now_us, chat_id, None, rng, self.json_strings)
            record.update(status="open", closed_at=None, close_ticket_metadata={}, is_deleted=False)
            record["last_updated_at"] = record["created_at"] = format_ts(now_us)
        key = record[KEY_FIELDS[name]]
        record["labels"] = labelshape.shaped(record["labels"], self.labels_shape, self.world.seed, name, key)
        record.update(overrides)
        return record


def _check(name):
    if name not in STREAMS:
        raise ValueError(f"unknown stream {name!r}; streams are {', '.join(STREAMS)}")
    return name


def _ticket_number(ticket_id):
    digits = ticket_id.rsplit("-", 1)[-1]
    return int(digits) if digits.isdigit() else 0
