"""The next-page rules (source_periskope/paging.py) and the learned page size (page_sizes.py), on their own."""

import pytest

from source_periskope import page_sizes, paging
from source_periskope.paging import BY_OFFSET, BY_TIME, IN_ONE_SECOND, PageRequest, TimePage


def request(offset=0, limit=4, start="2026-01-01T00:00:00Z", end="2026-02-01T00:00:01Z"):
    return PageRequest(offset, limit, start, end)


def page(times, keys=None, **asked):
    return TimePage(request(**asked), times, keys or [f"k{n}" for n in range(len(times))])


def test_the_next_page_ends_at_the_second_of_the_oldest_record_and_carries_that_seconds_keys():
    times = ["2026-01-20T10:00:05.5+00:00", "2026-01-20T10:00:03+00:00", "2026-01-20T10:00:01.9+00:00", "2026-01-20T10:00:01.1+00:00"]
    token, problem = paging.next_time_token(page(times), None, limit=4, largest=1999)

    assert problem is None
    assert token == {"mode": BY_TIME, "start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-20T10:00:02Z",
                     "offset": 0, "seen": ["k2", "k3"], "limit": 4}


def test_a_short_page_ends_the_window():
    assert paging.next_time_token(page(["2026-01-20T10:00:05+00:00"]), None, 4, 1999) == (None, None)


def test_a_page_that_is_one_second_reads_that_second_alone_with_the_largest_page():
    times = ["2026-01-20T10:00:01.9+00:00"] * 4
    token, _ = paging.next_time_token(page(times, end="2026-01-20T10:00:02Z"), {"mode": BY_TIME}, 4, 1999)

    assert token["mode"] == IN_ONE_SECOND and token["limit"] == 1999 and token["offset"] == 0
    assert (token["start_time"], token["end_time"]) == ("2026-01-20T10:00:01Z", "2026-01-20T10:00:02Z")


def test_a_crowded_second_that_comes_whole_goes_on_below_it_without_a_second_pass():
    tie = {"mode": IN_ONE_SECOND, "second": "2026-01-20T10:00:01", "start_time": "2026-01-20T10:00:01Z",
           "end_time": "2026-01-20T10:00:02Z", "offset": 0, "seen": ["a", "b"], "pass": 1, "grew": False,
           "window_start": "2026-01-01T00:00:00Z"}
    whole = TimePage(request(limit=1999, start=tie["start_time"], end=tie["end_time"]), ["2026-01-20T10:00:01+00:00"] * 5, ["a", "b", "c", "d", "e"])
    token, problem = paging.next_time_token(whole, tie, 4, 1999)

    assert problem is None
    assert token["mode"] == BY_TIME and token["end_time"] == "2026-01-20T10:00:01Z" and token["start_time"] == "2026-01-01T00:00:00Z"
    assert set(token["seen"]) == {"a", "b", "c", "d", "e"}


def test_a_second_larger_than_the_largest_page_is_read_in_passes_until_one_finds_nothing_new():
    tie = {"mode": IN_ONE_SECOND, "second": "2026-01-20T10:00:01", "start_time": "2026-01-20T10:00:01Z",
           "end_time": "2026-01-20T10:00:02Z", "offset": 0, "seen": [], "pass": 1, "grew": False, "window_start": None}
    ask = dict(limit=2, start=tie["start_time"], end=tie["end_time"])
    second = ["2026-01-20T10:00:01+00:00"] * 2
    token, _ = paging.next_time_token(TimePage(request(offset=0, **ask), second, ["a", "b"]), tie, 2, 2)
    assert token["mode"] == IN_ONE_SECOND and token["offset"] == 2
    token, _ = paging.next_time_token(TimePage(request(offset=2, **ask), second[:1], ["c"]), token, 2, 2)
    assert token["pass"] == 2 and token["offset"] == 0  # the pass found records: once more
    token, _ = paging.next_time_token(TimePage(request(offset=0, **ask), second, ["c", "a"]), token, 2, 2)
    token, problem = paging.next_time_token(TimePage(request(offset=2, **ask), second[:1], ["b"]), token, 2, 2)
    assert problem is None and token["mode"] == BY_TIME and set(token["seen"]) == {"a", "b", "c"}


@pytest.mark.parametrize("times", [
    ["2026-01-20T10:00:01+00:00", "2026-01-20T10:00:05+00:00", "2026-01-20T10:00:00+00:00", "2026-01-20T09:00:00+00:00"],
    ["2026-03-01T00:00:00+00:00", "2026-01-20T10:00:05+00:00", "2026-01-20T10:00:00+00:00", "2026-01-20T09:00:00+00:00"],
    [None, "2026-01-20T10:00:05+00:00", "2026-01-20T10:00:00+00:00", "2026-01-20T09:00:00+00:00"],
], ids=["not descending", "after end_time", "no cursor"])
def test_a_page_not_in_the_assumed_order_goes_on_by_offset_with_a_warning(times):
    token, problem = paging.next_time_token(page(times), None, 4, 1999)

    assert problem and token["mode"] == BY_OFFSET and token["offset"] == 4


def test_records_of_one_second_in_any_order_are_in_order():
    times = ["2026-01-20T10:00:01.1+00:00", "2026-01-20T10:00:01.9+00:00", "2026-01-20T10:00:00+00:00", "2026-01-19T00:00:00+00:00"]
    assert paging.next_time_token(page(times), None, 4, 1999)[1] is None


def test_an_offset_page_overlaps_the_previous_one_and_continues_after_its_last_record():
    first, _ = paging.next_overlap_token(PageRequest(0, 100, None, None), [f"t{n}" for n in range(100)], None, 100)
    assert first["offset"] == 90 and first["tail"] == [f"t{n}" for n in range(90, 100)]
    # Three records left the list above: the tail is found three places up, and reading goes on.
    moved = [f"t{n}" for n in range(93, 193)]
    second, problem = paging.next_overlap_token(PageRequest(90, 100, None, None), moved, first, 100)
    assert problem is None and second["offset"] == 180


def test_an_offset_page_without_any_of_the_previous_tail_steps_back():
    first, _ = paging.next_overlap_token(PageRequest(0, 100, None, None), [f"t{n}" for n in range(100)], None, 100)
    token, problem = paging.next_overlap_token(PageRequest(90, 100, None, None), [f"t{n}" for n in range(150, 250)], first, 100)
    assert problem is None and token["offset"] == 0 and token["steps_back"] == 1 and token["tail"] == first["tail"]


def test_small_pages_still_move_on():
    assert paging.overlap_for(10) == 2 and paging.overlap_for(100) == 10 and paging.overlap_for(1999) == 10
    assert paging.overlap_for(1) == 0


def test_the_keys_a_page_repeats_wait_for_that_page_only():
    waiting = paging.EmittedBefore()
    waiting.remember("chats", "9198", {"start_time": "S", "end_time": "E", "offset": 0, "seen": ["a"]})
    assert waiting.take("chats", "9199", PageRequest(0, 10, "S", "E")) == frozenset()
    assert waiting.take("chats", "9198", PageRequest(0, 10, "S", "E")) == {"a"}
    assert waiting.take("chats", "9198", PageRequest(0, 10, "S", "E")) == frozenset()


@pytest.mark.parametrize("message, refused, bound", [
    ("Limit should be less than 2000", 2000, 1999),
    ("Limit should be less than 1000", 2000, 999),
    ("Maximum - 500", 2000, 500),
    ("Invalid limit", 2000, 1000),
])
def test_the_bound_a_422_names(message, refused, bound):
    body = {"code": "VALIDATION_ERROR", "fields": {"limit": {"message": message}}, "message": message}
    assert page_sizes.bound_named(body, refused) == bound


def test_a_learned_page_size_holds_for_its_endpoint_until_the_next_sync():
    config = {"base_url": "https://api.example/v1", "page_size": 2000}
    body = {"code": "VALIDATION_ERROR", "fields": {"limit": {"message": "Limit should be less than 2000"}}}
    page_sizes.forget()
    assert page_sizes.learn("https://api.example/v1/chats?limit=2000", 2000, body) == 1999
    assert page_sizes.page_size_for(config, "/chats") == 1999 and page_sizes.page_size_for(config, "/tickets") == 2000
    page_sizes.forget()
    assert page_sizes.page_size_for(config, "/chats") == 2000
