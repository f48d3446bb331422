"""Reactions: the lazy, timestamp-ordered reaction stream of one phone (slots.py).

A reaction points at an older message of the same phone that has has_reaction
set, or, when none is near, at a message no longer in the history (an orphan).
"""

from . import vocab
from .hashing import mix64, percent, pick
from .messages import MessageGenerator
from .slots import K2, K3, REACTIONS, SHARE_PERIOD, SHARED_OWNER, TimelineGenerator
from .timefmt import format_ts


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
        first += (mix64(h ^ K3) >> 8) % 8
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
        return self._pick_chat(owner, mix64(h ^ K2))

    def index_of_key(self, reaction_id: str):
        wa_id = reaction_id.rsplit("_", 1)[-1]
        index = self.index_of_hex(wa_id[:16]) if len(wa_id) == 32 else None
        if index is None or self.record(index)["reaction_id"] != reaction_id:
            return None
        return index

    def build(self, owner, number, h, time_us, chat=None, index=None, target=None, **hints) -> dict:
        h2 = mix64(h ^ K2)
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
