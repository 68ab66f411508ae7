"""Dates known only to a precision: a day, a month, a season, a quarter or a year.

A fuzzy date is stored as the first day of its period plus a precision; the last day of the
period is derived from both. The site must never show a made-up day: "July 2026", not
"1 July 2026".

Seasons have the UK's usual meanings: spring is March–May, summer June–August, autumn
September–November and winter December–February. Winter crosses the year end, so it is named
by both years ("winter 2026–27") and numbered by the year it begins in, as the facts do.
"""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.db import models


class Precision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    SEASON = "season", "Season (spring Mar–May, summer Jun–Aug, autumn Sep–Nov, winter Dec–Feb)"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class Certainty(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    EXPECTED = "expected", "Expected"


class Season(models.TextChoices):
    SPRING = "spring", "Spring"
    SUMMER = "summer", "Summer"
    AUTUMN = "autumn", "Autumn"
    WINTER = "winter", "Winter"


# The month each season begins in, and its ISO 8601-2 code (21 spring ... 24 winter).
SEASON_START_MONTH = {Season.SPRING: 3, Season.SUMMER: 6, Season.AUTUMN: 9, Season.WINTER: 12}
_ISO_SEASON_CODE = {3: 21, 6: 22, 9: 23, 12: 24}


def season_start(year: int, season: str) -> dt.date:
    """The first day of a season in the year it begins: winter 2026 starts on 1 December 2026."""
    try:
        return dt.date(year, SEASON_START_MONTH[Season(season)], 1)
    except ValueError:
        raise ValueError(f"unknown season {season!r}") from None


def _season_name(start: dt.date) -> str:
    season = next(s for s, month in SEASON_START_MONTH.items() if month == start.month)
    if season == Season.WINTER:
        return f"winter {start.year}–{(start.year + 1) % 100:02d}"
    return f"{season.value} {start.year}"


def _last_day_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_start(value: dt.date, precision: str) -> dt.date:
    """The first day of the period that contains value at the given precision."""
    if precision == Precision.DAY:
        return value
    if precision == Precision.MONTH:
        return value.replace(day=1)
    if precision == Precision.SEASON:
        # January and February belong to the winter that began the December before.
        if value.month < 3:
            return dt.date(value.year - 1, 12, 1)
        return dt.date(value.year, 3 * (value.month // 3), 1)
    if precision == Precision.QUARTER:
        return dt.date(value.year, 3 * ((value.month - 1) // 3) + 1, 1)
    if precision == Precision.YEAR:
        return dt.date(value.year, 1, 1)
    raise ValueError(f"unknown precision {precision!r}")


def period_end(value: dt.date, precision: str) -> dt.date:
    """The last day of the period that contains value at the given precision."""
    start = period_start(value, precision)
    if precision == Precision.DAY:
        return start
    if precision == Precision.MONTH:
        return _last_day_of_month(start.year, start.month)
    if precision in (Precision.SEASON, Precision.QUARTER):
        # Three months: the last one may fall in the next year (winter ends in February).
        year, month = divmod(start.year * 12 + start.month - 1 + 2, 12)
        return _last_day_of_month(year, month + 1)
    return dt.date(start.year, 12, 31)


def format_fuzzy(value: dt.date | None, precision: str) -> str:
    """A date as a reader should see it: only as precise as we know it."""
    if value is None:
        return "date unknown"
    if precision == Precision.DAY:
        return f"{value.day} {value:%B %Y}"
    if precision == Precision.MONTH:
        return f"{value:%B %Y}"
    if precision == Precision.SEASON:
        return _season_name(period_start(value, precision))
    if precision == Precision.QUARTER:
        return f"Q{(value.month - 1) // 3 + 1} {value.year}"
    if precision == Precision.YEAR:
        return str(value.year)
    raise ValueError(f"unknown precision {precision!r}")


def iso_fuzzy(value: dt.date, precision: str) -> str:
    """The ISO 8601 form at the date's precision: 2024-12-16, 2024-12, 2026-23 (autumn 2026,
    an ISO 8601-2 season code; winter 2026–27 is 2026-24), 2024-Q4 or 2024."""
    if precision == Precision.DAY:
        return value.isoformat()
    if precision == Precision.MONTH:
        return f"{value:%Y-%m}"
    if precision == Precision.SEASON:
        start = period_start(value, precision)
        return f"{start.year}-{_ISO_SEASON_CODE[start.month]}"
    if precision == Precision.QUARTER:
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    if precision == Precision.YEAR:
        return str(value.year)
    raise ValueError(f"unknown precision {precision!r}")


def html_datetime(value: dt.date, precision: str) -> str:
    """The value of an HTML <time datetime> attribute at the date's precision: a date
    (2024-12-16), a month (2024-12) or a year (2027). HTML has no form for a season or a
    quarter: "" for those (iso_fuzzy's 2026-23 and 2024-Q4 are not valid HTML)."""
    if precision in (Precision.SEASON, Precision.QUARTER):
        return ""
    return iso_fuzzy(value, precision)


# --- Dates as the facts files write them ------------------------------------------------------


@dataclass(frozen=True)
class FactDate:
    """A date from the facts as the tracker stores it."""

    date: dt.date
    precision: str
    certainty: str
    label: str


_FACTS_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:\s*\((mid)\))?")
_FACTS_PRECISIONS = ("day", "month", "year", "expected")


def from_facts(
    date: str, precision: str, season: str | None = None, label: str | None = None
) -> FactDate:
    """Turn a facts entry's (date, precision, season, label) into what a milestone stores.

    The facts' precision 'expected' is a certainty, not a precision: the precision then follows
    from how much of the date is written ('2027-01' is a month, '2027' a year) or from its
    season ('2026' with season 'autumn' is autumn 2026; with 'winter', the winter that begins in
    December 2026). A label keeps a source's wording that no precision fits ('late 2026'); the
    first facts' '2027 (mid)' is the same thing, written into the date. Anything that does not
    fit raises ValueError saying what.
    """
    match = _FACTS_DATE.fullmatch(date.strip())
    if not match:
        raise ValueError(f"unreadable date {date!r}")
    if precision not in _FACTS_PRECISIONS:
        raise ValueError(f"unknown precision {precision!r} for date {date!r}")
    year, month, day, mid = match.groups()
    written = "day" if day else "month" if month else "year"
    if precision != "expected" and precision != written:
        raise ValueError(f"date {date!r} does not match its precision {precision!r}")
    if mid and label:
        raise ValueError(f"date {date!r} has both '(mid)' and the label {label!r}")
    if season and (written != "year" or mid):
        raise ValueError(f"a season needs a date that is only a year, not {date!r}")
    if season:
        value, stored = season_start(int(year), season), Precision.SEASON
    else:
        try:
            value = dt.date(int(year), int(month or 1), int(day or 1))
        except ValueError as error:
            raise ValueError(f"impossible date {date!r}: {error}") from None
        stored = Precision(written)
    return FactDate(
        date=value,
        precision=stored,
        certainty=Certainty.EXPECTED if precision == "expected" else Certainty.CONFIRMED,
        label=f"mid-{year}" if mid else (label or "").strip(),
    )
