"""Reading the facts' formats: fuzzy dates, published figures and statistics' periods.

Each parser raises EntryError naming what is wrong, so the checks can report it against the
entry and the field it came from.
"""

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from regulation.dates import Precision
from regulation.models import Certainty, Unit


class EntryError(ValueError):
    """One problem with one field of one entry."""


_FUZZY_DATE = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<rest>.*)")
# What may follow a source's date: a bracketed qualifier, a year range ("2025–2026") or a
# second month or day ("2024-07/08": July or August 2024, kept as July with the words).
_DATE_QUALIFIER = re.compile(r"(?:\s*\(.*\)|–\d{4}|/\d{2})")
SEASON_START_MONTHS = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}


def parse_fuzzy_date(text: str) -> tuple[dt.date | None, str, str]:
    """'2024-12-16' / '2024-12' / '2024' / '2020-03 (site updated 2023)' / 'undated (...)'.

    Returns (first day of the period, precision, what qualifies the date in words). A day that
    does not exist (30 February) raises EntryError.
    """
    match = _FUZZY_DATE.fullmatch(text.strip())
    if not match:
        return None, Precision.DAY, text.strip()
    year, month, day = match["year"], match["month"], match["day"]
    rest = match["rest"].strip()
    try:
        if day:
            return dt.date(int(year), int(month), int(day)), Precision.DAY, rest
        if month:
            return dt.date(int(year), int(month), 1), Precision.MONTH, rest
    except ValueError as error:
        raise EntryError(f"{text!r} is not a real date ({error})") from error
    return dt.date(int(year), 1, 1), Precision.YEAR, rest


def source_date(text: str) -> tuple[dt.date | None, str, str]:
    """A source's date: a fuzzy date, optionally qualified, or 'undated (...)'. Anything else
    ('yesterday', '26-10-2023') is refused rather than kept as words nobody can sort."""
    value, precision, rest = parse_fuzzy_date(text)
    if value is None:
        if text.strip().startswith("undated"):
            return None, Precision.DAY, text.strip()
        raise EntryError(
            f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD (optionally followed "
            "by a note in brackets), or 'undated (...)'"
        )
    if rest and not _DATE_QUALIFIER.fullmatch(rest):
        raise EntryError(f"{text!r}: unreadable qualifier {rest!r} after the date")
    return value, precision, rest


def milestone_date(
    text: str, precision: str, season: str | None = None, label: str | None = None
) -> dict[str, Any]:
    """A milestone's date fields. The facts' precision 'expected' is a certainty, not a precision:
    the precision then follows from how much of the date is given, or from its season."""
    if precision not in ("day", "month", "year", "expected"):
        raise EntryError(f"unknown precision {precision!r} (day, month, year or expected)")
    value, parsed_precision, rest = parse_fuzzy_date(text)
    if value is None:
        raise EntryError(f"unreadable date {text!r}")
    if precision not in ("expected", parsed_precision):
        raise EntryError(f"date {text!r} does not match its precision {precision!r}")
    date_label = label or ""
    if rest:
        if rest != "(mid)":
            raise EntryError(f"unreadable qualifier {rest!r} in date {text!r}")
        date_label = date_label or f"mid-{value.year}"
    if season:
        value, parsed_precision = _season_start(value, parsed_precision, season)
    return {
        "date": value,
        "date_precision": parsed_precision,
        "certainty": Certainty.EXPECTED if precision == "expected" else Certainty.CONFIRMED,
        "date_label": date_label,
    }


def _season_start(value: dt.date, precision: str, season: str) -> tuple[dt.date, str]:
    if season not in SEASON_START_MONTHS:
        raise EntryError(f"unknown season {season!r} (spring, summer, autumn or winter)")
    if precision != Precision.YEAR:
        raise EntryError("a season needs a date given as a year")
    if "season" not in Precision.values:
        raise EntryError("this tracker cannot store a season's precision yet")
    return dt.date(value.year, SEASON_START_MONTHS[season], 1), "season"


def commitment_date(text: str, precision: str) -> tuple[dt.date, str]:
    made_on, parsed_precision, rest = parse_fuzzy_date(text)
    if made_on is None or rest:
        raise EntryError(f"unreadable date {text!r}")
    if parsed_precision != precision:
        raise EntryError(f"date {text!r} does not match its precision {precision!r}")
    return made_on, parsed_precision


_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})*)(?:\s*\([^()]*\))?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
_PERCENT_CHANGE = re.compile(r"([+-]\d+(?:\.\d+)?)%")


def parse_value(text: str) -> tuple[Decimal | None, str]:
    """A figure as published -> (number, unit) where it is one plain number; else words.

    A count may carry a qualifier in brackets ("7,263 (record)"): the words stay in the
    published text, the number feeds charts.
    """
    text = text.strip()
    if match := _COUNT.fullmatch(text):
        return Decimal(match[1].replace(",", "")), Unit.COUNT
    if match := _PERCENT.fullmatch(text):
        return Decimal(match[1]), Unit.PERCENT
    if match := _PERCENT_CHANGE.fullmatch(text):
        return Decimal(match[1]), Unit.PERCENT_CHANGE
    return None, Unit.TEXT


_FINANCIAL_YEARS = re.compile(
    r"\d{4}/\d{2}(?:\s*(?:→|,)\s*\d{4}/\d{2})*(?:\s*\((?:annual|year to Mar (\d{4}))\))?"
)
_CALENDAR_YEARS = re.compile(r"(\d{4})(?:–(\d{4}))?")
_HALF_YEAR = re.compile(r"H([12]) (\d{4})")


def parse_period(label: str) -> tuple[dt.date | None, dt.date | None]:
    """Start and end of a statistic's period where its label states one unambiguously.

    Police-recorded crime is counted in financial years: '2023/24' runs from 1 April 2023 to
    31 March 2024. Labels in other forms ('to Jun 2024', '2023 research') keep no dates.
    """
    label = label.strip()
    if match := _FINANCIAL_YEARS.fullmatch(label):
        years = [int(y) for y in re.findall(r"(\d{4})/\d{2}", label)]
        if match[1] and int(match[1]) != years[-1] + 1:
            return None, None
        return dt.date(years[0], 4, 1), dt.date(years[-1] + 1, 3, 31)
    if match := _CALENDAR_YEARS.fullmatch(label):
        first, last = int(match[1]), int(match[2] or match[1])
        return dt.date(first, 1, 1), dt.date(last, 12, 31)
    if match := _HALF_YEAR.fullmatch(label):
        half, year = int(match[1]), int(match[2])
        if half == 1:
            return dt.date(year, 1, 1), dt.date(year, 6, 30)
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return None, None
