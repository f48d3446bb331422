"""Notifications: the lazy, timestamp-ordered stream of group events and calls of one phone (slots.py)."""

from . import vocab
from .hashing import mix64, percent, pick
from .slots import K2, NOTIFICATIONS, SHARED_OWNER, TimelineGenerator
from .timefmt import format_ts


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
        return self._chat_for(owner, mix64(h ^ K2)).chat_id

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
        h2 = mix64(h ^ K2)
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
