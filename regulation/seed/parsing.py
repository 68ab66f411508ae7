"""Reading the facts' formats: fuzzy dates, published figures and statistics' periods.

Each parser raises EntryError naming what is wrong, so the checks can report it against the
entry and the field it came from.
"""

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from regulation.dates import Precision, from_facts
from regulation.models import Unit


class EntryError(ValueError):
    """One problem with one field of one entry."""


_FUZZY_DATE = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<rest>.*)")
# What may follow a source's date: a bracketed qualifier, a year range ("2025–2026") or a
# second month or day ("2024-07/08": July or August 2024, kept as July with the words).
_DATE_QUALIFIER = re.compile(r"(?:\s*\(.*\)|–\d{4}|/\d{2})")


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
    """A milestone's date fields, read by the one reading of the facts' date forms
    (regulation.dates.from_facts)."""
    try:
        value = from_facts(text, precision, season, label)
    except ValueError as error:
        raise EntryError(str(error)) from error
    return {
        "date": value.date,
        "date_precision": str(value.precision),
        "certainty": value.certainty,
        "date_label": value.label,
    }


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


# Police years as the facts write them. A bare '2023/24' names the years but not their months,
# so only a label ending '(year to Mar 2025)' gives dates.
_FINANCIAL_YEARS = re.compile(r"\d{4}/\d{2}(?:\s*(?:→|,)\s*\d{4}/\d{2})*\s*\(year to Mar (\d{4})\)")
_CALENDAR_YEARS = re.compile(r"(\d{4})(?:–(\d{4}))?")
_HALF_YEAR = re.compile(r"H([12]) (\d{4})")


def parse_period(label: str) -> tuple[dt.date | None, dt.date | None]:
    """Start and end of a statistic's period where its label states one unambiguously.

    '2024/25 (year to Mar 2025)' runs from 1 April 2024 to 31 March 2025; a bare '2023/24' keeps
    no dates, because the facts do not say which months it covers. Labels in other forms
    ('to Jun 2024', '2023 research') keep no dates either.
    """
    label = label.strip()
    if match := _FINANCIAL_YEARS.fullmatch(label):
        years = [int(y) for y in re.findall(r"(\d{4})/\d{2}", label)]
        if int(match[1]) != years[-1] + 1:
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
