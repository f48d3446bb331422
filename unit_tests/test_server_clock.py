"""The API's clock's lag behind the connector's, from the Date headers of its answers (server_clock.py)."""

from email.utils import formatdate

from source_periskope.server_clock import ServerClock

NOW = 1_796_000_000.0  # epoch seconds, when the answer was received


def lag_after(*answers):
    clock = ServerClock()
    for date, received_at in answers:
        clock.observe({"Date": date} if date is not None else {}, received_at=received_at)
    return clock.behind().total_seconds()


def test_a_clock_on_time_shows_no_lag_whatever_the_fraction_of_its_second():
    assert lag_after((formatdate(NOW, usegmt=True), NOW + 0.999), (formatdate(NOW - 0.5, usegmt=True), NOW)) == 0


def test_a_clock_ten_minutes_behind_shows_ten_minutes_give_or_take_the_dates_second():
    assert 599 <= lag_after((formatdate(NOW - 600, usegmt=True), NOW + 0.3)) <= 600


def test_the_largest_lag_of_the_sync_counts_and_start_sync_forgets_it():
    clock = ServerClock()
    clock.observe({"Date": formatdate(NOW - 600, usegmt=True)}, received_at=NOW)
    clock.observe({"Date": formatdate(NOW, usegmt=True)}, received_at=NOW)
    assert clock.behind().total_seconds() == 599
    clock.start_sync()
    assert clock.behind().total_seconds() == 0


def test_an_answer_without_a_readable_date_teaches_nothing():
    assert lag_after((None, NOW), ("yesterday", NOW), ("", NOW)) == 0


def test_a_clock_ahead_is_no_lag():
    assert lag_after((formatdate(NOW + 3600, usegmt=True), NOW)) == 0
