"""The search page: /search/?q= lists the best matches of each kind of record, and
/search/?q=&type=milestones pages through all the matches of one kind."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from regulation.conditional import conditional_on
from regulation.models import (
    Commitment,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    Source,
)
from regulation.search import (
    SEARCH_TYPES,
    TYPES_BY_SLUG,
    Hit,
    SearchType,
    hits,
    search_records,
    uses_full_text,
)

# Matches of each kind shown on the overview; the rest are a link away.
PER_GROUP = 5
PER_PAGE = 20
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class Group:
    type: SearchType
    hits: list[Hit]
    total: int


def overview(query: str) -> list[Group]:
    """The best few matches of each kind and how many there are: one query per kind."""
    groups = []
    for search_type in SEARCH_TYPES:
        records = list(
            search_records(search_type, query).annotate(total=Window(Count("pk")))[:PER_GROUP]
        )
        total = records[0].total if records else 0
        groups.append(Group(search_type, hits(search_type, records, query), total))
    return groups


def one_type(search_type: SearchType, query: str, page_number: str | None) -> tuple[Page, list]:
    paginator = Paginator(search_records(search_type, query), PER_PAGE)
    page = paginator.get_page(page_number)
    return page, hits(search_type, page.object_list, query)


@require_safe
@conditional_on(Milestone, Instrument, Measure, Commitment, Platform, Organisation, Source)
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    search_type = TYPES_BY_SLUG.get(request.GET.get("type", ""))
    context: dict = {"query": query, "type": search_type, "full_text": uses_full_text()}
    if query and search_type:
        context["page"], context["hits"] = one_type(search_type, query, request.GET.get("page"))
    elif query:
        context["groups"] = overview(query)
        context["total"] = sum(group.total for group in context["groups"])
    return render(request, "regulation/search.html", context)
