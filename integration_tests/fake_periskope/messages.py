"""Messages: the lazy, timestamp-ordered message stream of one phone (slots.py).

A message's id, chat and sender come from its slot hash (`core`, cheap: reactions
and the by-id lookup use it); the rest of its 52 columns from two more hashes.
The body text comes from messagetext.py.
"""

from . import oddtext, vocab
from .hashing import MASK64, mix64, percent
from .messagetext import POLL_QUESTION, compose_body, fts
from .slots import K2, K3, K4, MESSAGES, SHARE_PERIOD, SHARED_OWNER, TimelineGenerator
from .timefmt import format_ts


class MessageGenerator(TimelineGenerator):
    stream_tag = MESSAGES
    stream_name = "messages"

    # -- the cheap "core" of a message: enough for ids, chat and reactions ----
    def core(self, index: int):
        owner, number, h = self.slot(index)
        return self._core(owner, number, h)

    def _core(self, owner, number, h, chat=None):
        h2 = mix64(h ^ K2)
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
        return self._pick_chat(owner, mix64(h ^ K2)).chat_id

    def has_reaction(self, index: int) -> bool:
        return _has_reaction(self.slot(index)[2])

    # -- full record -----------------------------------------------------------
    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        chat, from_me, wa_id, message_id, h2 = self._core(owner, number, h, chat)
        h3 = mix64(h ^ K3)
        h4 = (h3 * K4 + h2) & MASK64  # a cheap fourth hash: independent enough of h2 and h3 alone
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
        body, url, template = compose_body(kind, chat, h3, h4)
        record["body"] = body
        record["fts"] = fts(template)  # from the template: cached, and close enough for a search column
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
            "pollName": POLL_QUESTION,
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
