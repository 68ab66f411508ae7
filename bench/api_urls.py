"""The URLconf of `bench/api.py`'s server (bench/api_settings.py): the whole site, and at
/bench/floor/<type>/ the floor each API list is measured against: the same page of rows (same
records, same order, same page size) as JSON straight from `.values()`, each field's raw value.
No serializer, links, sources, date history, pagination links, ETag or throttling: the least a
view can do to answer with those rows through the same middleware."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from regulation.models import Commitment, Milestone
from tracker.urls import urlpatterns as site_urlpatterns

COMMON = ("key", "slug", "status", "verification", "notes", "created_at", "updated_at")
# The record's own columns that the API shows (the API adds links, sources and history).
FLOOR_FIELDS = {
    "milestones": (
        Milestone,
        (
            *COMMON,
            "title",
            "description",
            "kind",
            "phase",
            "who_must_act",
            "date",
            "date_end",
            "date_precision",
            "certainty",
            "date_label",
        ),
    ),
    "commitments": (
        Commitment,
        (
            *COMMON,
            "summary",
            "quote",
            "platform_label",
            "made_by_organisation",
            "made_by",
            "made_on",
            "made_on_precision",
            "due_on",
            "due_precision",
            "delivery_status",
        ),
    ),
}


def floor(request, kind: str) -> JsonResponse:
    """The API list's first page at its default size and order (the model's own ordering)."""
    model, fields = FLOOR_FIELDS[kind]
    rows = model.objects.published().values(*fields)[: settings.API_PAGE_SIZE]
    return JsonResponse({"results": list(rows)})


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def count_queries(get_response):
    """With the request header X-Bench-Queries, the response's X-Bench-Queries header is the
    number of SQL queries the request ran (middleware, view and all). Requests without it (the
    measured ones) are not wrapped."""

    def middleware(request):
        if "HTTP_X_BENCH_QUERIES" not in request.META:
            return get_response(request)
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            response = get_response(request)
        response["X-Bench-Queries"] = str(counter.count)
        return response

    return middleware


urlpatterns = [
    path("bench/floor/<str:kind>/", floor),
    *site_urlpatterns,
]
