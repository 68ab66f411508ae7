"""Fuzzy dates: a day, a month, a quarter or a year, shown no more precisely than we know them."""

import datetime as dt

import pytest

from regulation.dates import Precision, format_fuzzy, iso_fuzzy, period_end, period_start


@pytest.mark.parametrize(
    ("value", "precision", "start", "end"),
    [
        (dt.date(2024, 12, 16), Precision.DAY, dt.date(2024, 12, 16), dt.date(2024, 12, 16)),
        (dt.date(2026, 7, 1), Precision.MONTH, dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
        (dt.date(2026, 7, 15), Precision.MONTH, dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
        (dt.date(2025, 4, 1), Precision.MONTH, dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
        (dt.date(2024, 12, 1), Precision.MONTH, dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
        (dt.date(2026, 7, 1), Precision.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 8, 20), Precision.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 1, 1), Precision.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2025, 11, 5), Precision.QUARTER, dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        (dt.date(2027, 1, 1), Precision.YEAR, dt.date(2027, 1, 1), dt.date(2027, 12, 31)),
        (dt.date(2027, 6, 30), Precision.YEAR, dt.date(2027, 1, 1), dt.date(2027, 12, 31)),
    ],
)
def test_it_knows_the_first_and_last_day_of_a_fuzzy_date(value, precision, start, end):
    assert period_start(value, precision) == start
    assert period_end(value, precision) == end


def test_february_ends_on_the_29th_in_a_leap_year():
    assert period_end(dt.date(2024, 2, 1), Precision.MONTH) == dt.date(2024, 2, 29)


def test_february_ends_on_the_28th_in_an_ordinary_year():
    assert period_end(dt.date(2025, 2, 1), Precision.MONTH) == dt.date(2025, 2, 28)


def test_the_first_quarter_of_a_leap_year_ends_on_31_march():
    assert period_end(dt.date(2024, 2, 29), Precision.QUARTER) == dt.date(2024, 3, 31)


def test_it_rejects_a_precision_it_does_not_know():
    with pytest.raises(ValueError, match="unknown precision 'week'"):
        period_end(dt.date(2025, 1, 6), "week")


@pytest.mark.parametrize(
    ("value", "precision", "shown"),
    [
        (dt.date(2024, 12, 16), Precision.DAY, "16 December 2024"),
        (dt.date(2025, 3, 1), Precision.DAY, "1 March 2025"),
        (dt.date(2026, 7, 1), Precision.MONTH, "July 2026"),
        (dt.date(2026, 7, 1), Precision.QUARTER, "Q3 2026"),
        (dt.date(2026, 12, 1), Precision.QUARTER, "Q4 2026"),
        (dt.date(2027, 1, 1), Precision.YEAR, "2027"),
    ],
)
def test_it_shows_a_date_only_as_precisely_as_it_is_known(value, precision, shown):
    assert format_fuzzy(value, precision) == shown


@pytest.mark.parametrize("precision", [Precision.MONTH, Precision.QUARTER, Precision.YEAR])
def test_it_never_shows_a_made_up_day(precision):
    shown = format_fuzzy(dt.date(2026, 7, 1), precision)

    assert not shown.startswith("1 ")
    assert "1 July" not in shown


def test_it_says_when_a_date_is_unknown():
    assert format_fuzzy(None, Precision.DAY) == "date unknown"


@pytest.mark.parametrize(
    ("value", "precision", "iso"),
    [
        (dt.date(2024, 12, 16), Precision.DAY, "2024-12-16"),
        (dt.date(2026, 7, 1), Precision.MONTH, "2026-07"),
        (dt.date(2026, 10, 1), Precision.QUARTER, "2026-Q4"),
        (dt.date(2027, 1, 1), Precision.YEAR, "2027"),
    ],
)
def test_it_writes_a_fuzzy_date_in_iso_8601_at_its_precision(value, precision, iso):
    assert iso_fuzzy(value, precision) == iso


@pytest.mark.parametrize("show", [format_fuzzy, iso_fuzzy, period_end])
def test_an_unknown_precision_is_an_error_not_a_guess(show):
    with pytest.raises(ValueError, match="unknown precision"):
        show(dt.date(2026, 7, 1), "fortnight")
