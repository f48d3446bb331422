"""The cast of an organisation: its phones, labels, agents, contacts and chats.

This is the small, materialised part of the fake data, built once from the
seed with `random.Random`. The large streams (messages etc.) are generated
lazily from it (slots.py and the stream modules).

A quiet phone (the last `quiet_phones` connected ones) has its whole history
shifted QUIET_DAYS into the past, and shares no chats with other phones (a
shared record must have the same timestamp on every phone).
"""

import random
import uuid
from dataclasses import dataclass, field

from . import labelshape, oddtext, vocab
from .hashing import salt

DEFAULT_PHONE_NUMBERS = ("919876543210", "918527184400")
DEFAULT_DISCONNECTED_NUMBERS = ("917700112233",)
SPAN_DAYS = 90  # records are spread over this many days before `now`
QUIET_DAYS = 125  # a quiet phone's newest record is this many days old (more than three 30-day windows)
ORG_DOMAINS = ("acme-logistics.in", "hashlabs.dev", "brightkart.in", "sunrise-foods.co.in")


@dataclass
class OrgPhone:
    ordinal: int  # position in the org's phone list; owner code is ordinal + 1
    number: str  # digits, e.g. "919876543210" (the x-phone form)
    phone_id: str  # "phone-" + 16 lowercase letters (the other x-phone form)
    jid: str  # "919876543210@c.us", the org_phone value on records
    connected: bool
    name: str
    sharing: bool = False  # sees the shared group chats (connected, not quiet, and 2+ such phones)
    quiet_offset_us: int = 0  # a quiet phone's streams end this long before `now`

    @property
    def owner(self) -> int:
        return self.ordinal + 1

    def public_info(self) -> dict:
        return {
            "number": self.number,
            "phone_id": self.phone_id,
            "org_phone": self.jid,
            "wa_state": "CONNECTED" if self.connected else "DISCONNECTED",
        }


@dataclass
class Contact:
    number: str
    name: str
    contact_type: str  # "user" | "business"
    internal: bool = False

    @property
    def jid(self) -> str:
        return f"{self.number}@c.us"


@dataclass
class ChatMeta:
    chat_id: str
    chat_type: str  # "user" | "group" | "business"
    name: str
    members: list  # participant JIDs other than the org phones
    org_phones: list  # chat_org_phones: org phone JIDs in the chat
    weight: int  # relative message traffic
    created_us: int
    phone_jid: str = ""  # org_phone of the phone that sees this chat ("" for shared chats)
    is_group: bool = field(init=False)  # a plain attribute, not a property: read on hot paths

    def __post_init__(self):
        self.is_group = self.chat_type == "group"


@dataclass
class World:
    seed: int
    now_us: int
    org_id: str
    domain: str
    agents: list
    labels: list  # (name, label_id)
    phones: list  # OrgPhone
    contacts: list  # Contact
    shared_chats: list = field(default_factory=list)  # ChatMeta seen by every sharing phone
    private_chats: dict = field(default_factory=dict)  # phone ordinal -> [ChatMeta]
    odd_text: bool = True  # odd but valid text in bodies and names (oddtext.py)

    @property
    def span_us(self) -> int:
        return SPAN_DAYS * 86_400_000_000

    def chats_of(self, phone: OrgPhone) -> list:
        shared = self.shared_chats if phone.sharing else []
        return shared + self.private_chats[phone.ordinal]


def random_letters(rng: random.Random, count: int = 16) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(count))


def random_mobile(rng: random.Random) -> str:
    """Mostly Indian mobiles (91 + 10 digits starting 6-9), a few foreign numbers."""
    roll = rng.random()
    if roll < 0.85:
        return "91" + rng.choice("6789") + "".join(rng.choice("0123456789") for _ in range(9))
    if roll < 0.92:
        return "971" + "5" + "".join(rng.choice("0123456789") for _ in range(8))
    if roll < 0.96:
        return "447" + "".join(rng.choice("0123456789") for _ in range(9))
    return "1" + rng.choice("2345689") + "".join(rng.choice("0123456789") for _ in range(9))


def build_world(seed, now_us, sizes, connected_phones=2, disconnected_phones=0, phone_numbers=None,
                odd_text=True, quiet_phones=0):
    if not 0 <= quiet_phones <= connected_phones:
        raise ValueError("quiet_phones must be between 0 and the number of connected phones")
    rng = random.Random(salt(seed, "world"))
    domain = rng.choice(ORG_DOMAINS)
    world = World(
        seed=seed,
        now_us=now_us,
        org_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        domain=domain,
        agents=[f"{name}@{domain}" for name in vocab.AGENT_FIRST_NAMES],
        labels=[(name, "label-" + random_letters(rng)) for name in vocab.LABEL_NAMES],
        phones=_build_phones(rng, connected_phones, disconnected_phones, phone_numbers, quiet_phones),
        contacts=[],
        odd_text=odd_text,
    )
    # Added after the phones, from their own random stream, so the phones' ids do not move.
    world.labels += labelshape.tricky_labels(seed)
    world.contacts = _build_contacts(rng, world.phones, sizes["contacts"])
    _build_chats(rng, world, sizes["chats"])
    if odd_text:
        oddtext.apply_to_names(world)
    return world


def _build_phones(rng, connected_count, disconnected_count, phone_numbers, quiet_count=0):
    numbers = list(phone_numbers or DEFAULT_PHONE_NUMBERS[:connected_count])
    while len(numbers) < connected_count:
        numbers.append(random_mobile(rng))
    disconnected = list(DEFAULT_DISCONNECTED_NUMBERS[:disconnected_count])
    while len(disconnected) < disconnected_count:
        disconnected.append(random_mobile(rng))
    phones = []
    for ordinal, number in enumerate(numbers + disconnected):
        phones.append(
            OrgPhone(
                ordinal=ordinal,
                number=number,
                phone_id="phone-" + random_letters(rng),
                jid=f"{number}@c.us",
                connected=ordinal < len(numbers),
                name=vocab.PHONE_NAMES[ordinal % len(vocab.PHONE_NAMES)],
            )
        )
    # The last `quiet_count` connected phones are quiet; they share no chats (their times differ).
    for phone in phones[len(numbers) - quiet_count : len(numbers)]:
        phone.quiet_offset_us = QUIET_DAYS * 86_400_000_000
    sharers = [p for p in phones if p.connected and not p.quiet_offset_us]
    for phone in sharers:
        phone.sharing = len(sharers) >= 2
    return phones


def _build_contacts(rng, phones, count):
    """The org's contacts; the org's own phones come first, marked internal."""
    contacts = [Contact(p.number, p.name, "user", internal=True) for p in phones][:count]
    used = {c.number for c in contacts}
    business_names = list(vocab.BUSINESS_NAMES)
    while len(contacts) < count:
        number = random_mobile(rng)
        if number in used:
            continue
        used.add(number)
        if business_names and rng.random() < 0.1:
            contacts.append(Contact(number, business_names.pop(0), "business"))
        else:
            name = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
            contacts.append(Contact(number, name, "user"))
    return contacts


def _build_chats(rng, world, chats_per_phone):
    """Private chats per phone plus group chats shared by all connected phones.

    User and business chats take distinct contacts per phone, so the only chats
    seen through two phones are the shared groups (same chat_id, different
    org_phone), as the brief asks.
    """
    sharing_phones = [p for p in world.phones if p.sharing]
    shared_count = min(max(1, chats_per_phone // 8), chats_per_phone) if sharing_phones else 0
    external = [c for c in world.contacts if not c.internal]
    free_users = [c for c in external if c.contact_type == "user"]
    free_businesses = [c for c in external if c.contact_type == "business"]
    used_numbers = {c.number for c in world.contacts}

    world.shared_chats = [
        _group_chat(rng, world, external, [p.jid for p in sharing_phones], "") for _ in range(shared_count)
    ]
    for phone in world.phones:
        private_count = chats_per_phone - (shared_count if phone.sharing else 0)
        chats = []
        for position in range(private_count):
            roll = position % 10  # a steady 6:3:1 mix of user, group and business chats
            if roll in (1, 5, 8):
                chats.append(_group_chat(rng, world, external, [phone.jid], phone.jid, phone.quiet_offset_us))
            elif roll == 9 and free_businesses:
                chats.append(_direct_chat(rng, world, free_businesses.pop(0), phone))
            else:
                contact = free_users.pop(0) if free_users else _new_contact(rng, used_numbers)
                chats.append(_direct_chat(rng, world, contact, phone))
        world.private_chats[phone.ordinal] = chats


def _new_contact(rng, used_numbers):
    """A chat partner who is not in the contact list (real orgs have many)."""
    while True:
        number = random_mobile(rng)
        if number not in used_numbers:
            used_numbers.add(number)
            name = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
            return Contact(number, name, "user")


def _chat_created_us(rng, world, offset_us=0):
    # Chats exist before the message history starts, so no message predates its chat.
    days_before_span = rng.uniform(1, 300)
    return world.now_us - offset_us - world.span_us - int(days_before_span * 86_400_000_000)


def _direct_chat(rng, world, contact, phone):
    return ChatMeta(
        chat_id=contact.jid,
        chat_type=contact.contact_type,
        name=contact.name,
        members=[contact.jid],
        org_phones=[phone.jid],
        # Weight 0: a quiet chat with no messages at all (its latest_message is null).
        weight=rng.choice((0, 1, 1, 2, 3, 5, 8)),
        created_us=_chat_created_us(rng, world, phone.quiet_offset_us),
        phone_jid=phone.jid,
    )


def _group_chat(rng, world, contacts, org_phone_jids, phone_jid, offset_us=0):
    group_id = "120363" + "".join(rng.choice("0123456789") for _ in range(12)) + "@g.us"
    size = min(len(contacts), rng.randint(2, 12))
    members = [c.jid for c in rng.sample(contacts, size)] if size else []
    name = f"{rng.choice(vocab.GROUP_WORDS)} {rng.choice(vocab.GROUP_SUFFIXES)}"
    return ChatMeta(
        chat_id=group_id,
        chat_type="group",
        name=name,
        members=members,
        org_phones=list(org_phone_jids),
        weight=rng.choice((2, 3, 5, 8, 13)),
        created_us=_chat_created_us(rng, world, offset_us),
        phone_jid=phone_jid,
    )
