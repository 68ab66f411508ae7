"""Every list is paginated; a list ordered by change time is paginated by cursor, so a client
polling for changes never misses a record or sees one twice while others are being edited."""

from typing import Any

from django.conf import settings
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

CHANGE_ORDERINGS = {"updated_at": ("updated_at", "pk"), "-updated_at": ("-updated_at", "-pk")}


def page_size_limits() -> tuple[int, int]:
    return settings.API_PAGE_SIZE, settings.API_MAX_PAGE_SIZE


def requested_page_size(request, default: int, maximum: int) -> int:
    """The client's page_size, capped at maximum (an oversized request is capped, not refused);
    a value that is not a whole number of at least 1 is a 400, on numbered and cursor pages
    alike."""
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ValidationError({"page_size": ["A whole number is required."]}) from None
    if size < 1:
        raise ValidationError({"page_size": ["Must be at least 1."]})
    return min(size, maximum)


class ChangeCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    invalid_cursor_message = "The cursor is not one this API gave out."

    def __init__(self) -> None:
        self.page_size, self.max_page_size = page_size_limits()

    def get_page_size(self, request) -> int:
        return requested_page_size(request, self.page_size, self.max_page_size)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        # The change time, then the id: a unique, unchanging order the cursor can resume from.
        return CHANGE_ORDERINGS[request.query_params.get("ordering", "updated_at")]

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise ValidationError({"cursor": [str(error.detail)]}) from None


class RecordPagination(PageNumberPagination):
    """Numbered pages, or cursor pages when the list is ordered by change time
    (`ordering=updated_at` or `ordering=-updated_at`). The response has the same shape either
    way; `count` is null for cursor pages."""

    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.page_size, self.max_page_size = page_size_limits()
        self.cursor: ChangeCursorPagination | None = None

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get("ordering") in CHANGE_ORDERINGS:
            self.cursor = ChangeCursorPagination()
            return self.cursor.paginate_queryset(queryset, request, view)
        if "cursor" in request.query_params:
            raise ValidationError(
                {"cursor": ["A cursor goes with ordering=updated_at or -updated_at."]}
            )
        page = request.query_params.get(self.page_query_param, "1")
        if page != "last" and not page.lstrip("-").isdigit():
            raise ValidationError({"page": ["A page number is required."]})
        return super().paginate_queryset(queryset, request, view)  # past the end: 404

    def get_page_size(self, request) -> int:
        return requested_page_size(request, self.page_size, self.max_page_size)

    def get_paginated_response(self, data) -> Response:
        if self.cursor is not None:
            return Response(
                {
                    "count": None,
                    "next": self.cursor.get_next_link(),
                    "previous": self.cursor.get_previous_link(),
                    "results": data,
                }
            )
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["nullable"] = True
        response["properties"]["count"]["description"] = "Null for pages ordered by change time."
        return response

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The position in a list ordered by updated_at (from next/previous).",
                "schema": {"type": "string"},
            },
        ]
