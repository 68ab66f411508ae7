"""Fuzzy dates: a day, a month, a season, a quarter or a year, shown no more precisely than we
know them."""

import datetime as dt
import re

import pytest

from regulation.dates import (
    Certainty,
    FactDate,
    Precision,
    format_fuzzy,
    from_facts,
    iso_fuzzy,
    period_end,
    period_start,
    season_start,
)


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


@pytest.mark.parametrize(
    "precision", [Precision.MONTH, Precision.SEASON, Precision.QUARTER, Precision.YEAR]
)
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


# --- Seasons, with the UK's usual meanings ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        (dt.date(2027, 3, 1), dt.date(2027, 3, 1), dt.date(2027, 5, 31)),  # spring
        (dt.date(2027, 5, 31), dt.date(2027, 3, 1), dt.date(2027, 5, 31)),
        (dt.date(2026, 6, 1), dt.date(2026, 6, 1), dt.date(2026, 8, 31)),  # summer
        (dt.date(2026, 8, 31), dt.date(2026, 6, 1), dt.date(2026, 8, 31)),
        (dt.date(2026, 9, 1), dt.date(2026, 9, 1), dt.date(2026, 11, 30)),  # autumn
        (dt.date(2026, 11, 29), dt.date(2026, 9, 1), dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.date(2027, 2, 28)),  # winter
        (dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2027, 2, 28)),
        (dt.date(2027, 1, 15), dt.date(2026, 12, 1), dt.date(2027, 2, 28)),
        (dt.date(2027, 2, 28), dt.date(2026, 12, 1), dt.date(2027, 2, 28)),
    ],
)
def test_a_season_runs_over_its_three_uk_months(value, start, end):
    assert period_start(value, Precision.SEASON) == start
    assert period_end(value, Precision.SEASON) == end


def test_winter_crosses_the_year_end_and_ends_on_29_february_in_a_leap_year():
    assert period_start(dt.date(2028, 2, 29), Precision.SEASON) == dt.date(2027, 12, 1)
    assert period_end(dt.date(2027, 12, 1), Precision.SEASON) == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    ("year", "season", "start"),
    [
        (2027, "spring", dt.date(2027, 3, 1)),
        (2026, "summer", dt.date(2026, 6, 1)),
        (2026, "autumn", dt.date(2026, 9, 1)),
        (2026, "winter", dt.date(2026, 12, 1)),  # the facts date a season by the year it starts
    ],
)
def test_a_season_starts_on_the_first_day_of_its_first_month(year, season, start):
    assert season_start(year, season) == start


def test_a_season_it_does_not_know_is_an_error():
    with pytest.raises(ValueError, match="unknown season 'monsoon'"):
        season_start(2026, "monsoon")


@pytest.mark.parametrize(
    ("value", "shown", "iso"),
    [
        (dt.date(2027, 4, 1), "spring 2027", "2027-21"),
        (dt.date(2026, 6, 1), "summer 2026", "2026-22"),
        (dt.date(2026, 10, 26), "autumn 2026", "2026-23"),
        (dt.date(2026, 12, 1), "winter 2026–27", "2026-24"),
        (dt.date(2027, 2, 1), "winter 2026–27", "2026-24"),
        (dt.date(2099, 12, 1), "winter 2099–00", "2099-24"),
    ],
)
def test_it_shows_a_season_by_name_and_writes_its_iso_8601_2_code(value, shown, iso):
    assert format_fuzzy(value, Precision.SEASON) == shown
    assert iso_fuzzy(value, Precision.SEASON) == iso


# --- Dates as the facts files write them ------------------------------------------------------

EXPECTED, CONFIRMED = Certainty.EXPECTED, Certainty.CONFIRMED


@pytest.mark.parametrize(
    ("date", "precision", "season", "label", "stored"),
    [
        ("2024-12-16", "day", None, None, (dt.date(2024, 12, 16), "day", CONFIRMED, "")),
        ("2025-12", "month", None, None, (dt.date(2025, 12, 1), "month", CONFIRMED, "")),
        ("2019", "year", None, None, (dt.date(2019, 1, 1), "year", CONFIRMED, "")),
        # 'expected' is a certainty: the precision follows from how much date is written.
        ("2026-10-26", "expected", None, None, (dt.date(2026, 10, 26), "day", EXPECTED, "")),
        ("2027-01", "expected", None, None, (dt.date(2027, 1, 1), "month", EXPECTED, "")),
        ("2027", "expected", "spring", None, (dt.date(2027, 3, 1), "season", EXPECTED, "")),
        ("2026", "expected", "autumn", None, (dt.date(2026, 9, 1), "season", EXPECTED, "")),
        ("2026", "expected", "winter", None, (dt.date(2026, 12, 1), "season", EXPECTED, "")),
        (
            "2026",
            "expected",
            None,
            "late 2026",
            (dt.date(2026, 1, 1), "year", EXPECTED, "late 2026"),
        ),
        (
            "2026",
            "expected",
            None,
            "by the end of 2026",
            (dt.date(2026, 1, 1), "year", EXPECTED, "by the end of 2026"),
        ),
        ("2027 (mid)", "expected", None, None, (dt.date(2027, 1, 1), "year", EXPECTED, "mid-2027")),
    ],
)
def test_it_reads_a_facts_date_into_what_a_milestone_stores(date, precision, season, label, stored):
    assert from_facts(date, precision, season, label) == FactDate(*stored)


@pytest.mark.parametrize(
    ("date", "precision", "season", "label", "error"),
    [
        ("2026-07", "day", None, None, "does not match its precision 'day'"),
        ("2026", "month", None, None, "does not match its precision 'month'"),
        ("2026-07", "expected", "summer", None, "a season needs a date that is only a year"),
        ("2026", "expected", "monsoon", None, "unknown season 'monsoon'"),
        ("2026", "season", None, None, "unknown precision 'season'"),
        ("2026-02-30", "day", None, None, "impossible date '2026-02-30'"),
        ("summer 2026", "expected", None, None, "unreadable date 'summer 2026'"),
        ("2027 (mid)", "expected", None, "early 2027", "both '(mid)' and the label"),
    ],
)
def test_it_refuses_a_facts_date_that_does_not_fit(date, precision, season, label, error):
    with pytest.raises(ValueError, match=re.escape(error)):
        from_facts(date, precision, season, label)
