"""iCalendar (RFC 5545) files for milestones, attached to reminder e-mails."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings

from tracker.links import absolute

PRODUCT = "-//Online Safety Act tracker//Reminders//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > 75:
            out.append(current.decode())
            current = b" "
        current += encoded
    out.append(current.decode())
    return "\r\n".join(out)


def _event(milestone, stamp: dt.datetime) -> list[str]:
    # An all-day event over the date's whole period: a day, or a month, season or year.
    end = milestone.date_end + dt.timedelta(days=1)
    host = settings.SITE_URL.split("//", 1)[-1]
    return [
        "BEGIN:VEVENT",
        f"UID:milestone-{milestone.pk}@{host}",
        f"DTSTAMP:{stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{milestone.date:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",
        f"SUMMARY:{_escape(milestone.title)}",
        f"DESCRIPTION:{_escape(milestone.date_display)}",
        f"URL:{absolute(milestone.get_absolute_url())}",
        "END:VEVENT",
    ]


def calendar(milestones: Iterable, *, at: dt.datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "METHOD:PUBLISH"]
    for milestone in milestones:
        lines += _event(milestone, at)
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
