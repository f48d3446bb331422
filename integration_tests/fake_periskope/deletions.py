"""Soft and hard deletions.

Soft: the row stays listed with `is_deleted: true`.
  tickets            bumps `last_updated_at` (its list order, by created_at, is kept)
  messages, notes    bumps `updated_at` and keeps `timestamp`: the row stays where
                     it was in the newest-first order, so only a client that looks
                     back (re-reads old windows) sees the change
Hard: the record disappears from every list and its by-id endpoint answers 404
(GET /tickets/{id}, /message/{id}, /contacts/{id}, /note/{id}); any stream.
"""

SOFT_DELETABLE = ("tickets", "messages", "notes")


def soft_delete(org, stream, key, phone=None):
    """Mark a record deleted in place; returns its new version."""
    if stream not in SOFT_DELETABLE:
        raise ValueError(f"soft deletion is for {', '.join(SOFT_DELETABLE)} (the streams with is_deleted), not {stream!r}")
    return org.update_record(stream, key, phone, is_deleted=True)


def hard_delete(org, stream, key, phone=None):
    """Remove a record (on every phone that sees it, unless `phone` is given); returns what was removed."""
    return org.remove_record(stream, key, phone)
