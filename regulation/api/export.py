"""Bulk export: the whole published dataset as one JSON document and a CSV per type, each with
its generation time and an ETag. Built once per version of the data (the cache is keyed by the
latest change) and served from the cache until the data changes."""

import csv
import datetime as dt
import hashlib
import io
import json
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from regulation.api import views
from regulation.api.caching import PUBLIC_MAX_AGE, data_version
from regulation.spreadsheets import inert

EXPORTED = {
    "milestones": views.MilestoneViewSet,
    "commitments": views.CommitmentViewSet,
    "instruments": views.InstrumentViewSet,
    "measures": views.MeasureViewSet,
    "platforms": views.PlatformViewSet,
    "organisations": views.OrganisationViewSet,
    "sources": views.SourceViewSet,
    "topics": views.TopicViewSet,
    "indicators": views.IndicatorViewSet,
    "observations": views.ObservationViewSet,
}
CACHE_SECONDS = 24 * 3600  # a version no longer current is never asked for again


def published_records(kind: str, request: Request) -> list[dict[str, Any]]:
    """Every published record of a kind, as the API shows it to an anonymous client."""
    view = EXPORTED[kind](request=request, format_kwarg=None, action="list", kwargs={})
    view.public_only = True
    records = view.get_queryset()
    return view.get_serializer(records, many=True).data


def cell(value: Any) -> str:
    """One CSV cell: a link by its key (or slug), a date by its ISO form, lists joined."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(cell(item) for item in value)
    if isinstance(value, dict):
        if "iso" in value:
            return value["iso"]
        if "label" in value and "url" in value:
            return value.get("key") or value.get("slug") or value["url"]
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def as_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]))
        writer.writeheader()
        for record in records:
            writer.writerow({name: inert(cell(value)) for name, value in record.items()})
    return out.getvalue()


def build(kind: str | None, request: Request, generated_at: dt.datetime) -> bytes:
    if kind is None:
        document = {"generated_at": generated_at.isoformat()}
        document |= {name: published_records(name, request) for name in EXPORTED}
        return json.dumps(document, ensure_ascii=False, default=str).encode()
    return as_csv(published_records(kind, request)).encode()


def export_response(request: Request, kind: str | None) -> HttpResponse:
    latest, version = data_version()
    digest = hashlib.sha256(f"{version}\n{kind}".encode()).hexdigest()[:32]
    etag = f'"{digest}"'
    last_modified = int(latest.timestamp()) if latest else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        response = not_modified
    else:
        key = f"api-export:{digest}"
        built = cache.get(key)
        if built is None:
            generated_at = timezone.now()
            built = (generated_at, build(kind, request, generated_at))
            cache.set(key, built, CACHE_SECONDS)
        generated_at, body = built
        content_type = "application/json" if kind is None else "text/csv; charset=utf-8"
        response = HttpResponse(body, content_type=content_type)
        response["Export-Generated-At"] = generated_at.isoformat()
        if kind is not None:
            response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    response["ETag"] = etag
    if latest is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


class ExportView(APIView):
    """The whole published dataset as one JSON document, keyed by type, with `generated_at`."""

    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request: Request) -> HttpResponse:
        if set(request.query_params) - {"format"}:
            raise_unknown(request)
        return export_response(request, None)


class ExportCsvView(APIView):
    """One type's published records as CSV (links by key, dates in ISO form)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(EXPORTED))],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, kind: str) -> HttpResponse:
        if kind not in EXPORTED:
            raise Http404(f"No export is called {kind!r}.")
        if set(request.query_params) - {"format"}:
            raise_unknown(request)
        return export_response(request, kind)


def raise_unknown(request: Request) -> None:
    unknown = sorted(set(request.query_params) - {"format"})
    raise ValidationError({name: ["Unknown parameter."] for name in unknown})
