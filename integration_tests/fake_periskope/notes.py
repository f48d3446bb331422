"""Notes: the lazy, timestamp-ordered stream of one phone's private notes (slots.py).

A note's id is a version-4 UUID that carries the encoded (stream, owner, number).
"""

from . import oddtext, vocab
from .hashing import mix64, percent
from .slots import K2, K3, NOTES, TimelineGenerator
from .timefmt import format_ts


class NoteGenerator(TimelineGenerator):
    """Private notes: never shared between phones."""

    stream_tag = NOTES
    stream_name = "notes"

    def is_shared_slot(self, index: int) -> bool:
        return False

    def _chat_for(self, h2):
        return self.all_chats.pick(h2)

    def chat_of(self, index: int) -> str:
        return self._chat_for(mix64(self.slot(index)[2] ^ K2)).chat_id

    def index_of_key(self, message_id: str):
        parts = message_id.split("_", 2)
        code = _codec_hex_from_uuid(parts[1]) if len(parts) == 3 else None
        index = self.index_of_hex(code) if code else None
        if index is None or self.record(index)["message_id"] != message_id:
            return None
        return index

    def build(self, owner, number, h, time_us, chat=None, index=None, **hints) -> dict:
        h2 = mix64(h ^ K2)
        h3 = mix64(h ^ K3)
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
