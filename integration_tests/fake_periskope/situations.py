"""The FakePeriskope methods that stage real-world situations (a mixin of server.FakePeriskope).

Late arrivals (late.py), soft and hard deletes (deletions.py), a phone going
offline (outages.py) and changes at the Nth request (schedule.py). They act on
`self.org`, the organisation of the server's API key.
"""

from . import deletions, late, outages


class Situations:
    """Staging helpers; the class using it provides `org` and `schedule`."""

    def deliver_late(self, stream, phone=None, count=1, newest_age_seconds=3600.0, spacing_seconds=60.0, **overrides):
        """Add `count` past-dated records (newest `newest_age_seconds` old, `spacing_seconds` apart); newest first."""
        return late.deliver_late(self.org, stream, phone, count, newest_age_seconds, spacing_seconds, **overrides)

    def soft_delete(self, stream, key, phone=None):
        """Mark a ticket, message or note `is_deleted: true` (it stays listed); returns the new version."""
        return deletions.soft_delete(self.org, stream, key, phone)

    def hard_delete(self, stream, key, phone=None):
        """Remove a record from lists and by-id endpoints (404 from then on); returns what was removed."""
        return deletions.hard_delete(self.org, stream, key, phone)

    def disconnect(self, phone, started_seconds_ago=0.0):
        """Take a phone offline: DISCONNECTED, and records added for it are held back until reconnect."""
        return outages.disconnect(self.org, self.org.phone_or_default(phone), started_seconds_ago)

    def reconnect(self, phone):
        """Bring a phone back: CONNECTED, and its held-back records appear at once; returns them."""
        return outages.reconnect(self.org, self.org.phone_or_default(phone))

    def outage_traffic(self, phone, count, stream="messages", **overrides):
        """Add `count` records for an offline phone, timestamps spread over its outage; returns them."""
        return outages.outage_traffic(self.org, self.org.phone_or_default(phone), count, stream, **overrides)

    def held_back(self, phone):
        """The (stream, record) pairs an offline phone holds back."""
        with self.org.lock:
            return [(stream, record) for stream, record in self.org.outages.held(self.org.phone_or_default(phone))]

    def at_request(self, n, action, path_contains=None):
        """Run `action()` just before the n-th /v1 request from now (matching `path_contains`); see schedule.py."""
        return self.schedule.add(n, action, path_contains)
