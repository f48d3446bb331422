"""The /v1 API: routing, auth, x-phone, validation, paging and envelopes.

Time filters (INFERRED, the contract leaves it open): `start_time`/`end_time`
apply to `timestamp` for messages, notifications, notes and reactions and to
`updated_at` for chats; both bounds are inclusive at microsecond precision,
and a date-only `end_time` means the end of that day (23:59:59.999999 UTC).
They are honoured only on /chats, /chats/messages, /chats/notifications,
/note, /notes, /chats/{id}/notes and /reactions, and silently ignored
elsewhere (tickets, contacts, per-chat messages and notifications), as the SDK
declares them only there.

Guesses where the contract is silent (INFERRED): auth is checked before the
route (an unknown path with a bad key is 401); an x-phone that is not one of
the key's organisation's phones (in digits or phone-id form) is 401; unknown
paths and ids are 404 with a JSON body in the 422's shape; GET /contacts/{id}
takes the digits only (the contract's form, e.g. 919537851844): an id with
"@c.us" is 404.

By-id endpoints (contract section 2.2): /tickets/{id} answers TicketInfo, whose
`ticket.closed_by` is the closing agent for closed and archived tickets and
null otherwise; /message/{id} the message plus its `reactions` (a message with
reactions has has_reaction true, or sometimes null, never false); /contacts/{id}
the contact plus `chat_ids` (chats the API lists). Hard-deleted records and
records an offline phone holds back are 404 there, as in the lists.
"""

import random
import re
from dataclasses import dataclass
from urllib.parse import unquote

import orjson

from .tables import listed_only_phone_records
from .timefmt import TimeFormatError, parse_filter_time, parse_record_ts

MAX_LIMIT = 2000
DEFAULT_LIMIT = 2000
NOTES_DEFAULT_LIMIT = 500  # notes and reactions (newer DOCS)
PHONE, ORG = "phone", "org"
X_PHONE_FORMAT = re.compile(r"\d{6,15}|phone-[a-z]{16}")
NOTIFICATION_KEYS = ("messages", "notifictions", "notifications")


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def error_body(status, code, name, message, fields=None):
    body = {"code": code}
    if fields is not None:
        body["fields"] = fields
    body.update(message=message, name=name, status=status)
    return body


def unauthorized(message="Invalid API key"):
    return ApiError(401, error_body(401, "UNAUTHORIZED", "Unauthorized", message))


def not_found(message):
    return ApiError(404, error_body(404, "NOT_FOUND", "Not Found", message))


def validation_error(field, message, value=None, overall=None):
    detail = {"message": message}
    if value is not None:
        detail["value"] = value
    return ApiError(422, error_body(422, "VALIDATION_ERROR", "Validation Error", overall or message, {field: detail}))


# SEEN verbatim in the SDK's 422 example for a missing x-phone header.
MISSING_PHONE = ApiError(
    422,
    error_body(
        422,
        "VALIDATION_ERROR",
        "Validation Error",
        "Missing Header: {x-phone}",
        {"x-phone": {"message": "Please provide the number of the phone ..."}},
    ),
)


@dataclass
class Request:
    """What an endpoint needs to answer one API request."""

    fake: object  # the FakePeriskope (for its switches)
    org: object  # the store.Organisation of the API key
    phone: object  # the x-phone OrgPhone, for phone-scoped routes
    query: dict  # first value of each query parameter
    ignore_offset: bool = False  # fault: serve offset 0
    missing_key: bool = False  # fault: drop the records key


@dataclass
class Route:
    pattern: tuple  # literal segments, or None for a path parameter
    handler: object
    scope: str  # PHONE: needs x-phone; ORG: ignores it
    is_list: bool = False


def match_route(path):
    """(route, path parameters) for an API path like "/chats/123@g.us/messages", or (None, None)."""
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    for route in ROUTES:
        if len(route.pattern) != len(segments):
            continue
        params = []
        for expected, actual in zip(route.pattern, segments):
            if expected is None:
                params.append(actual)
            elif expected != actual:
                break
        else:
            return route, params
    return None, None


def authenticate(fake, authorization):
    scheme, _, key = (authorization or "").partition(" ")
    org = fake.organisation_for_key(key.strip()) if scheme.lower() == "bearer" else None
    if org is None:
        raise unauthorized()
    return org


def resolve_phone(org, route, x_phone):
    if route.scope != PHONE:
        return None  # org-level endpoints ignore x-phone
    if not x_phone:
        raise MISSING_PHONE
    # Only the two documented forms (digits, or a phone id); a JID or "+91..." is not one of ours.
    well_formed = X_PHONE_FORMAT.fullmatch(x_phone.strip())
    phone = org.resolve_phone(x_phone.strip()) if well_formed else None
    if phone is None:
        raise unauthorized("The phone in x-phone is not accessible with this API key")
    return phone


# -- query parameters -------------------------------------------------------------
def paging(request, default_limit):
    offset = _integer(request.query, "offset", 0, "Offset should be a number")
    limit = _integer(request.query, "limit", default_limit, "Limit should be a number")
    if offset < 0:
        raise validation_error("offset", "Offset should be greater than or equal to 0", str(offset))
    too_big = limit >= MAX_LIMIT if request.fake.strict_limit else limit > MAX_LIMIT
    if too_big:  # SEEN body; the docs disagree on whether 2000 itself is allowed
        raise validation_error("limit", f"Limit should be less than {MAX_LIMIT}", request.query["limit"])
    if limit < 1:
        raise validation_error("limit", "Limit should be greater than 0", request.query["limit"])
    return (0 if request.ignore_offset else offset), limit


def _integer(query, name, default, message):
    if name not in query:
        return default
    text = query[name].strip()
    if not text.lstrip("-").isdigit():
        raise validation_error(name, message, query[name])
    return int(text)


def time_window(request):
    """(start_us, end_us) from start_time/end_time; None where absent."""
    bounds = []
    for name, is_end in (("start_time", False), ("end_time", True)):
        text = request.query.get(name)
        if text is None:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_filter_time(text, is_end))
        except TimeFormatError:
            message = f"Invalid {name}. Use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"
            raise validation_error(name, message, text) from None
    return bounds


def envelope(request, key, records, offset, total, echo_times=False):
    body = {"from": offset + 1}
    if echo_times:  # notes and reactions echo the window (SEEN)
        for name in ("start_time", "end_time"):
            if name in request.query:
                body[name] = request.query[name]
    body["to"] = offset + len(records)
    if not request.fake.omit_count:
        body["count"] = total if request.fake.count_is_total else len(records)
    if not request.missing_key:
        body[key] = records
    return body


def _serve_page(request, stream, key, default_limit, filtered=True, echo_times=False, match=None, predicate=None):
    offset, limit = paging(request, default_limit)
    start_us, end_us = time_window(request) if filtered else (None, None)
    collection = request.org.stream(stream, request.phone)
    if request.fake.hide_soft_deleted:
        predicate = _not_deleted if predicate is None else (lambda record, wanted=predicate: wanted(record) and _not_deleted(record))
    with request.org.lock:
        if request.fake.unstable_ties:
            everything, total = _page_of(collection, 0, 10**9, start_us, end_us, match, predicate)
            records = _shuffled_within_seconds(everything, collection)[offset : offset + limit]
        else:
            records, total = _page_of(collection, offset, limit, start_us, end_us, match, predicate)
    return envelope(request, key, records, offset, total, echo_times)


def _page_of(collection, offset, limit, start_us, end_us, match, predicate):
    if predicate is None:
        return collection.page(offset, limit, start_us, end_us, match=match)
    if hasattr(collection, "extras"):  # a LazyTimeline has no predicate: filter its records here
        records, _ = collection.page(0, 10**9, start_us, end_us, match=match)
        kept = [record for record in records if predicate(record)]
        return kept[offset : offset + limit], len(kept)
    return collection.page(offset, limit, start_us, end_us, match=match, predicate=predicate)


def _not_deleted(record):
    return record.get("is_deleted") is not True


_TIE_ORDER = random.Random(2024)


def _shuffled_within_seconds(records, collection):
    """The same records, newest second first, in a new order inside each second (unstable_ties)."""
    field = getattr(collection, "time_field", None) or getattr(collection, "sort_field")
    groups = {}
    for record in records:
        groups.setdefault(parse_record_ts(record[field]) // 1_000_000, []).append(record)
    shuffled = []
    for second in groups:  # dicts keep the newest-first order of the seconds
        group = groups[second]
        _TIE_ORDER.shuffle(group)
        shuffled.extend(group)
    return shuffled


def _chat_id(request, raw_chat_id):
    chat_id = request.org.resolve_chat_id(request.phone, raw_chat_id)
    if chat_id is None:
        raise not_found(f"Chat {raw_chat_id} not found")
    return chat_id


def _notifications_key(request):
    key = request.fake.notifications_key
    return key if key in NOTIFICATION_KEYS else "messages"


# -- endpoints ------------------------------------------------------------------
def list_chats(request):
    chat_type = request.query.get("chat_type")
    label = request.query.get("label")
    if chat_type == "individual":  # older DOCS name for one-to-one chats
        chat_type = "user"
    match = {"chat_type": chat_type} if chat_type else None
    predicate = _label_filter(request.org, label) if label else None
    return _serve_page(request, "chats", "chats", DEFAULT_LIMIT, match=match, predicate=predicate)


def _label_filter(org, label):
    """`label` is a label name or a label-xxxx id."""
    label_ids = {label_id for name, label_id in org.world.labels if label in (name, label_id)}

    def has_label(chat):
        chat_labels = chat.get("label_ids") or {}
        if isinstance(chat_labels, str):  # some rows carry JSON as a string
            chat_labels = orjson.loads(chat_labels)
        return bool(label_ids & set(chat_labels))

    return has_label


def list_messages(request):
    return _serve_page(request, "messages", "messages", DEFAULT_LIMIT)


def list_notifications(request):
    return _serve_page(request, "notifications", _notifications_key(request), DEFAULT_LIMIT)


def get_chat(request, chat_id):
    with request.org.lock:
        chat = request.org.chat_object(request.phone, _chat_id(request, chat_id))
    if chat is None:  # known to the phone (e.g. from a held-back message) but not listed
        raise not_found(f"Chat {chat_id} not found")
    return chat


def chat_messages(request, chat_id):
    match = {"chat_id": _chat_id(request, chat_id)}
    return _serve_page(request, "messages", "messages", DEFAULT_LIMIT, filtered=False, match=match)


def chat_notifications(request, chat_id):
    match = {"chat_id": _chat_id(request, chat_id)}
    key = _notifications_key(request)
    return _serve_page(request, "notifications", key, DEFAULT_LIMIT, filtered=False, match=match)


def chat_notes(request, chat_id):
    match = {"chat_id": _chat_id(request, chat_id)}
    return _serve_page(request, "notes", "notes", NOTES_DEFAULT_LIMIT, echo_times=True, match=match)


def list_notes(request):
    return _serve_page(request, "notes", "notes", NOTES_DEFAULT_LIMIT, echo_times=True)


def get_note(request, note_id):
    with request.org.lock:
        note = request.org.stream("notes", request.phone).get(note_id)
    if note is None:
        raise not_found(f"Note {note_id} not found")
    return note


def list_reactions(request):
    match = {}
    if request.query.get("chat_id"):
        # The @c.us suffix is optional (SEEN); an unknown chat simply matches nothing.
        raw = request.query["chat_id"]
        match["chat_id"] = request.org.resolve_chat_id(request.phone, raw) or raw
    if request.query.get("message_id"):
        match["message_id"] = request.query["message_id"]
    return _serve_page(request, "reactions", "reactions", NOTES_DEFAULT_LIMIT, echo_times=True, match=match or None)


def list_contacts(request):
    return _serve_page(request, "contacts", "contacts", DEFAULT_LIMIT, filtered=False)


def get_contact(request, contact_id):
    if not contact_id.isdigit():  # digits only, as the contract shows (not "...@c.us")
        raise not_found(f"Contact {contact_id} not found")
    key = request.org.normalise_key("contacts", contact_id)
    with request.org.lock:
        contact = request.org.contact_with_chats(key)
    if contact is None:
        raise not_found(f"Contact {contact_id} not found")
    return contact


def list_tickets(request):
    return _serve_page(request, "tickets", "tickets", DEFAULT_LIMIT, filtered=False)


def get_ticket(request, ticket_id):
    with request.org.lock:
        info = request.org.ticket_info(ticket_id)
    if info is None:
        raise not_found(f"Ticket {ticket_id} not found")
    return info


def get_phone(request):
    with request.org.lock:
        return request.org.phones_table.get(request.phone.phone_id)


def all_phones(request):
    with request.org.lock:
        phones = request.org.phones_table.all_records()  # a bare array: no envelope, no paging
        fake = request.fake
        if request.org is fake.org and (fake.unpaired_phones or fake.unreadable_phones):
            phones = phones + listed_only_phone_records(request.org.world, fake.unpaired_phones, fake.unreadable_phones)
        return phones


def get_message(request, message_id):
    with request.org.lock:
        message = request.org.message_with_reactions(request.phone, message_id)
    if message is None:
        raise not_found(f"Message {message_id} not found")
    return message


# Literal routes come before parameterised ones with the same length.
ROUTES = (
    Route(("chats",), list_chats, PHONE, is_list=True),
    Route(("chats", "messages"), list_messages, PHONE, is_list=True),
    Route(("chats", "notifications"), list_notifications, PHONE, is_list=True),
    Route(("chats", None), get_chat, PHONE),
    Route(("chats", None, "messages"), chat_messages, PHONE, is_list=True),
    Route(("chats", None, "notifications"), chat_notifications, PHONE, is_list=True),
    Route(("chats", None, "notes"), chat_notes, PHONE, is_list=True),
    Route(("note",), list_notes, PHONE, is_list=True),
    Route(("notes",), list_notes, PHONE, is_list=True),
    Route(("note", None), get_note, PHONE),
    Route(("notes", None), get_note, PHONE),
    Route(("reactions",), list_reactions, PHONE, is_list=True),
    Route(("contacts",), list_contacts, ORG, is_list=True),
    Route(("contacts", None), get_contact, ORG),
    Route(("tickets",), list_tickets, ORG, is_list=True),
    Route(("tickets", None), get_ticket, ORG),
    Route(("phones",), get_phone, PHONE),
    Route(("phones", "all"), all_phones, ORG),
    Route(("message", None), get_message, PHONE),
)


def dispatch(fake, method, path, query, headers, ignore_offset=False, missing_key=False):
    """(status, JSON-able body) for one /v1 request; `path` is relative to /v1."""
    try:
        org = authenticate(fake, headers.get("Authorization"))
        route, params = match_route(path)
        if route is None or method != "GET":
            raise not_found(f"Cannot {method} /v1{path}")
        phone = resolve_phone(org, route, headers.get("x-phone"))
        request = Request(fake, org, phone, query, ignore_offset, missing_key)
        return 200, route.handler(request, *params)
    except ApiError as error:
        return error.status, error.body
