"""Ordered record collections that the list endpoints page through.

`LazyTimeline` serves a stream whose base records are generated on demand
(messages, notifications, notes, reactions): newest first, with the base
record at index i always older than the one at i-1. On top of the base:

* overrides: base records changed in place (same key, same timestamp), e.g.
  an edited message body; they keep their position.
* extras: records outside the base order: ones added with add_record, and base
  records whose timestamp or chat changed (those base slots are hidden).
* hidden base slots without an extra: records removed (hard-deleted).

Paging merges the base (via arithmetic and binary search) with the small,
sorted extras list, so a page deep inside a million-record stream costs about
the same as the first page.

`SortedTable` serves the small, materialised streams (chats, contacts,
tickets, phones): a plain list re-sorted after each change. A page is a
slice of it (a time window is found by binary search, and `match` filters
are cached until the next change), so paging through thousands of contacts
does not filter the whole list per page.
"""

import bisect
from array import array

from .timefmt import parse_record_ts


def first_true(low: int, high: int, predicate) -> int:
    """Smallest position in [low, high) where a monotone predicate holds (high if none)."""
    while low < high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle
        else:
            low = middle + 1
    return low


class LazyTimeline:
    def __init__(self, generator, key_field: str, time_field: str = "timestamp", indexed_fields=("chat_id",)):
        self.generator = generator  # has size, time_us(i), record(i), index_of_key(key), <field>_of(i)
        self.key_field = key_field
        self.time_field = time_field
        # Fields the sub-indices are built on; changing them moves a record out of the base.
        self.indexed_fields = tuple(indexed_fields)
        self.overrides = {}  # base index -> changed record (same position)
        self.hidden = set()  # base indices whose record now lives in extras (or was removed)
        self.extras = []  # sorted list of (-time_us, key, record)
        self.extra_keys = {}  # key -> record for extras
        self._sub_indices = {}  # field names tuple -> {values tuple: array of base indices}

    # -- lookups ------------------------------------------------------------
    def get(self, key):
        if key in self.extra_keys:
            return self.extra_keys[key]
        index = self.generator.index_of_key(key)
        if index is None or index in self.hidden:
            return None
        return self.overrides.get(index) or self.generator.record(index)

    def __len__(self):
        return self.generator.size - len(self.hidden) + len(self.extras)

    def all_records(self):
        return self.page(0, len(self))[0]

    # -- changes --------------------------------------------------------------
    def add(self, record: dict):
        key = record[self.key_field]
        if self.get(key) is not None:
            raise ValueError(f"{self.key_field} {key!r} already exists")
        self._insert_extra(record)

    def replace(self, key, new_record: dict):
        """Store a changed version of an existing record, moving it if its order changed."""
        if new_record[self.key_field] != key:
            raise ValueError(f"the key field {self.key_field} cannot change")
        if key in self.extra_keys:
            self._remove_extra(key)
            self._insert_extra(new_record)
            return
        index = self.generator.index_of_key(key)
        old_record = self.overrides.get(index) or self.generator.record(index)
        moved_fields = (self.time_field,) + self.indexed_fields
        if all(old_record.get(f) == new_record.get(f) for f in moved_fields):
            self.overrides[index] = new_record
        else:  # its slot no longer matches: take it out of the base order
            self.overrides.pop(index, None)
            self.hidden.add(index)
            self._insert_extra(new_record)

    def remove(self, key):
        """Take a record out of the stream (its by-key lookup then finds nothing)."""
        if key in self.extra_keys:
            self._remove_extra(key)
            return
        index = self.generator.index_of_key(key)
        if index is None or index in self.hidden:
            raise KeyError(key)
        self.overrides.pop(index, None)
        self.hidden.add(index)

    def _insert_extra(self, record):
        key = record[self.key_field]
        entry = (-parse_record_ts(record[self.time_field]), key, record)
        bisect.insort(self.extras, entry, key=lambda item: item[:2])
        self.extra_keys[key] = record

    def _remove_extra(self, key):
        self.extras = [entry for entry in self.extras if entry[1] != key]
        del self.extra_keys[key]

    # -- paging ---------------------------------------------------------------
    def page(self, offset: int, limit: int, start_us=None, end_us=None, match=None):
        """(records at [offset, offset+limit) of the filtered order, total matching)."""
        sequence = self._base_sequence(match)
        time_at = self._time_at(sequence)
        low = 0 if end_us is None else first_true(0, len(sequence), lambda p: time_at(p) <= end_us)
        high = len(sequence) if start_us is None else first_true(low, len(sequence), lambda p: time_at(p) < start_us)
        hidden = self._hidden_positions(sequence, low, high)
        extras = [e for e in self.extras if _in_window(-e[0], start_us, end_us) and _matches(e[2], match)]
        ranks = [self._merged_rank(n, entry, sequence, time_at, low, high, hidden) for n, entry in enumerate(extras)]
        total = (high - low - len(hidden)) + len(extras)
        stop = min(offset + limit, total)
        if offset >= stop:
            return [], total

        records = []
        next_extra = bisect.bisect_left(ranks, offset)
        position = self._position_of_visible(offset - next_extra, low, hidden)
        hidden_set = set(hidden)
        for rank in range(offset, stop):
            if next_extra < len(extras) and ranks[next_extra] == rank:
                records.append(extras[next_extra][2])
                next_extra += 1
                continue
            while position in hidden_set:
                position += 1
            index = sequence[position]
            records.append(self.overrides.get(index) or self.generator.record(index))
            position += 1
        return records, total

    def _base_sequence(self, match):
        """Base indices in order: all of them, or those matching `match` (via a cached sub-index)."""
        if not match:
            return range(self.generator.size)
        fields = tuple(sorted(match))
        index = self._sub_indices.get(fields)
        if index is None:
            index = self._build_sub_index(fields)
            self._sub_indices[fields] = index
        return index.get(tuple(match[f] for f in fields), array("q"))

    def _build_sub_index(self, fields):
        # One pass over the base using the generators' cheap <field>_of(i)
        # functions; arrays keep a million entries at 8 bytes each.
        value_functions = [self.generator.field_function(field) for field in fields]
        index = {}
        for i in range(self.generator.size):
            values = tuple(function(i) for function in value_functions)
            index.setdefault(values, array("q")).append(i)
        return index

    def _time_at(self, sequence):
        time_us = self.generator.time_us
        return lambda position: time_us(sequence[position])

    def _hidden_positions(self, sequence, low, high):
        positions = []
        for index in self.hidden:
            position = index if isinstance(sequence, range) else bisect.bisect_left(sequence, index)
            if low <= position < high and position < len(sequence) and sequence[position] == index:
                positions.append(position)
        return sorted(positions)

    def _merged_rank(self, extra_number, entry, sequence, time_at, low, high, hidden):
        """Where an extra record lands in the merged order (extras sorted; base strictly decreasing)."""
        neg_time, key, _record = entry
        extra_time = -neg_time
        position = first_true(low, high, lambda p: time_at(p) <= extra_time)
        if position < high and time_at(position) == extra_time:
            base_record = self.generator.record(sequence[position])
            if base_record[self.key_field] < key:  # equal times: the smaller key comes first
                position += 1
        visible_before = (position - low) - bisect.bisect_left(hidden, position)
        return visible_before + extra_number

    @staticmethod
    def _position_of_visible(ordinal, low, hidden):
        """Position of the ordinal-th visible base record at or after `low`."""
        position = low + ordinal
        for hidden_position in hidden:
            if hidden_position <= position:
                position += 1
            else:
                break
        return position


def _in_window(time_us, start_us, end_us):
    return (start_us is None or time_us >= start_us) and (end_us is None or time_us <= end_us)


def _matches(record, match):
    return not match or all(record.get(field) == value for field, value in match.items())


class SortedTable:
    """A small materialised stream kept in API order."""

    def __init__(self, records, key_field, sort_field, newest_first=True, filter_field=None):
        self.key_field = key_field
        self.sort_field = sort_field
        self.newest_first = newest_first
        self.filter_field = filter_field  # the field start_time/end_time apply to, if any
        self.by_key = {record[key_field]: record for record in records}
        self._ordered = None
        self._sort_keys = None  # ascending keys parallel to _ordered, for bisect
        self._matched = {}  # match items -> matching records in order (until the next change)

    def __len__(self):
        return len(self.by_key)

    def get(self, key):
        return self.by_key.get(key)

    def add(self, record):
        key = record[self.key_field]
        if key in self.by_key:
            raise ValueError(f"{self.key_field} {key!r} already exists")
        self.by_key[key] = record
        self._changed()

    def replace(self, key, new_record):
        if new_record[self.key_field] != key:
            raise ValueError(f"the key field {self.key_field} cannot change")
        self.by_key[key] = new_record
        self._changed()

    def remove(self, key):
        """Take a record out of the table."""
        del self.by_key[key]
        self._changed()

    def _changed(self):
        self._ordered = None
        self._matched = {}

    def ordered(self):
        if self._ordered is None:
            entries = [(parse_record_ts(r[self.sort_field]), r[self.key_field], r) for r in self.by_key.values()]
            if self.newest_first:  # newest first; equal times by ascending key
                entries.sort(key=lambda e: (-e[0], e[1]))
            else:
                entries.sort(key=lambda e: (e[0], e[1]))
            self._ordered = [(time_us, record) for time_us, _key, record in entries]
            self._sort_keys = [-e[0] if self.newest_first else e[0] for e in entries]
        return self._ordered

    def all_records(self):
        return [record for _time, record in self.ordered()]

    def page(self, offset, limit, start_us=None, end_us=None, match=None, predicate=None):
        rows = self.ordered()
        low, high = 0, len(rows)
        if self.filter_field and (start_us is not None or end_us is not None):
            if self.filter_field != self.sort_field:
                raise AssertionError("filtering is only supported on the sort field")
            low, high = self._window(start_us, end_us)
        if not match and predicate is None:  # the common case: a slice
            stop = min(high, low + offset + limit)
            return [record for _t, record in rows[low + offset : stop]], high - low
        if predicate is None and (low, high) == (0, len(rows)):
            selected = self._matching(match)
        else:
            selected = [r for _t, r in rows[low:high] if _matches(r, match) and (predicate is None or predicate(r))]
        return selected[offset : offset + limit], len(selected)

    def _window(self, start_us, end_us):
        """[low, high) positions of the rows inside the inclusive time window."""
        keys = self._sort_keys
        if self.newest_first:  # keys are negated times
            low = 0 if end_us is None else bisect.bisect_left(keys, -end_us)
            high = len(keys) if start_us is None else bisect.bisect_right(keys, -start_us)
        else:
            low = 0 if start_us is None else bisect.bisect_left(keys, start_us)
            high = len(keys) if end_us is None else bisect.bisect_right(keys, end_us)
        return low, max(low, high)

    def _matching(self, match):
        cache_key = tuple(sorted(match.items()))
        if cache_key not in self._matched:
            self._matched[cache_key] = [r for _t, r in self.ordered() if _matches(r, match)]
        return self._matched[cache_key]
