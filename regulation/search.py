"""Search across the public records: PostgreSQL full-text search where the database is
PostgreSQL (weighted title over body, ranked, highlighted, GIN-indexed), and a plain
case-insensitive substring search on SQLite, the embedded default, which has no tsvector.

Only published records are searched (sources have no draft state: they are the public
documents records cite). Highlights are escaped first and marked afterwards, so a record's
text can never inject markup into the results page.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection, models
from django.db.models import Case, F, FloatField, Func, Q, Value, When
from django.db.models.functions import NullIf
from django.urls import NoReverseMatch
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from regulation.models import (
    SEARCH_CONFIG,
    Commitment,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    SearchFields,
    Source,
)
from regulation.templatetags.regulation_urls import http_url

# Control characters never found in stored text: PostgreSQL marks the matched words with
# them, the text is escaped, then they become <mark> elements.
START, STOP = "\x02", "\x03"


@dataclass(frozen=True)
class SearchType:
    slug: str
    label: str
    model: type[models.Model]

    @property
    def fields(self) -> SearchFields:
        return self.model.search_fields

    def records(self) -> models.QuerySet:
        manager = self.model._default_manager
        return manager.public() if hasattr(manager, "public") else manager.all()


# The result groups, in the order the page lists them.
SEARCH_TYPES = (
    SearchType("milestones", "Milestones", Milestone),
    SearchType("instruments", "Laws, codes and guidance", Instrument),
    SearchType("measures", "Code measures and duties", Measure),
    SearchType("commitments", "Platform commitments", Commitment),
    SearchType("platforms", "Platforms", Platform),
    SearchType("organisations", "Organisations", Organisation),
    SearchType("sources", "Sources", Source),
)
TYPES_BY_SLUG = {t.slug: t for t in SEARCH_TYPES}


def joined(fields: Sequence[str]) -> models.Expression:
    """The non-empty fields as one text, for a highlight (PostgreSQL's concat_ws skips the
    NULLs that NULLIF makes of empty fields)."""
    if len(fields) == 1:
        return F(fields[0])
    parts = [NullIf(F(field), Value("")) for field in fields]
    return Func(Value(" … "), *parts, function="CONCAT_WS", output_field=models.TextField())


def full_text(search_type: SearchType, query: str) -> models.QuerySet:
    """PostgreSQL: records whose weighted vector matches the words (websearch syntax: quotes
    for a phrase, "or", a leading minus to exclude), best rank first."""
    words = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    fields = search_type.fields
    highlight = {"start_sel": START, "stop_sel": STOP, "config": SEARCH_CONFIG}
    return (
        search_type.records()
        .annotate(search_vector=fields.vector())
        .filter(search_vector=words)
        .annotate(
            rank=SearchRank(F("search_vector"), words),
            # The title shown is the first title field (a short name or reference may match
            # too, and counts in the rank, but is not the record's title).
            title_marked=SearchHeadline(fields.title[0], words, highlight_all=True, **highlight),
            body_marked=SearchHeadline(
                joined(fields.body), words, max_fragments=2, max_words=30, min_words=12, **highlight
            ),
        )
        .order_by("-rank", "pk")
    )


def simple(search_type: SearchType, query: str) -> models.QuerySet:
    """The fallback for databases without full-text search: every word of the query appears
    somewhere in the record's text (any case); a record with every word in its title ranks
    above one with them only in its body. Highlighting is done in Python (see highlight())."""
    fields = search_type.fields
    words = query.split()
    records = search_type.records()
    in_title = Q()
    for word in words:
        records = records.filter(
            Q.create([(f"{f}__icontains", word) for f in (*fields.title, *fields.body)], "OR")
        )
        in_title &= Q.create([(f"{f}__icontains", word) for f in fields.title], "OR")
    rank = Case(When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField())
    return records.annotate(rank=rank).order_by("-rank", "pk")


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def search_records(search_type: SearchType, query: str) -> models.QuerySet:
    """The type's published records matching query, best first, with a `rank`."""
    return (full_text if uses_full_text() else simple)(search_type, query)


def mark(marked_text: str) -> SafeString:
    """Text PostgreSQL marked with START/STOP, escaped, with the marks as <mark> elements."""
    escaped = str(escape(marked_text or ""))
    # Safe: every character of the text is escaped; only the marks added here are markup.
    return mark_safe(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))


def highlight(text: str, query: str, *, limit: int = 240) -> SafeString:
    """The fallback's highlight: each occurrence of a query word, any case, marked; escaped
    before marking. Long text is cut around the first match."""
    lower = text.lower()
    words = [w.lower() for w in query.split() if w]
    first = min((lower.find(w) for w in words if w in lower), default=0)
    start = max(first - limit // 3, 0)
    excerpt = text[start : start + limit]
    spans: list[tuple[int, int]] = []
    for word in words:
        at = excerpt.lower().find(word)
        while at != -1:
            spans.append((at, at + len(word)))
            at = excerpt.lower().find(word, at + len(word))
    marked, pos = [], 0
    for begin, end in merged(spans):
        marked += [excerpt[pos:begin], START, excerpt[begin:end], STOP]
        pos = end
    marked.append(excerpt[pos:])
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + limit < len(text) else ""
    return mark(prefix + "".join(marked) + suffix)


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans as one, in order (so marks never nest)."""
    result: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if result and begin <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((begin, end))
    return result


@dataclass(frozen=True)
class Hit:
    record: models.Model
    title: SafeString
    snippet: SafeString

    @property
    def url(self) -> str:
        return public_url(self.record)


def public_url(record: models.Model) -> str:
    """Where the public reads the record: a source is its document; another record its page,
    where its model has one (an empty string otherwise, and the result is shown unlinked)."""
    if isinstance(record, Source):
        return http_url(record.url)
    get_url = getattr(record, "get_absolute_url", None)
    if get_url is None:
        return ""
    try:
        return get_url()
    except NoReverseMatch:  # its page's URL is not routed (yet)
        return ""


def record_text(record: models.Model, fields: Sequence[str]) -> str:
    return " … ".join(str(getattr(record, f)) for f in fields if getattr(record, f))


def hits(search_type: SearchType, records, query: str) -> list[Hit]:
    """The records as results: their title and an excerpt of their body, highlighted."""
    if uses_full_text():
        return [Hit(r, mark(r.title_marked), mark(r.body_marked)) for r in records]
    fields = search_type.fields
    return [
        Hit(
            r,
            highlight(record_text(r, fields.title[:1]), query, limit=400),
            highlight(record_text(r, fields.body), query),
        )
        for r in records
    ]
