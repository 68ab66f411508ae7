"""The questions a client may ask of each list. Date questions go through the models' own
querysets (upcoming, past, overdue), so the API answers them exactly as the site does."""

import datetime as dt

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from regulation.dates import Certainty, Precision
from regulation.models import (
    Commitment,
    DeliveryStatus,
    Indicator,
    Instrument,
    InstrumentKind,
    InstrumentStage,
    Measure,
    Milestone,
    MilestoneKind,
    Observation,
    Organisation,
    OrganisationKind,
    Platform,
    PlatformKind,
    Source,
    SourceKind,
    SourceOrigin,
    Status,
    Topic,
    Unit,
    Verification,
)

# Parameters every list understands besides its filters.
COMMON_PARAMETERS = frozenset({"page", "page_size", "cursor", "search", "ordering", "format"})


class KnownParametersOnly(BaseFilterBackend):
    """A misspelt filter must not silently answer the whole list: refuse unknown parameters."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        known = set(COMMON_PARAMETERS) | set(getattr(view, "extra_parameters", ()))
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise ValidationError(
                {
                    name: ["Unknown parameter. Known: " + ", ".join(sorted(known))]
                    for name in unknown
                }
            )
        return queryset


class AskedFiltersOnly(filters.DjangoFilterBackend):
    """django-filter's backend, for a request that names at least one of the list's filters.
    A filterset given none of its parameters filters nothing (every filter passes an empty
    value by), so building and validating its form would only cost time on every page."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not (
            set(request.query_params) & set(filterset_class.base_filters)
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class StrictBooleanField(forms.NullBooleanField):
    """true or false (or 1 / 0); anything else is an error rather than no filter at all."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")

    def validate(self, value) -> None:
        pass


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs) -> None:
        # django-filter's widget turns an unknown value into "no filter" before the field sees it.
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC for the database: an offset PostgreSQL cannot store (beyond
    ±15 hours, say -17:08) is converted rather than sent as it came."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("The time is out of range.", code="invalid") from None


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


def by_slug_or_key(relation: str):
    """A filter method matching a related record by its slug or its key (M21, PC04)."""

    def method(queryset: QuerySet, name: str, value: str) -> QuerySet:
        match = Q(**{f"{relation}__slug": value}) | Q(**{f"{relation}__key": value})
        return queryset.filter(pk__in=queryset.model.objects.filter(match).values("pk"))

    return method


class RecordFilter(filters.FilterSet):
    """What every public record can be filtered by."""

    updated_since = UpdatedSinceFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only records changed at or after this time (ISO 8601; Europe/London if no "
        "offset is given).",
    )
    status = filters.ChoiceFilter(
        choices=Status.choices, help_text="Drafts are visible to authenticated staff only."
    )
    verification = filters.ChoiceFilter(choices=Verification.choices)
    key = filters.CharFilter(help_text="The record's stable key, e.g. M21.")


def at_now():
    return timezone.now()


class MilestoneFilter(RecordFilter):
    kind = filters.MultipleChoiceFilter(choices=MilestoneKind.choices)
    phase = filters.CharFilter(lookup_expr="icontains")
    certainty = filters.ChoiceFilter(choices=Certainty.choices)
    precision = filters.ChoiceFilter(field_name="date_precision", choices=Precision.choices)
    platform = filters.CharFilter(
        method="filter_platform",
        help_text="A platform's slug: milestones naming it, directly or through its commitments.",
    )
    instrument = filters.CharFilter(
        method=by_slug_or_key("instruments"), help_text="An instrument's slug or key."
    )
    measure = filters.CharFilter(method=by_slug_or_key("measures"), help_text="A slug or key.")
    topic = filters.CharFilter(field_name="topics__slug", help_text="A topic's slug.")
    date_from = filters.DateFilter(
        method="filter_date_from", help_text="Milestones whose date period ends on or after."
    )
    date_to = filters.DateFilter(
        method="filter_date_to", help_text="Milestones whose date period starts on or before."
    )
    upcoming = BooleanFilter(
        method="filter_upcoming",
        help_text="true: not over yet, soonest first (a milestone due today is upcoming). "
        "false: over.",
    )
    past = BooleanFilter(
        method="filter_past", help_text="true: whole period over, most recent first."
    )

    # Answered from the day it is asked on: an answer with these changes overnight.
    relative_to_today = ("upcoming", "past")

    class Meta:
        model = Milestone
        fields = ()

    def filter_platform(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        platform = Platform.objects.filter(slug=value).first()
        return queryset.for_platform(platform) if platform else queryset.none()

    def filter_date_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(date_end__gte=value)

    def filter_date_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(date__lte=value)

    def filter_upcoming(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.upcoming(at=at_now()) if value else queryset.past(at=at_now())

    def filter_past(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.past(at=at_now()) if value else queryset.upcoming(at=at_now())


class CommitmentFilter(RecordFilter):
    platform = filters.CharFilter(method="filter_platform", help_text="A platform's slug.")
    milestone = filters.CharFilter(method=by_slug_or_key("milestones"), help_text="Slug or key.")
    measure = filters.CharFilter(method=by_slug_or_key("measures"), help_text="Slug or key.")
    topic = filters.CharFilter(field_name="topics__slug", help_text="A topic's slug.")
    delivery_status = filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    made_from = filters.DateFilter(field_name="made_on", lookup_expr="gte")
    made_to = filters.DateFilter(field_name="made_on", lookup_expr="lte")
    due_from = filters.DateFilter(field_name="due_end", lookup_expr="gte")
    due_to = filters.DateFilter(field_name="due_on", lookup_expr="lte")
    open = BooleanFilter(
        method="filter_open", help_text="true: announced, in progress or unverified."
    )
    overdue = BooleanFilter(
        method="filter_overdue", help_text="true: still open after its due period ended."
    )

    relative_to_today = ("overdue",)

    class Meta:
        model = Commitment
        fields = ()

    def filter_platform(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        platform = Platform.objects.filter(slug=value).first()
        return queryset.for_platform(platform) if platform else queryset.none()

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        open_ = queryset.model.objects.open().values("pk")
        return queryset.filter(pk__in=open_) if value else queryset.exclude(pk__in=open_)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = queryset.model.objects.overdue(at=at_now()).values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


class OrganisationFilter(RecordFilter):
    kind = filters.MultipleChoiceFilter(choices=OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ()


class PlatformFilter(RecordFilter):
    kind = filters.MultipleChoiceFilter(choices=PlatformKind.choices)
    owner = filters.CharFilter(method=by_slug_or_key("owner"), help_text="Slug or key.")

    class Meta:
        model = Platform
        fields = ()


class InstrumentFilter(RecordFilter):
    kind = filters.MultipleChoiceFilter(choices=InstrumentKind.choices)
    stage = filters.MultipleChoiceFilter(choices=InstrumentStage.choices)
    topic = filters.CharFilter(field_name="topics__slug")
    parent = filters.CharFilter(method=by_slug_or_key("parent"), help_text="Slug or key.")

    class Meta:
        model = Instrument
        fields = ()


class MeasureFilter(RecordFilter):
    instrument = filters.CharFilter(method=by_slug_or_key("instrument"), help_text="Slug or key.")
    topic = filters.CharFilter(field_name="topics__slug")

    class Meta:
        model = Measure
        fields = ()


class IndicatorFilter(RecordFilter):
    unit = filters.ChoiceFilter(choices=Unit.choices)
    topic = filters.CharFilter(field_name="topics__slug")

    class Meta:
        model = Indicator
        fields = ()


class ObservationFilter(RecordFilter):
    indicator = filters.CharFilter(method=by_slug_or_key("indicator"), help_text="Slug or key.")
    platform = filters.CharFilter(field_name="platforms__slug", help_text="A platform's slug.")
    unit = filters.ChoiceFilter(choices=Unit.choices)
    conflicted = BooleanFilter(
        field_name="conflicts_with", lookup_expr="isnull", exclude=True, distinct=True
    )

    class Meta:
        model = Observation
        fields = ()


class SourceFilter(filters.FilterSet):
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")
    kind = filters.MultipleChoiceFilter(choices=SourceKind.choices)
    origin = filters.ChoiceFilter(choices=SourceOrigin.choices)
    key = filters.CharFilter()
    published_from = filters.DateFilter(field_name="published_on", lookup_expr="gte")
    published_to = filters.DateFilter(field_name="published_on", lookup_expr="lte")

    class Meta:
        model = Source
        fields = ()


class TopicFilter(filters.FilterSet):
    updated_since = UpdatedSinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Topic
        fields = ()
