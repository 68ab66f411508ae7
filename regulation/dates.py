"""Dates known only to a precision: a day, a month, a quarter or a year.

A fuzzy date is stored as the first day of its period plus a precision; the last day of the
period is derived from both. The site must never show a made-up day: "July 2026", not
"1 July 2026".
"""

import calendar
import datetime as dt

from django.db import models


class Precision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


def period_start(value: dt.date, precision: str) -> dt.date:
    """The first day of the period that contains value at the given precision."""
    if precision == Precision.DAY:
        return value
    if precision == Precision.MONTH:
        return value.replace(day=1)
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
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    if precision == Precision.QUARTER:
        last_month = start.month + 2
        return dt.date(start.year, last_month, calendar.monthrange(start.year, last_month)[1])
    return dt.date(start.year, 12, 31)


def format_fuzzy(value: dt.date | None, precision: str) -> str:
    """A date as a reader should see it: only as precise as we know it."""
    if value is None:
        return "date unknown"
    if precision == Precision.DAY:
        return f"{value.day} {value:%B %Y}"
    if precision == Precision.MONTH:
        return f"{value:%B %Y}"
    if precision == Precision.QUARTER:
        return f"Q{(value.month - 1) // 3 + 1} {value.year}"
    if precision == Precision.YEAR:
        return str(value.year)
    raise ValueError(f"unknown precision {precision!r}")


def iso_fuzzy(value: dt.date, precision: str) -> str:
    """The ISO 8601 form at the date's precision: 2024-12-16, 2024-12, 2024-Q4 or 2024."""
    if precision == Precision.DAY:
        return value.isoformat()
    if precision == Precision.MONTH:
        return f"{value:%Y-%m}"
    if precision == Precision.QUARTER:
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    if precision == Precision.YEAR:
        return str(value.year)
    raise ValueError(f"unknown precision {precision!r}")
