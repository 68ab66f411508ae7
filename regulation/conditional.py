"""Conditional GET for the public pages and feeds: an ETag and a Last-Modified read in one
query, so a reader (or a feed reader polling every few minutes) that has the current version
gets a 304 without the page being built."""

import datetime as dt
import hashlib
from collections.abc import Callable

from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.http import condition

from regulation.models import last_change


def conditional_on(*models_: type[models.Model], daily: bool = False) -> Callable:
    """condition() with validators from the tables the view reads. The stamp is read once per
    request and shared by the two validators. A `daily` page also changes when the day does
    (what is upcoming, a countdown, the "today" marker), data or not."""

    def stamp(request: HttpRequest) -> tuple[dt.datetime | None, int]:
        if not hasattr(request, "_regulation_stamp"):
            latest, rows = last_change(*models_)
            if daily:
                # On a real clock every change is in the past, so the later of the latest change
                # and today's midnight moves forward each day as well as with each change. (A
                # change stamped later than the clock, which only a test that moves the clock
                # back can make, holds the stamp until that day.)
                today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
                latest = max(latest, today) if latest else today
            request._regulation_stamp = (latest, rows)
        return request._regulation_stamp

    def etag(request: HttpRequest, *args, **kwargs) -> str:
        latest, rows = stamp(request)
        # The full path: each filter and query string is its own representation.
        key = f"{request.get_full_path()}|{latest.isoformat() if latest else ''}|{rows}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def last_modified(request: HttpRequest, *args, **kwargs) -> dt.datetime | None:
        return stamp(request)[0]

    return condition(etag_func=etag, last_modified_func=last_modified)
