"""What the API shows of each record: explicit fields, links by URL and natural key, every date
with its precision, certainty and the words a reader should see.

A record is shown from its *row*: a dict of its own column values (by field name, with "pk")
and of what it links to, already read (a link's answer, a list of them, its open conflicts,
its date changes or status updates as rows of their own). A serializer's fields say what is
shown, in which order, and so the OpenAPI schema; `represent(row)` answers them from the row:
the one definition of a record's JSON. A row comes either from `.values()` queries (a list's
page: `rows_for_page`, a constant number of queries whatever the page size, and no model
instance built) or from a model instance and its prefetched records (`row_of`: a detail, a
point-in-time answer, the answer to a write, the bulk export, a webhook's payload)."""

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model, Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from regulation.dates import Certainty, Precision, format_fuzzy, iso_fuzzy, period_end
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    DeliveryStatus,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    PublicRecord,
    SeedConflict,
    Source,
    Topic,
    date_is_unverified,
    milestone_date_display,
    source_date_display,
    validate_http_url,
)

Row = dict[str, Any]

# Where a link's words come from: the first of these its record has and fills in.
LABEL_ATTRIBUTES = ("name", "title", "metric", "summary")


@functools.cache
def column_names(model: type[Model]) -> frozenset[str]:
    return frozenset(field.name for field in model._meta.concrete_fields)


def lookup_of(row: Row) -> str:
    """The part of a record's API address that names it: its slug, or for a source (which has
    none) its key, or failing that its id."""
    return row.get("slug") or row.get("key") or str(row["pk"])


def lookup_value(record: Model) -> str:
    return lookup_of(
        {"slug": getattr(record, "slug", ""), "key": getattr(record, "key", None), "pk": record.pk}
    )


# Characters reverse() never escapes in a path: a lookup made only of them appears as it is.
PLAIN_LOOKUP = re.compile(r"[A-Za-z0-9._~-]+")
# Kept as it is by reverse(), and never part of a host name (Django refuses such hosts).
PLACEHOLDER = "~lookup~"


def api_address(model: type[Model], value: str, request) -> str:
    """The address in the API of the record of model named value, as reverse() writes it. A
    page links hundreds of records: each type's address is reversed once per request and the
    lookup put in its place."""
    name = f"api:{model._meta.model_name}-detail"
    if request is None or not PLAIN_LOOKUP.fullmatch(value):
        return reverse(name, kwargs={"lookup": value}, request=request)
    templates = getattr(request, "_api_url_templates", None)
    if templates is None:
        templates = request._api_url_templates = {}
    if name not in templates:
        parts = reverse(name, kwargs={"lookup": PLACEHOLDER}, request=request).split(PLACEHOLDER)
        templates[name] = tuple(parts) if len(parts) == 2 else None
    template = templates[name]
    if template is None:
        return reverse(name, kwargs={"lookup": value}, request=request)
    return f"{template[0]}{value}{template[1]}"


def api_url(record: Model, request) -> str:
    """The record's address in the API."""
    return api_address(type(record), lookup_value(record), request)


def label_of(model: type[Model], row: Row) -> str:
    """A link's words: the record's name, title, metric or summary; failing those, the record
    as it names itself (str()), from an instance made of the row (a column it lacks is read
    from the database: a record without any of those words is not one a page shows)."""
    for attribute in LABEL_ATTRIBUTES:
        value = row.get(attribute)
        if value:
            return value
    return str(instance_from_row(model, row))


def record_label(record: Model) -> str:
    for attribute in LABEL_ATTRIBUTES:
        value = getattr(record, attribute, "")
        if value:
            return value
    return str(record)


def instance_from_row(model: type[Model], row: Row) -> Model:
    values = {**row, model._meta.pk.attname: row["pk"]}
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(DEFAULT_DB_ALIAS, names, [values[name] for name in names])


def values_of(record: Model, columns: Iterable[str]) -> Row:
    """An instance's row: the given columns' values (by field name) and its pk."""
    return {"pk": record.pk, **{column: getattr(record, column) for column in columns}}


def prefetched_name(relation: str) -> str:
    """Where the API's views put a record's prefetched related records (a plain list: a
    related manager and its queryset for every record of a page cost more than the rest)."""
    return f"api_prefetched_{relation}"


class PrefetchedListSerializer(serializers.ListSerializer):
    """A many-to-many link list (its schema; a record's row holds the list itself)."""


class LinkSerializer(serializers.Serializer):
    """Another record, named by its natural key and its API address."""

    class Meta:
        list_serializer_class = PrefetchedListSerializer

    key = serializers.CharField(allow_null=True, help_text="The stable key, e.g. M21 or PC04.")
    slug = serializers.CharField(allow_null=True)
    label = serializers.CharField(help_text="Its name or title.")
    url = serializers.URLField(help_text="Its address in this API.")

    # The linked record's columns its answer needs, besides key, slug and label.
    row_columns: tuple[str, ...] = ()

    @classmethod
    def columns(cls, model: type[Model]) -> tuple[str, ...]:
        """The columns of model a link to one of its records reads."""
        present = column_names(model)
        named = ("key", "slug", *LABEL_ATTRIBUTES)
        return (*(c for c in named if c in present), *cls.row_columns)

    def to_representation(self, instance: Model) -> dict[str, Any]:
        model = type(instance)
        row = values_of(instance, self.columns(model))
        return self.represent(model, row, self.context.get("request"))

    def represent(self, model: type[Model], row: Row, request) -> dict[str, Any]:
        """The link's answer from the linked record's row (its columns())."""
        return {
            "key": row.get("key"),
            "slug": row.get("slug"),
            "label": label_of(model, row),
            "url": api_address(model, lookup_of(row), request),
        }


def link(**kwargs: Any) -> LinkSerializer:
    return LinkSerializer(read_only=True, **kwargs)


class FuzzyDateSerializer(serializers.Serializer):
    """A date known to a precision: its first and last possible days, and how to say it."""

    start = serializers.DateField(help_text="The first day of the period.")
    end = serializers.DateField(help_text="The last day of the period.")
    precision = serializers.ChoiceField(choices=Precision.choices)
    iso = serializers.CharField(help_text="ISO 8601 at the date's precision: 2026-07, 2026-Q3.")
    display = serializers.CharField(help_text="As a reader should see it: 'July 2026'.")

    def to_representation(self, instance: tuple[dt.date, str]) -> dict[str, Any]:
        return fuzzy_date(*instance)


@functools.lru_cache(maxsize=4096)
def _fuzzy_date(value: dt.date, precision: str) -> tuple[tuple[str, str], ...]:
    return (
        ("start", value.isoformat()),
        ("end", period_end(value, precision).isoformat()),
        ("precision", precision),
        ("iso", iso_fuzzy(value, precision)),
        ("display", format_fuzzy(value, precision)),
    )


def fuzzy_date(value: dt.date, precision: str) -> dict[str, Any]:
    """FuzzyDateSerializer's answer (worked out once per date and precision)."""
    return dict(_fuzzy_date(value, precision))


class MilestoneDateSerializer(FuzzyDateSerializer):
    certainty = serializers.ChoiceField(choices=Certainty.choices)
    label = serializers.CharField(help_text="The source's own wording, e.g. 'mid-2027', if any.")
    unverified = serializers.BooleanField(help_text="No cited source confirms the record.")

    def to_representation(self, instance: Milestone) -> dict[str, Any]:
        return milestone_date(values_of(instance, MilestoneSerializer.method_columns))


def milestone_date(row: Row) -> dict[str, Any]:
    """A milestone's date, from its row (date, date_precision, certainty, date_label and
    verification): the words are the model's (milestone_date_display)."""
    return {
        **fuzzy_date(row["date"], row["date_precision"]),
        "certainty": row["certainty"],
        "label": row["date_label"],
        "display": milestone_date_display(
            row["date"], row["date_precision"], row["certainty"], row["date_label"]
        ),
        "unverified": date_is_unverified(row["verification"]),
    }


class SourceLinkSerializer(LinkSerializer):
    document_url = serializers.URLField(help_text="The document itself.")
    date = serializers.CharField(help_text="When it was published, as precisely as known.")

    row_columns = ("url", "published_on", "published_precision", "date_note")

    def represent(self, model: type[Model], row: Row, request) -> dict[str, Any]:
        return {
            **super().represent(model, row, request),
            "document_url": row["url"],
            "date": source_date_display(
                row["published_on"], row["published_precision"], row["date_note"]
            ),
        }


class ConflictSerializer(serializers.Serializer):
    """A fact release disagrees with what the record says, and no editor has decided yet."""

    field = serializers.CharField()
    record_value = serializers.CharField(help_text="What the record says (as staff wrote it).")
    release_value = serializers.CharField(help_text="What the fact release says.")
    release = serializers.CharField()
    reason = serializers.CharField(help_text="The release's evidence and sources.")


def open_conflicts(model: type[Model], pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The open conflicts of each of these records (ConflictSerializer's answers), in one
    query."""
    by_record: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
    if not pks:
        return by_record
    conflicts = (
        SeedConflict.objects.unresolved()
        .filter(model=model._meta.label_lower, object_pk__in=list(pks))
        .order_by("field", "created_at")
        .values("object_pk", "field", "staff_value", "release_value", "release__name", "reason")
    )
    for conflict in conflicts:
        by_record[conflict["object_pk"]].append(
            {
                "field": conflict["field"],
                "record_value": conflict["staff_value"],
                "release_value": conflict["release_value"],
                "release": conflict["release__name"],
                "reason": conflict["reason"],
            }
        )
    return by_record


# How a serializer's field is answered from a row.
COLUMN, RELATED, METHOD = "column", "related", "method"


class RowSerializer(serializers.ModelSerializer):
    """A model serializer whose records are answered from rows (see the module's docstring).
    Its fields are the schema; plain fields read their column, links and nested lists read
    the row's already-read answers, method fields (get_<name>(row)) read the row."""

    # The columns the get_<name> methods read, besides the fields' own.
    method_columns: tuple[str, ...] = ()

    def represent(self, row: Row) -> dict[str, Any]:
        """The record's answer: the one definition of what a record shows."""
        answer = {}
        for name, key, how, call in layout(type(self)).plan:
            if how is COLUMN:
                value = row[key]
                answer[name] = value if value is None or call is None else call(value)
            elif how is RELATED:
                answer[name] = row[key]
            else:
                answer[name] = call(self, row)
        return answer

    def to_representation(self, instance: Model) -> dict[str, Any]:
        return self.represent(self.row_of(instance))

    def complete_values(self, row: Row) -> Row:
        """A .values() row made a row: each foreign key's columns made its link's answer."""
        request = self.context.get("request")
        for name, (serializer, target, columns) in layout(type(self)).single_links.items():
            prefix = f"{name}__"
            linked = {"pk": row.pop(f"{prefix}pk")}
            for column in columns:
                linked[column] = row.pop(prefix + column)
            row[name] = (
                None if linked["pk"] is None else serializer.represent(target, linked, request)
            )
        return row

    def row_of(self, instance: Model) -> Row:
        """An instance's row: its columns, its links (the prefetched lists when the view read
        them, else all it links to), and what its get_ methods read besides."""
        shape = layout(type(self))
        request = self.context.get("request")
        row = values_of(instance, shape.columns)
        for name, (serializer, target, columns) in shape.single_links.items():
            linked = getattr(instance, name)
            row[name] = (
                None
                if linked is None
                else serializer.represent(target, values_of(linked, columns), request)
            )
        for name, (serializer, target, columns) in shape.link_lists.items():
            row[name] = [
                serializer.represent(target, values_of(record, columns), request)
                for record in self.linked_records(instance, name)
            ]
        return row

    def linked_records(self, instance: Model, name: str) -> Iterable[Model]:
        prefetched = instance.__dict__.get(prefetched_name(name))
        if prefetched is not None:
            return prefetched
        return getattr(instance, name).all()

    def nested(self, serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
        """One serializer of a nested kind for the whole page."""
        made = self.__dict__.setdefault("_nested", {})
        if serializer_class not in made:
            made[serializer_class] = serializer_class(context=self.context)
        return made[serializer_class]


# A link's serializer, the model linked to and the columns of it the link reads.
LinkShape = tuple[LinkSerializer, type[Model], tuple[str, ...]]


@dataclass(frozen=True)
class Layout:
    """What a RowSerializer's records show and read, worked out once per serializer class
    (its fields do not depend on the request)."""

    # (name, row key, how, converter or get_ method) per field, in the answer's order
    plan: tuple[tuple[str, str, str, Any], ...]
    columns: tuple[str, ...]  # the record's own columns
    single_links: dict[str, LinkShape]  # links to one record (a foreign key), by field name
    link_lists: dict[str, LinkShape]  # lists of links (many-to-many), by field name
    value_names: tuple[str, ...]  # what a page asks .values() for


@functools.cache
def layout(serializer_class: type[RowSerializer]) -> Layout:
    model = serializer_class.Meta.model
    plan, columns, single_links, link_lists = [], ["pk"], {}, {}
    for name, field in serializer_class().fields.items():
        if isinstance(field, serializers.SerializerMethodField):
            plan.append((name, name, METHOD, getattr(serializer_class, field.method_name)))
        elif isinstance(field, LinkSerializer) and field.source == name:
            target = model._meta.get_field(name).related_model
            single_links[name] = (field, target, field.columns(target))
            plan.append((name, name, RELATED, None))
        elif isinstance(field, serializers.ListSerializer) and isinstance(
            field.child, LinkSerializer
        ):
            target = model._meta.get_field(field.source).related_model
            link_lists[name] = (field.child, target, field.child.columns(target))
            plan.append((name, name, RELATED, None))
        else:
            # Text and choices are shown as stored (DRF's str() of a string); dates, times
            # and decimals as DRF writes them.
            plain = isinstance(field, serializers.CharField | serializers.ChoiceField)
            plan.append((name, field.source, COLUMN, None if plain else field.to_representation))
            columns.append(field.source)
    columns = list(dict.fromkeys([*columns, *serializer_class.method_columns]))
    value_names = [*columns]
    for name, (_, _, linked_columns) in single_links.items():
        value_names += [f"{name}__{c}" for c in ("pk", *linked_columns)]
    return Layout(
        plan=tuple(plan),
        columns=tuple(c for c in columns if c != "pk"),
        single_links=single_links,
        link_lists=link_lists,
        value_names=tuple(value_names),
    )


def rows_for_page(
    serializer: RowSerializer, values: Sequence[Row], prefetches: Sequence[Prefetch]
) -> list[Row]:
    """A page's rows from its .values() rows: each list of links (many-to-many), and each list
    of nested records (date changes, status updates), read in one query through the queryset
    of the view's Prefetch of the same name (so what a client may see of the linked records
    is decided in one place), then the open conflicts in one more."""
    model = serializer.Meta.model
    request = serializer.context.get("request")
    rows = [serializer.complete_values(dict(row)) for row in values]
    pks = [row["pk"] for row in rows]
    link_lists = layout(type(serializer)).link_lists
    for prefetch in prefetches:
        name = prefetch.prefetch_through
        relation = model._meta.get_field(name)
        by_record: dict[int, list] = {pk: [] for pk in pks}
        if name in link_lists:
            link_serializer, target, columns = link_lists[name]
            owner = relation.related_query_name()  # the linked record's way back
            linked = prefetch.queryset.filter(**{f"{owner}__in": pks}).values(owner, "pk", *columns)
            for found in linked:
                by_record[found.pop(owner)].append(
                    link_serializer.represent(target, found, request)
                )
        else:  # a reverse foreign key: rows of their own, for the record's get_ method
            nested = serializer.nested(serializer.nested_rows[name])
            owner = relation.field.name
            found_rows = prefetch.queryset.filter(**{f"{owner}__in": pks}).values(
                owner, *layout(type(nested)).value_names
            )
            for found in found_rows:
                by_record[found.pop(owner)].append(nested.complete_values(found))
        for row in rows:
            row[name] = by_record[row["pk"]]
    if isinstance(serializer, PublicRecordSerializer):
        conflicts = open_conflicts(model, pks)
        for row in rows:
            row["conflicts"] = conflicts[row["pk"]]
    return rows


class ConflictsListSerializer(serializers.ListSerializer):
    """A page of records: from .values() rows (a list's page, see rows_for_page) or from
    instances, whose open conflicts are read for the whole page in one query."""

    def to_representation(self, data) -> list[dict[str, Any]]:
        child = self.child
        records = list(data.all() if hasattr(data, "all") else data)
        if records and isinstance(records[0], dict):
            prefetches = self.context["view"].prefetches()
            return [child.represent(row) for row in rows_for_page(child, records, prefetches)]
        attach_conflicts(records)
        return [child.to_representation(record) for record in records]


def attach_conflicts(records: list[PublicRecord]) -> None:
    """Each record's open conflicts (ConflictSerializer's answers) as its open_conflicts."""
    if not records or hasattr(records[0], "open_conflicts"):
        return
    conflicts = open_conflicts(type(records[0]), [r.pk for r in records])
    for record in records:
        record.open_conflicts = conflicts[record.pk]


class CitedSourcesSerializer(PrefetchedListSerializer):
    """The sources a record cites; as recorded at a past moment when the view has read them
    from the history (recorded_sources), else as they are now."""


class PublicRecordSerializer(RowSerializer):
    """What every public record shows: its address and keys, whether it is published, how sure
    we are, the sources it cites and any disagreement not yet resolved."""

    url = serializers.SerializerMethodField(help_text="This record's address in the API.")
    sources = CitedSourcesSerializer(child=SourceLinkSerializer(), read_only=True)
    conflicts = serializers.SerializerMethodField(
        help_text="Where a fact release disagrees with the record and no editor has decided yet."
    )

    common_fields = (
        "url",
        "key",
        "slug",
        "status",
        "verification",
        "notes",
        "sources",
        "conflicts",
        "created_at",
        "updated_at",
    )
    # Nested records shown through a get_ method: the relation's name and their serializer.
    nested_rows: dict[str, type[RowSerializer]] = {}

    class Meta:
        list_serializer_class = ConflictsListSerializer

    def get_url(self, row: Row) -> str:
        return api_address(self.Meta.model, lookup_of(row), self.context.get("request"))

    @extend_schema_field(ConflictSerializer(many=True))
    def get_conflicts(self, row: Row) -> list[dict[str, Any]]:
        return row["conflicts"]

    def linked_records(self, instance: Model, name: str) -> Iterable[Model]:
        if name == "sources" and hasattr(instance, "recorded_sources"):
            return instance.recorded_sources  # as recorded at a past moment
        return super().linked_records(instance, name)

    def row_of(self, instance: PublicRecord) -> Row:
        row = super().row_of(instance)
        attach_conflicts([instance])
        row["conflicts"] = instance.open_conflicts
        return row


def meta(model: type[Model], *fields: str) -> type:
    return type(
        "Meta",
        (),
        {
            "model": model,
            "fields": (*PublicRecordSerializer.common_fields, *fields),
            "read_only_fields": ("status",),
            "list_serializer_class": ConflictsListSerializer,
        },
    )


class OrganisationSerializer(PublicRecordSerializer):
    Meta = meta(Organisation, "name", "kind", "kind_label", "description", "website")


class PlatformSerializer(PublicRecordSerializer):
    owner = link(allow_null=True)

    Meta = meta(Platform, "name", "owner", "kind", "website")


class TopicSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = ("url", "slug", "name", "description", "created_at", "updated_at")

    def get_url(self, topic: Topic) -> str:
        return api_url(topic, self.context.get("request"))


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="This source's address in the API.")
    document_url = serializers.URLField(source="url", max_length=1000)
    publisher = link(allow_null=True)
    published = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = (
            "url",
            "key",
            "title",
            "document_url",
            "archived_url",
            "publisher",
            "publisher_name",
            "published_on",
            "published_precision",
            "published",
            "date_note",
            "kind",
            "origin",
            "quote",
            "created_at",
            "updated_at",
        )

    def get_url(self, source: Source) -> str:
        return api_url(source, self.context.get("request"))

    @extend_schema_field(FuzzyDateSerializer(allow_null=True))
    def get_published(self, source: Source) -> dict[str, Any] | None:
        if source.published_on is None:
            return None
        return fuzzy_date(source.published_on, source.published_precision)


class InstrumentSerializer(PublicRecordSerializer):
    issuer = link(allow_null=True)
    parent = link(allow_null=True, help_text="The instrument this one is made under.")
    topics = link(many=True)

    Meta = meta(
        Instrument,
        "title",
        "short_name",
        "kind",
        "stage",
        "issuer",
        "parent",
        "official_url",
        "summary",
        "topics",
    )


class MeasureSerializer(PublicRecordSerializer):
    instrument = link(allow_null=True)
    topics = link(many=True)

    Meta = meta(
        Measure,
        "reference",
        "title",
        "instrument",
        "instrument_reference",
        "summary",
        "applies_to",
        "relevance",
        "topics",
    )


class DateChangeSerializer(RowSerializer):
    old = serializers.SerializerMethodField()
    new = serializers.SerializerMethodField()
    source = SourceLinkSerializer(read_only=True, allow_null=True)

    method_columns = (
        "old_date",
        "old_precision",
        "old_certainty",
        "new_date",
        "new_precision",
        "new_certainty",
    )

    class Meta:
        model = DateChange
        fields = ("old", "new", "announced_on", "reason", "source", "created_at")

    @extend_schema_field(FuzzyDateSerializer)
    def get_old(self, row: Row) -> dict[str, Any]:
        return {
            **fuzzy_date(row["old_date"], row["old_precision"]),
            "certainty": row["old_certainty"],
        }

    @extend_schema_field(FuzzyDateSerializer)
    def get_new(self, row: Row) -> dict[str, Any]:
        return {
            **fuzzy_date(row["new_date"], row["new_precision"]),
            "certainty": row["new_certainty"],
        }


class MilestoneSerializer(PublicRecordSerializer):
    date = serializers.SerializerMethodField()
    instruments = link(many=True)
    measures = link(many=True)
    platforms = link(many=True)
    topics = link(many=True)
    date_changes = serializers.SerializerMethodField(help_text="Each move of the date, in order.")

    method_columns = ("date", "date_precision", "certainty", "date_label", "verification")
    nested_rows = {"date_changes": DateChangeSerializer}

    Meta = meta(
        Milestone,
        "title",
        "description",
        "kind",
        "phase",
        "who_must_act",
        "date",
        "instruments",
        "measures",
        "platforms",
        "topics",
        "date_changes",
    )

    @extend_schema_field(MilestoneDateSerializer)
    def get_date(self, row: Row) -> dict[str, Any]:
        return milestone_date(row)

    @extend_schema_field(DateChangeSerializer(many=True))
    def get_date_changes(self, row: Row) -> list[dict[str, Any]]:
        serializer = self.nested(DateChangeSerializer)
        return [serializer.represent(change) for change in row["date_changes"]]

    def row_of(self, milestone: Milestone) -> Row:
        row = super().row_of(milestone)
        # As of a day: only the moves announced by then (Milestone.as_of).
        changes = getattr(milestone, "known_date_changes", None)
        if changes is None:
            changes = milestone.date_changes.all()
        serializer = self.nested(DateChangeSerializer)
        row["date_changes"] = [serializer.row_of(change) for change in changes]
        return row


class CommitmentUpdateSerializer(RowSerializer):
    date = serializers.SerializerMethodField()
    evidence = SourceLinkSerializer(read_only=True, allow_null=True)

    method_columns = ("on", "on_precision")

    class Meta:
        model = CommitmentUpdate
        fields = ("date", "delivery_status", "note", "evidence", "created_at")

    @extend_schema_field(FuzzyDateSerializer)
    def get_date(self, row: Row) -> dict[str, Any]:
        return fuzzy_date(row["on"], row["on_precision"])


class CommitmentSerializer(PublicRecordSerializer):
    made = serializers.SerializerMethodField(help_text="When it was announced.")
    due = serializers.SerializerMethodField(help_text="When it should be delivered, if said.")
    platforms = link(many=True)
    made_by_organisation = link(allow_null=True)
    measures = link(many=True)
    milestones = link(many=True)
    topics = link(many=True)
    updates = serializers.SerializerMethodField(help_text="Status updates, oldest first.")

    method_columns = ("made_on", "made_on_precision", "due_on", "due_precision")
    nested_rows = {"updates": CommitmentUpdateSerializer}

    Meta = meta(
        Commitment,
        "summary",
        "quote",
        "platforms",
        "platform_label",
        "made_by_organisation",
        "made_by",
        "made",
        "due",
        "delivery_status",
        "measures",
        "milestones",
        "topics",
        "updates",
    )

    @extend_schema_field(FuzzyDateSerializer)
    def get_made(self, row: Row) -> dict[str, Any]:
        return fuzzy_date(row["made_on"], row["made_on_precision"])

    @extend_schema_field(CommitmentUpdateSerializer(many=True))
    def get_updates(self, row: Row) -> list[dict[str, Any]]:
        serializer = self.nested(CommitmentUpdateSerializer)
        return [serializer.represent(update) for update in row["updates"]]

    @extend_schema_field(FuzzyDateSerializer(allow_null=True))
    def get_due(self, row: Row) -> dict[str, Any] | None:
        if row["due_on"] is None:
            return None
        return fuzzy_date(row["due_on"], row["due_precision"])

    def row_of(self, commitment: Commitment) -> Row:
        row = super().row_of(commitment)
        # As of a day: only the updates dated by then (Commitment.as_of).
        updates = getattr(commitment, "known_updates", None)
        if updates is None:
            updates = commitment.updates.all()
        serializer = self.nested(CommitmentUpdateSerializer)
        row["updates"] = [serializer.row_of(update) for update in updates]
        return row


class IndicatorSerializer(PublicRecordSerializer):
    publisher = link(allow_null=True)
    topics = link(many=True)

    Meta = meta(Indicator, "name", "unit", "publisher", "publisher_name", "method_note", "topics")


class ObservationSerializer(PublicRecordSerializer):
    indicator = link()
    platforms = link(many=True)
    conflicts_with = link(
        many=True, help_text="Other published values for the same figure that disagree."
    )
    value = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=False
    )

    Meta = meta(
        Observation,
        "indicator",
        "metric",
        "value_text",
        "value",
        "unit",
        "period_label",
        "period_start",
        "period_end",
        "coverage",
        "publisher_name",
        "platforms",
        "conflicts_with",
    )


# --- Writes: what a client sends ---------------------------------------------------------------


class KeyField(serializers.SlugRelatedField):
    """A related record named by its key or slug. A name no record can have (a NUL character,
    which PostgreSQL cannot even compare) is not found, like any unknown name."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class CommitmentWriteSerializer(serializers.ModelSerializer):
    """A new commitment, created as a draft: publishing is a separate step that needs a source."""

    platforms = KeyField(slug_field="slug", many=True, queryset=Platform.objects.all())
    sources = KeyField(slug_field="key", many=True, required=False, queryset=Source.objects.all())

    class Meta:
        model = Commitment
        fields = (
            "summary",
            "quote",
            "platforms",
            "platform_label",
            "made_by",
            "made_on",
            "made_on_precision",
            "due_on",
            "due_precision",
            "verification",
            "notes",
            "sources",
        )


class CommitmentUpdateWriteSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="When it happened or was reported.")
    on_precision = serializers.ChoiceField(choices=Precision.choices, default=Precision.DAY)
    delivery_status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = KeyField(
        slug_field="key", required=False, allow_null=True, queryset=Source.objects.all()
    )


class DateMoveSerializer(serializers.Serializer):
    """A milestone's new date. The reason is required: a date's history must say why it moved."""

    date = serializers.DateField()
    precision = serializers.ChoiceField(choices=Precision.choices, required=False)
    certainty = serializers.ChoiceField(choices=Certainty.choices, required=False)
    reason = serializers.CharField(help_text="Why the date moved, as the source explains it.")
    source = KeyField(
        slug_field="key", required=False, allow_null=True, queryset=Source.objects.all()
    )
    announced_on = serializers.DateField(required=False, allow_null=True)


class SourceWriteSerializer(serializers.ModelSerializer):
    # http(s) only, as the model's field: a javascript: address would run in a reader's browser.
    document_url = serializers.URLField(
        source="url", max_length=1000, validators=[validate_http_url]
    )

    class Meta:
        model = Source
        fields = (
            "key",
            "title",
            "document_url",
            "archived_url",
            "publisher_name",
            "published_on",
            "published_precision",
            "date_note",
            "kind",
            "origin",
            "quote",
        )
