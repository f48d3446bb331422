"""The by-id views of an organisation's records, as the single-record endpoints answer them.

A mixin of store.Organisation: it reads `phone_data`, `world`, `contacts` and
`tickets`. The api.py endpoints /chats/{id}, /message/{id}, /contacts/{id} and
/tickets/{id} answer with these.
"""

from . import tables


class ByIdLookups:
    """Chat, message, contact and ticket lookups by id (the class using it provides the data)."""

    def chat_meta(self, phone, chat_id):
        return self.phone_data[phone.ordinal].chat_metas.get(chat_id)

    def resolve_chat_id(self, phone, chat_id):
        """The phone's chat for an id given with or without its @c.us/@g.us suffix."""
        metas = self.phone_data[phone.ordinal].chat_metas
        if chat_id in metas:
            return chat_id
        if "@" not in chat_id:
            for suffix in ("@c.us", "@g.us"):
                if chat_id + suffix in metas:
                    return chat_id + suffix
        return None

    def chat_object(self, phone, chat_id):
        record = self.phone_data[phone.ordinal].chats.get(chat_id)
        if record is None:
            return None
        contacts = {c.jid: c for c in self.world.contacts}
        return tables.chat_object(self.world, record, self.chat_meta(phone, chat_id), contacts)

    def message_with_reactions(self, phone, message_id):
        data = self.phone_data[phone.ordinal]
        message = data.timelines["messages"].get(message_id)
        if message is None:
            return None
        reactions, _total = data.timelines["reactions"].page(0, 10_000, match={"message_id": message_id})
        return {**message, "reactions": reactions}

    def contact_with_chats(self, contact_id):
        contact = self.contacts.get(contact_id)
        if contact is None:
            return None
        chat_ids = sorted(  # only chats the API lists (not ones an offline phone holds back)
            {
                chat.chat_id
                for data in self.phone_data.values()
                for chat in data.chat_metas.values()
                if (chat.chat_id == contact_id or contact_id in chat.members) and data.chats.get(chat.chat_id)
            }
        )
        return {**contact, "chat_ids": chat_ids}

    def ticket_info(self, ticket_id):
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return None
        for data in self.phone_data.values():
            chat_record = data.chats.get(ticket["chat_id"])
            if chat_record is not None:
                message = data.timelines["messages"].get(ticket["quoted_message_id"]) if ticket["quoted_message_id"] else None
                return tables.ticket_info(ticket, data.chat_metas[ticket["chat_id"]], chat_record, message)
        return tables.ticket_info(ticket, None, None, None)
