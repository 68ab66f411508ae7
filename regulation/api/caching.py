"""Conditional GETs: every answer carries an ETag and a Last-Modified drawn from the latest change
to the knowledge, so a poller that already has the current answer gets a 304 for one query.

The ETag names the data's version, the exact request, its Accept header and its audience, so
an answer is a function of its tag: the answer to an anonymous GET is kept under its tag (the
"api" cache, API_ANSWER_SECONDS) and the next anonymous client asking the same thing while the
data stays the same gets the same bytes for the same one query. Any change to the data makes
a new tag, so a kept answer is never served once the data it was built from has changed. The
"api" cache is each web process's own memory, bounded in entries and in the size of each
(tracker/settings.py), whatever addresses clients invent."""

import datetime as dt
import functools
import hashlib

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.db.models import Model
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from regulation.models import SeedConflict, Topic

PUBLIC_MAX_AGE = 60  # seconds a shared cache may serve a public answer without asking again
# A larger answer (say a page of 200 commitments) is built each time rather than kept.
KEEP_AT_MOST_BYTES = 512 * 1024


def _change_columns() -> list[tuple[type[Model], str]]:
    """(model, time column) for every table whose change can alter an answer: the history of
    every record (which also records deletions and changes of cited sources), and the two
    tables shown without a history of their own."""
    config = apps.get_app_config("regulation")
    histories = [
        m for m in config.get_models() if any(f.name == "history_date" for f in m._meta.fields)
    ]
    columns = [(m, "history_date") for m in histories]
    return [
        *columns,
        (Topic, "updated_at"),
        (SeedConflict, "created_at"),
        (SeedConflict, "resolved_at"),
    ]


@functools.cache
def _data_version_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return " UNION ALL ".join(
        f"SELECT MAX({quote(column)}) AS changed, COUNT(*) AS n FROM {quote(model._meta.db_table)}"
        for model, column in _change_columns()
    )


def data_version() -> tuple[dt.datetime | None, str]:
    """The time of the latest change to the knowledge and a version string that changes with
    every change (including a deletion), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_data_version_sql(connection.vendor))
        rows = cursor.fetchall()
    times = [_as_datetime(changed) for changed, _ in rows if changed is not None]
    latest = max(times) if times else None
    version = "|".join(f"{changed}:{n}" for changed, n in rows)
    return latest, version


def _as_datetime(value) -> dt.datetime:
    # SQLite hands back text from a UNION of aggregates; PostgreSQL a datetime.
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def etag_for(request, version: str, audience: str) -> str:
    """One answer's tag: the data's version, the exact request and who is asking (staff see
    drafts, so they get other answers than the public)."""
    accept = request.headers.get("Accept", "")
    text = "\n".join([version, request.get_full_path(), audience, accept])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


class ConditionalGetMixin:
    """For viewsets: answer 304 when the client's copy is current, before any record is read,
    and mark every GET with its ETag, Last-Modified and Cache-Control."""

    def audience(self) -> str:
        user = self.request.user
        return "staff" if user.is_authenticated and user.is_staff else "public"

    def asked_relative_to_today(self) -> bool:
        """Whether the request names a filter answered from the day it is asked on (what is
        upcoming, past or overdue): its answer changes overnight, data or not."""
        names = getattr(getattr(self, "filterset_class", None), "relative_to_today", ())
        return any(name in self.request.query_params for name in names)

    def not_modified_or_none(self, request):
        latest, version = data_version()
        if self.asked_relative_to_today():
            today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
            latest = max(latest, today) if latest else today
            version = f"{version}|day:{today.date().isoformat()}"
        self._etag = etag_for(request, version, self.audience())
        self._last_modified = latest
        # HTTP dates have whole seconds; the tag tells apart changes within one second.
        timestamp = int(latest.timestamp()) if latest else None
        response = get_conditional_response(
            request, etag=self._etag, last_modified=timestamp, response=None
        )
        if response is not None:
            self._mark(response)
        return response

    def _mark(self, response) -> None:
        response["ETag"] = self._etag
        if self._last_modified is not None:
            response["Last-Modified"] = http_date(self._last_modified.timestamp())
        if self.audience() == "public" and not self.request.user.is_authenticated:
            response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        else:
            response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])

    def list(self, request, *args, **kwargs):
        return self._answer(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._answer(super().retrieve, request, *args, **kwargs)

    def _answer(self, build, request, *args, **kwargs):
        # (`is None`, not `or`: an empty 304 response is falsy.)
        not_modified = self.not_modified_or_none(request)
        if not_modified is not None:
            return not_modified
        key = self._kept_answer_key()
        if key is not None:
            kept = caches["api"].get(key)
            if kept is not None:
                content_type, body = kept
                return self._marked(HttpResponse(body, content_type=content_type))
        response = self._marked(build(request, *args, **kwargs))
        if key is not None:
            response.add_post_render_callback(lambda rendered: self._keep(key, rendered))
        return response

    def _kept_answer_key(self) -> str | None:
        """Where the answer to this request is kept: only anonymous GETs (the public's answers)
        answered as JSON (the browsable API's pages carry a form and its CSRF token)."""
        if (
            settings.API_ANSWER_SECONDS == 0
            or self.request.method != "GET"
            or self.request.user.is_authenticated
            or getattr(self.request.accepted_renderer, "format", None) != "json"
        ):
            return None
        return f"answer:{self._etag}"

    def _keep(self, key: str, response) -> None:
        if (
            response.status_code == 200
            and response.get("Content-Encoding") is None
            and len(response.content) <= KEEP_AT_MOST_BYTES
        ):
            answer = (response["Content-Type"], response.content)
            caches["api"].set(key, answer, settings.API_ANSWER_SECONDS)

    def _marked(self, response):
        self._mark(response)
        return response
