"""What the API shows of each record: explicit fields, links by URL and natural key, every date
with its precision, certainty and the words a reader should see."""

import datetime as dt
import re
from typing import Any

from django.db.models import Model
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
    validate_http_url,
)


def lookup_value(record: Model) -> str:
    """The part of a record's API address that names it: its slug, or for a source (which has
    none) its key, or failing that its id."""
    slug = getattr(record, "slug", "")
    if slug:
        return slug
    return record.key or str(record.pk)


# Characters reverse() never escapes in a path: a lookup made only of them appears as it is.
PLAIN_LOOKUP = re.compile(r"[A-Za-z0-9._~-]+")
# Kept as it is by reverse(), and never part of a host name (Django refuses such hosts).
PLACEHOLDER = "~lookup~"


def api_url(record: Model, request) -> str:
    """The record's address in the API, as reverse() writes it. A page links hundreds of
    records: each type's address is reversed once per request and the lookup put in its place."""
    name = f"api:{record._meta.model_name}-detail"
    value = lookup_value(record)
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


def record_label(record: Model) -> str:
    for attribute in ("name", "title", "metric", "summary"):
        value = getattr(record, attribute, "")
        if value:
            return value
    return str(record)


def prefetched_name(relation: str) -> str:
    """Where the API's views put a record's prefetched related records (a plain list: a
    related manager and its queryset for every record of a page cost more than the rest)."""
    return f"api_prefetched_{relation}"


class PrefetchedListSerializer(serializers.ListSerializer):
    """A many-to-many link list, read from the list the view prefetched when there is one."""

    def get_attribute(self, instance: Model):
        prefetched = instance.__dict__.get(prefetched_name(self.source))
        if prefetched is not None:
            return prefetched
        return super().get_attribute(instance)


class LinkSerializer(serializers.Serializer):
    """Another record, named by its natural key and its API address."""

    class Meta:
        list_serializer_class = PrefetchedListSerializer

    key = serializers.CharField(allow_null=True, help_text="The stable key, e.g. M21 or PC04.")
    slug = serializers.CharField(allow_null=True)
    label = serializers.CharField(help_text="Its name or title.")
    url = serializers.URLField(help_text="Its address in this API.")

    def to_representation(self, instance: Model) -> dict[str, Any]:
        return {
            "key": getattr(instance, "key", None),
            "slug": getattr(instance, "slug", None),
            "label": record_label(instance),
            "url": api_url(instance, self.context.get("request")),
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


def fuzzy_date(value: dt.date, precision: str) -> dict[str, Any]:
    """FuzzyDateSerializer's answer, without building a serializer for each date."""
    return {
        "start": value.isoformat(),
        "end": period_end(value, precision).isoformat(),
        "precision": precision,
        "iso": iso_fuzzy(value, precision),
        "display": format_fuzzy(value, precision),
    }


class MilestoneDateSerializer(FuzzyDateSerializer):
    certainty = serializers.ChoiceField(choices=Certainty.choices)
    label = serializers.CharField(help_text="The source's own wording, e.g. 'mid-2027', if any.")
    unverified = serializers.BooleanField(help_text="No cited source confirms the record.")

    def to_representation(self, instance: Milestone) -> dict[str, Any]:
        return milestone_date(instance)


def milestone_date(milestone: Milestone) -> dict[str, Any]:
    return {
        **fuzzy_date(milestone.date, milestone.date_precision),
        "certainty": milestone.certainty,
        "label": milestone.date_label,
        "display": milestone.date_display,
        "unverified": milestone.date_is_unverified,
    }


class SourceLinkSerializer(LinkSerializer):
    document_url = serializers.URLField(help_text="The document itself.")
    date = serializers.CharField(help_text="When it was published, as precisely as known.")

    def to_representation(self, instance: Source) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "document_url": instance.url,
            "date": instance.date_display,
        }


class ConflictSerializer(serializers.Serializer):
    """A fact release disagrees with what the record says, and no editor has decided yet."""

    field = serializers.CharField()
    record_value = serializers.CharField(help_text="What the record says (as staff wrote it).")
    release_value = serializers.CharField(help_text="What the fact release says.")
    release = serializers.CharField()
    reason = serializers.CharField(help_text="The release's evidence and sources.")

    def to_representation(self, instance: SeedConflict) -> dict[str, Any]:
        return conflict_data(instance)


def conflict_data(conflict: SeedConflict) -> dict[str, Any]:
    return {
        "field": conflict.field,
        "record_value": conflict.staff_value,
        "release_value": conflict.release_value,
        "release": conflict.release.name,
        "reason": conflict.reason,
    }


class ConflictsListSerializer(serializers.ListSerializer):
    """Reads the open conflicts of every record on the page in one query."""

    def to_representation(self, data) -> list[dict[str, Any]]:
        records = list(data.all() if hasattr(data, "all") else data)
        attach_conflicts(records)
        return super().to_representation(records)


def attach_conflicts(records: list[PublicRecord]) -> None:
    if not records or hasattr(records[0], "open_conflicts"):
        return
    label = records[0]._meta.label_lower
    conflicts = (
        SeedConflict.objects.unresolved()
        .filter(model=label, object_pk__in=[r.pk for r in records])
        .select_related("release")
        .order_by("field", "created_at")
    )
    by_record: dict[int, list[SeedConflict]] = {r.pk: [] for r in records}
    for conflict in conflicts:
        by_record[conflict.object_pk].append(conflict)
    for record in records:
        record.open_conflicts = by_record[record.pk]


class CitedSourcesSerializer(PrefetchedListSerializer):
    """The sources a record cites; as recorded at a past moment when the view has read them
    from the history (recorded_sources), else as they are now."""

    def get_attribute(self, instance: Model):
        if hasattr(instance, "recorded_sources"):
            return instance.recorded_sources
        return super().get_attribute(instance)


class PublicRecordSerializer(serializers.ModelSerializer):
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

    class Meta:
        list_serializer_class = ConflictsListSerializer

    def get_url(self, record: Model) -> str:
        return api_url(record, self.context.get("request"))

    @extend_schema_field(ConflictSerializer(many=True))
    def get_conflicts(self, record: PublicRecord) -> list[dict[str, Any]]:
        attach_conflicts([record])
        return [conflict_data(conflict) for conflict in record.open_conflicts]

    def nested(self, serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
        """One serializer of a nested kind for the whole page (building a model serializer's
        fields for every record would cost more than the rest of the record)."""
        made = self.__dict__.setdefault("_nested", {})
        if serializer_class not in made:
            made[serializer_class] = serializer_class(context=self.context)
        return made[serializer_class]


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


class DateChangeSerializer(serializers.ModelSerializer):
    old = serializers.SerializerMethodField()
    new = serializers.SerializerMethodField()
    source = SourceLinkSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DateChange
        fields = ("old", "new", "announced_on", "reason", "source", "created_at")

    @extend_schema_field(FuzzyDateSerializer)
    def get_old(self, change: DateChange) -> dict[str, Any]:
        return {
            **fuzzy_date(change.old_date, change.old_precision),
            "certainty": change.old_certainty,
        }

    @extend_schema_field(FuzzyDateSerializer)
    def get_new(self, change: DateChange) -> dict[str, Any]:
        return {
            **fuzzy_date(change.new_date, change.new_precision),
            "certainty": change.new_certainty,
        }


class MilestoneSerializer(PublicRecordSerializer):
    date = serializers.SerializerMethodField()
    instruments = link(many=True)
    measures = link(many=True)
    platforms = link(many=True)
    topics = link(many=True)
    date_changes = serializers.SerializerMethodField(help_text="Each move of the date, in order.")

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
    def get_date(self, milestone: Milestone) -> dict[str, Any]:
        return milestone_date(milestone)

    @extend_schema_field(DateChangeSerializer(many=True))
    def get_date_changes(self, milestone: Milestone) -> list[dict[str, Any]]:
        # As of a day: only the moves announced by then (Milestone.as_of).
        changes = getattr(milestone, "known_date_changes", None)
        if changes is None:
            changes = milestone.date_changes.all()
        serializer = self.nested(DateChangeSerializer)
        return [serializer.to_representation(change) for change in changes]


class CommitmentUpdateSerializer(serializers.ModelSerializer):
    date = serializers.SerializerMethodField()
    evidence = SourceLinkSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CommitmentUpdate
        fields = ("date", "delivery_status", "note", "evidence", "created_at")

    @extend_schema_field(FuzzyDateSerializer)
    def get_date(self, update: CommitmentUpdate) -> dict[str, Any]:
        return fuzzy_date(update.on, update.on_precision)


class CommitmentSerializer(PublicRecordSerializer):
    made = serializers.SerializerMethodField(help_text="When it was announced.")
    due = serializers.SerializerMethodField(help_text="When it should be delivered, if said.")
    platforms = link(many=True)
    made_by_organisation = link(allow_null=True)
    measures = link(many=True)
    milestones = link(many=True)
    topics = link(many=True)
    updates = serializers.SerializerMethodField(help_text="Status updates, oldest first.")

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
    def get_made(self, commitment: Commitment) -> dict[str, Any]:
        return fuzzy_date(commitment.made_on, commitment.made_on_precision)

    @extend_schema_field(CommitmentUpdateSerializer(many=True))
    def get_updates(self, commitment: Commitment) -> list[dict[str, Any]]:
        # As of a day: only the updates dated by then (Commitment.as_of).
        updates = getattr(commitment, "known_updates", None)
        if updates is None:
            updates = commitment.updates.all()
        serializer = self.nested(CommitmentUpdateSerializer)
        return [serializer.to_representation(update) for update in updates]

    @extend_schema_field(FuzzyDateSerializer(allow_null=True))
    def get_due(self, commitment: Commitment) -> dict[str, Any] | None:
        if commitment.due_on is None:
            return None
        return fuzzy_date(commitment.due_on, commitment.due_precision)


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


class CommitmentWriteSerializer(serializers.ModelSerializer):
    """A new commitment, created as a draft: publishing is a separate step that needs a source."""

    platforms = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Platform.objects.all()
    )
    sources = serializers.SlugRelatedField(
        slug_field="key", many=True, required=False, queryset=Source.objects.all()
    )

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
    evidence = serializers.SlugRelatedField(
        slug_field="key", required=False, allow_null=True, queryset=Source.objects.all()
    )


class DateMoveSerializer(serializers.Serializer):
    """A milestone's new date. The reason is required: a date's history must say why it moved."""

    date = serializers.DateField()
    precision = serializers.ChoiceField(choices=Precision.choices, required=False)
    certainty = serializers.ChoiceField(choices=Certainty.choices, required=False)
    reason = serializers.CharField(help_text="Why the date moved, as the source explains it.")
    source = serializers.SlugRelatedField(
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
