"""Builders for the small, materialised record sets: phones, contacts, chats, tickets.

Shapes follow the contract's DOCS examples (section 2.2) field for field:
phones are the 13-key PhoneInfo, contacts the 13-key list projection, chats the
26-key list item plus `labels` (as on the other three), tickets the 24
tbl_chat_tickets columns plus `labels`. `labels` is built as a list here; the
store re-shapes it (labelshape.py).
"""

import random

import orjson

from . import labelshape, vocab
from .hashing import salt
from .timefmt import format_ts, parse_record_ts, vary_precision

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000


def ts(us: int, rng: random.Random) -> str:
    """Format a time with a random precision (0-6 fractional digits)."""
    return format_ts(vary_precision(us, rng.getrandbits(16)))


def maybe_json_string(value, rng: random.Random, enabled: bool):
    """A few JSON columns arrive JSON-encoded as strings (a small, deterministic fraction)."""
    if enabled and value is not None and rng.random() < 0.04:
        return orjson.dumps(value).decode()
    return value


def pick_labels(world, rng, most=3):
    chosen = rng.sample(world.labels, rng.choice((0, 0, 1, 1, 2, most)))
    return [name for name, _ in chosen], {label_id: True for _, label_id in chosen}


def image_url(kind: str, jid: str, rng) -> str:
    stamp = 1_730_000_000_000 + rng.randrange(10**10)
    return f"https://storage.googleapis.com/periskope-images/{kind}/{jid.replace('@', '%40')}.jpg?timestamp={stamp}"


# -- phones -------------------------------------------------------------------
UNREADABLE_NUMBER_PREFIX = "9199999000"  # + two digits: numbers no key of the fake can read


def listed_only_phone_records(world, unpaired, unreadable):
    """Phones /phones/all lists that cannot be read through x-phone (401): `unpaired` ones not paired yet (no
    number, `org_phone` null, wa_state UNPAIRED) and `unreadable` ones with a number the key may not read (a
    phone of a sub-account, say). Not part of the world: no chats, no records, and the phones stream's records
    for them are the only trace they leave."""
    records = []
    for kind, count in (("unpaired", unpaired), ("unreadable", unreadable)):
        for position in range(count):
            number = f"{UNREADABLE_NUMBER_PREFIX}{position:02d}" if kind == "unreadable" else None
            records.append({
                "org_id": world.org_id,
                "org_phone": f"{number}@c.us" if number else None,
                "created_at": format_ts(world.now_us - (10 + position) * US_PER_DAY),
                "updated_at": format_ts(world.now_us - (5 + position) * US_PER_DAY),
                "wa_state": "CONNECTED" if number else "UNPAIRED",
                "phone_id": "phone-" + (kind + "zzzzzzzzzzzz")[:15] + chr(ord("a") + position % 26),
                "qr_code": None,
                "phone_image": None,
                "phone_name": f"{kind} phone {position + 1}",
                "first_connected_at": None,
                "is_ready": bool(number),
                "label_ids": {},
                "labels": [],
            })
    return records


def build_phone_records(world):
    rng = random.Random(salt(world.seed, "phones"))
    records = []
    for phone in world.phones:
        created_us = world.now_us - (400 - 45 * phone.ordinal) * US_PER_DAY + rng.randrange(US_PER_DAY)
        first_connected_us = created_us + rng.randrange(30_000_000, 600_000_000)
        if phone.connected:
            updated_us = world.now_us - rng.randrange(US_PER_HOUR, 48 * US_PER_HOUR)
        else:
            updated_us = world.now_us - rng.randrange(5 * US_PER_DAY, 20 * US_PER_DAY)
        labels, label_ids = pick_labels(world, rng, most=2)
        records.append(
            {
                "org_id": world.org_id,
                "org_phone": phone.jid,
                "created_at": ts(created_us, rng),
                "updated_at": ts(updated_us, rng),
                "wa_state": "CONNECTED" if phone.connected else "DISCONNECTED",
                "phone_id": phone.phone_id,
                "qr_code": None if phone.connected else f"2@{rng.getrandbits(128):032x},{rng.getrandbits(64):016x}",
                "phone_image": image_url("phones", phone.jid, rng),
                "phone_name": phone.name,
                "first_connected_at": ts(first_connected_us, rng),
                "is_ready": phone.connected,
                "label_ids": label_ids,
                "labels": labels,
            }
        )
    return records


# -- contacts -----------------------------------------------------------------
def build_contact_records(world, json_strings=True):
    rng = random.Random(salt(world.seed, "contacts"))
    return [contact_record(world, contact, _contact_updated_us(world, rng), rng, json_strings)
            for contact in world.contacts]


def _contact_updated_us(world, rng):
    return world.now_us - rng.randrange(1_000_000, world.span_us + 30 * US_PER_DAY)


def contact_record(world, contact, updated_us, rng, json_strings=True):
    labels, label_ids = pick_labels(world, rng)
    return {
        "contact_color": rng.choice(vocab.CONTACT_COLORS),
        "contact_id": contact.jid,
        "contact_image": image_url("contacts", contact.jid, rng) if rng.random() < 0.6 else None,
        "contact_name": contact.name,
        "contact_type": contact.contact_type,
        "is_imported": rng.choice((None, None, True, False)),
        "is_internal": True if contact.internal else None,
        "is_my_contact": rng.choice((None, True, True, False)),
        "is_wa_contact": rng.random() < 0.9,
        "label_ids": maybe_json_string(label_ids, rng, json_strings),
        "labels": labels,
        "org_id": world.org_id,
        "updated_at": ts(updated_us, rng),
    }


# -- chats --------------------------------------------------------------------
def build_chat_records(world, phone, latest_messages, json_strings=True):
    """The chats list of one phone; latest_messages maps chat_id -> newest message dict."""
    records = []
    for chat in world.chats_of(phone):
        rng = random.Random(salt(world.seed, "chat", chat.chat_id, phone.jid))
        records.append(chat_record(world, phone, chat, latest_messages.get(chat.chat_id), rng, json_strings))
    return records


def chat_record(world, phone, chat, latest_message, rng, json_strings=True):
    now_us = world.now_us - phone.quiet_offset_us  # a quiet phone's chats were last touched long ago
    if latest_message is not None:
        last_activity_us = parse_record_ts(latest_message["timestamp"])
        updated_us = min(now_us - 1, last_activity_us + rng.randrange(1_000, 2_000_000))
    else:  # quiet chat: last touched some time ago
        updated_us = now_us - rng.randrange(world.span_us // 2, world.span_us)
    assigned_to = rng.choice(world.agents) if rng.random() < 0.5 else None
    labels, label_ids = pick_labels(world, rng)
    closed_at = (updated_us // 1000) - rng.randrange(60_000, 86_400_000) if rng.random() < 0.15 else None
    is_group = chat.is_group
    return {
        "assigned_to": assigned_to,
        "chat_access": {assigned_to: True} if assigned_to else None,
        "chat_id": chat.chat_id,
        "chat_image": image_url("chats", chat.chat_id, rng) if rng.random() < 0.5 else None,
        "chat_name": chat.name,
        "chat_org_phones": list(chat.org_phones),
        "chat_type": chat.chat_type,
        "closed_at": closed_at,  # epoch milliseconds (a number, unlike tickets' ISO closed_at)
        "created_at": ts(chat.created_us, rng),
        "custom_properties": maybe_json_string(_custom_properties(rng), rng, json_strings),
        "flag_count_map": {phone.jid: rng.randint(1, 3)} if rng.random() < 0.1 else None,
        "group_description": f"Official group for {chat.name}." if is_group and rng.random() < 0.6 else None,
        "hubspot_metadata": {},
        "info_admins_only": is_group and rng.random() < 0.3,
        "invite_link": f"https://chat.whatsapp.com/invite/{rng.getrandbits(96):024x}" if is_group else None,
        "is_exited": is_group and rng.random() < 0.05,
        "is_muted": rng.random() < 0.1,
        "label_ids": maybe_json_string(label_ids, rng, json_strings),
        "labels": labels,
        "latest_message": latest_message,
        "member_add_mode": "false" if not is_group or rng.random() < 0.7 else "true",  # SEEN as a string
        "member_count": len(chat.members) + len(chat.org_phones),
        "message_unread_count": rng.choice((None, 0, 0, 1, 2, 5)),
        "messages_admins_only": is_group and rng.random() < 0.1,
        "org_id": world.org_id,
        "org_phone": phone.jid,
        "updated_at": ts(updated_us, rng),
    }


def _custom_properties(rng):
    if rng.random() < 0.6:
        return {}
    return {"Region": rng.choice(vocab.CITIES), "Customer tier": rng.choice(("Gold", "Silver", "Bronze"))}


def chat_object(world, chat_record_value, chat_meta, contacts_by_jid):
    """GET /chats/{id}: the list item plus `members` and `common_chats`."""
    members = {}
    for jid in list(chat_meta.org_phones) + list(chat_meta.members):
        contact = contacts_by_jid.get(jid)
        rng = random.Random(salt(world.seed, "member", jid))
        internal = jid in chat_meta.org_phones
        members[jid] = {
            "org_id": world.org_id,
            "chat_id": chat_meta.chat_id,
            "is_admin": internal or rng.random() < 0.1,
            "org_phone": chat_record_value["org_phone"],
            "contact_id": jid,
            "is_internal": internal,
            "contact_name": contact.name if contact else None,
            "contact_color": rng.choice(vocab.CONTACT_COLORS),
            "contact_image": image_url("contacts", jid, rng) if rng.random() < 0.5 else None,
            "is_super_admin": internal,
        }
    common = [c.chat_id for c in world.shared_chats + sum(world.private_chats.values(), [])
              if c.is_group and chat_meta.chat_id in c.members][:5]
    return {**chat_record_value, "members": members, "common_chats": common}


# -- tickets ------------------------------------------------------------------
TICKET_PREFIX = "BKT"


def ticket_id_for(number: int) -> str:
    return f"{TICKET_PREFIX}-{number:03d}"


def build_ticket_records(world, count, chat_choices, json_strings=True):
    """Tickets BKT-001.. in creation order; chat_choices is [(chat_id, latest message id or None)]."""
    rng = random.Random(salt(world.seed, "tickets"))
    step = world.span_us // max(1, count)
    records = []
    for number in range(1, count + 1):
        created_us = world.now_us - world.span_us + (number - 1) * step + rng.randrange(max(1, step))
        chat_id, quoted_message_id = rng.choice(chat_choices) if chat_choices else ("918527184400@c.us", None)
        records.append(ticket_record(world, number, created_us, chat_id, quoted_message_id, rng, json_strings))
    return records


def ticket_record(world, number, created_us, chat_id, quoted_message_id, rng, json_strings=True):
    age_fraction = (world.now_us - created_us) / world.span_us  # older tickets are more often closed
    status = "closed" if rng.random() < age_fraction * 0.8 else rng.choice(("open", "open", "inprogress"))
    if status == "closed" and rng.random() < 0.1:
        status = "archived"
    updated_us = min(world.now_us - 1_000_000, created_us + rng.randrange(60_000_000, 5 * US_PER_DAY))
    updated_us = max(updated_us, created_us)
    assignee = rng.choice(world.agents) if rng.random() < 0.7 else None
    closer = rng.choice(world.agents)
    closed = status in ("closed", "archived")
    labels, label_ids = pick_labels(world, rng)
    custom = {} if rng.random() < 0.5 else {"Order ID": f"OD{rng.randrange(10**7):07d}", "Channel": "WhatsApp"}
    return {
        "assigned_by": rng.choice(world.agents) if assignee else None,
        "assignee": assignee,
        "chat_id": chat_id,
        "close_ticket_metadata": {"closed_by": closer, "closed_message": "Resolved, closing."} if closed else {},
        "closed_at": ts(updated_us, rng) if closed else None,
        "created_at": ts(created_us, rng),
        "custom_properties": maybe_json_string(custom, rng, json_strings),
        "due_date": ts(created_us + rng.randrange(1, 10) * US_PER_DAY, rng) if rng.random() < 0.4 else None,
        "first_assigned_at": ts(created_us + rng.randrange(1_000_000, US_PER_HOUR), rng) if assignee else None,
        "freshdesk_metadata": _integration_metadata(rng),
        "hubspot_metadata": _integration_metadata(rng),
        "is_deleted": rng.random() < 0.03,
        "label_ids": maybe_json_string(label_ids, rng, json_strings),
        "labels": labels,
        "last_updated_at": ts(updated_us, rng),
        "last_updated_by": rng.choice(world.agents) if rng.random() < 0.7 else None,
        "org_id": world.org_id,
        "priority": rng.choice((0, 1, 1, 2, 2, 3, 4)),
        "quoted_message_id": quoted_message_id if rng.random() < 0.6 else None,
        "raised_by": rng.choice(world.agents) if rng.random() < 0.7 else None,
        "response_time": rng.randrange(30, 7200) if assignee else None,
        "status": status,
        "subject": rng.choice(vocab.TICKET_SUBJECTS),
        "ticket_id": ticket_id_for(number),
        "zohodesk_metadata": _integration_metadata(rng),
    }


CLOSED_STATUSES = ("closed", "archived")


def ticket_status_change(old, new, agents, now_text):
    """Closing a ticket records who closed it and when; reopening clears both (in place on `new`)."""
    was_closed, is_closed = old["status"] in CLOSED_STATUSES, new["status"] in CLOSED_STATUSES
    if is_closed and not was_closed:
        metadata = new.get("close_ticket_metadata")
        if not isinstance(metadata, dict) or not metadata.get("closed_by"):
            new["close_ticket_metadata"] = {"closed_by": new.get("last_updated_by") or agents[0],
                                            "closed_message": None}
        if new.get("closed_at") is None:
            new["closed_at"] = now_text
    elif was_closed and not is_closed:
        new["close_ticket_metadata"], new["closed_at"] = {}, None
    return new


def _integration_metadata(rng):
    """Freshdesk/HubSpot/Zoho Desk sync data: usually an empty object."""
    return {} if rng.random() < 0.9 else {"ticket_id": rng.randrange(10_000, 99_999)}


def ticket_info(ticket, chat_meta, chat_record_value, message):
    """GET /tickets/{id}: the TicketInfo object {attached_messages, chat, message, ticket}."""
    labels = labelshape.as_string(ticket["labels"])
    close_metadata = ticket["close_ticket_metadata"]
    if isinstance(close_metadata, str):
        close_metadata = orjson.loads(close_metadata)
    chat_labels = labelshape.as_string(chat_record_value.get("labels")) if chat_record_value else ""
    return {
        "attached_messages": [],
        "chat": {
            "chat_id": ticket["chat_id"],
            "chat_labels": chat_labels,  # label names, comma-separated (SEEN "chatlabel1, chatlabel2")
            "chat_name": chat_meta.name if chat_meta else None,
            "chat_type": chat_meta.chat_type if chat_meta else None,
            "members": {},
            "custom_properties": chat_record_value.get("custom_properties") if chat_record_value else {},
            "org_phone": chat_record_value.get("org_phone") if chat_record_value else None,
        },
        "message": _ticket_message(message),
        "ticket": {
            "org_id": ticket["org_id"],
            "status": ticket["status"],
            "subject": ticket["subject"],
            "assignee": ticket["assignee"],
            "due_date": ticket["due_date"],
            "priority": ticket["priority"],
            "raised_by": ticket["raised_by"],
            "ticket_id": ticket["ticket_id"],
            "created_at": ticket["created_at"],
            "assigned_by": ticket["assigned_by"],
            "ticket_labels": labels,
            "quoted_message_id": ticket["quoted_message_id"],
            "ticket_custom_properties": ticket["custom_properties"],
            "closed_at": ticket["closed_at"],
            "closed_by": (close_metadata or {}).get("closed_by") if ticket["status"] in CLOSED_STATUSES else None,
            "closed_message": (close_metadata or {}).get("closed_message"),
            "first_assigned_at": ticket["first_assigned_at"],
            "is_deleted": ticket["is_deleted"],
        },
    }


def _ticket_message(message):
    if message is None:
        return None
    media = message.get("media")
    if isinstance(media, str):
        media = orjson.loads(media)
    sender = message.get("sender_phone") or ""
    return {
        "body": message.get("body"),
        "chat_id": message.get("chat_id"),
        "org_phone": message.get("org_phone"),
        "timestamp": message.get("timestamp"),
        "media_path": (media or {}).get("path"),
        "message_id": message.get("message_id"),
        "sender_name": None,
        "performed_by": message.get("performed_by"),
        "sender_phone": sender.split("@")[0],  # SEEN: bare digits in TicketInfo
    }
