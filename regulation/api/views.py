"""API views: thin glue between HTTP and the models' querysets and methods. Reads go through
the same querysets as the site; writes through the same methods as the admin (publish(),
move_to(), record_update()), so a rule the admin enforces holds here too."""

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import (
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from regulation.api import filters as api_filters
from regulation.api import serializers as s
from regulation.api.caching import ConditionalGetMixin
from regulation.api.pagination import RecordPagination
from regulation.api.permissions import ReadOrModelPermissions, sees_drafts, visible
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
    Topic,
)


def as_field_errors(error: DjangoValidationError, field: str | None = None) -> ValidationError:
    """A model's refusal as the API's field-level error: {"field": ["message"]}."""
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                ("non_field_errors" if name == "__all__" else name): messages
                for name, messages in error.message_dict.items()
            }
        )
    return ValidationError({field or "non_field_errors": error.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A model's ValidationError that reaches the view is a 400 with its messages, not a 500."""
    if isinstance(exc, DjangoValidationError):
        exc = as_field_errors(exc)
    return exception_handler(exc, context)


class StableOrderingFilter(OrderingFilter):
    """A client's ordering, then the id: pages of a list ordered by a field many records share
    must neither repeat nor skip a record. An ordering the list does not offer is a 400 (not
    silently the default order)."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            offered = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            unknown = [
                t for t in (t.strip() for t in raw.split(",")) if t.lstrip("-") not in offered
            ]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Cannot order by {', '.join(repr(t) for t in unknown)}. Known: "
                            + ", ".join(sorted(offered))
                            + " (a leading - reverses)."
                        ]
                    }
                )
        ordering = super().get_ordering(request, queryset, view)
        return [*ordering, "pk"] if ordering else ordering


class RecordViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """A list and a detail of one kind of record, found by slug or by key."""

    model: type[Model]
    lookup_field = "slug"
    lookup_url_kwarg = "lookup"
    lookup_value_regex = "[^/]+"
    permission_classes = [ReadOrModelPermissions]
    pagination_class = RecordPagination
    filter_backends = [
        api_filters.KnownParametersOnly,
        api_filters.AskedFiltersOnly,
        SearchFilter,
        StableOrderingFilter,
    ]
    ordering_fields = ("updated_at", "created_at", "key")
    search_fields: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # many-to-many links to other public records
    write_permissions: dict[str, list[str]] = {}
    public_only = False  # the bulk export shows what the public sees, whoever asks

    def viewer(self):
        return None if self.public_only else self.request

    def get_queryset(self) -> QuerySet:
        queryset = visible(self.model, self.viewer()).select_related(*self.select)
        return queryset.prefetch_related(*self.prefetches())

    def prefetches(self) -> list[Prefetch]:
        """One query per related list, whatever the page size; a linked draft stays hidden
        from clients that may not see drafts."""
        related = [
            Prefetch(
                "sources",
                queryset=Source.objects.order_by("key", "pk"),
                to_attr=s.prefetched_name("sources"),
            )
        ]
        for name in self.links:
            target = self.model._meta.get_field(name).related_model
            queryset = visible(target, self.viewer())
            related.append(Prefetch(name, queryset=queryset, to_attr=s.prefetched_name(name)))
        return related

    def reads_rows(self) -> bool:
        """A list's page is read as .values() rows and answered from them (see
        serializers.rows_for_page), unless the records must be instances (a point in time)."""
        return self.action == "list" and issubclass(self.get_serializer_class(), s.RowSerializer)

    def paginate_queryset(self, queryset):
        if self.reads_rows():
            names = s.layout(self.get_serializer_class()).value_names
            queryset = queryset.prefetch_related(None).values(*names)
        return super().paginate_queryset(queryset)

    def get_object(self) -> Model:
        queryset = self.filter_queryset_for_lookup(self.get_queryset())
        value = self.kwargs[self.lookup_url_kwarg]
        if "\x00" in value:  # no record is named so (and PostgreSQL refuses to look)
            raise Http404(f"No {self.model._meta.verbose_name} is known as {value!r}.")
        # Keys are upper case (M21) and slugs lower case, so they never name different records.
        match = Q(slug=value)
        if hasattr(self.model, "key"):
            match |= Q(key=value)
        record = queryset.filter(match).first()
        if record is None:
            raise Http404(f"No {self.model._meta.verbose_name} is known as {value!r}.")
        self.check_object_permissions(self.request, record)
        return record

    def filter_queryset_for_lookup(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def publish_record(self, request: Request) -> Response:
        record = self.get_object()
        try:
            # Credited to the token's user; publish() checks the permission itself as well.
            record.publish(by=request.user)
        except DjangoValidationError as error:
            raise as_field_errors(error, "sources") from None
        return Response(self.get_serializer(self.get_object()).data)


AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="What was true on this day (YYYY-MM-DD, Europe/London), from the facts' own "
    "dates: records first known after it are absent.",
)
AS_OF_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")


class PointInTimeMixin:
    """`as_of=YYYY-MM-DD`: the records as the world knew them that day. The model says what
    that means (known_by / made_by, and as_of() on each record)."""

    extra_parameters = ("as_of",)

    def as_of(self) -> dt.date | None:
        raw = self.request.query_params.get("as_of")
        if raw is None:
            return None
        try:
            if not AS_OF_FORMAT.fullmatch(raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError({"as_of": ["Give a day as YYYY-MM-DD."]}) from None

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        day = self.as_of()
        return queryset if day is None else self.known_on(queryset, day)

    def reads_rows(self) -> bool:
        return self.as_of() is None and super().reads_rows()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        day = self.as_of()
        return page if day is None or page is None else self.then(page, day)

    def get_object(self) -> Model:
        record = super().get_object()
        day = self.as_of()
        return record if day is None else self.then([record], day)[0]


RECORDED_AS_OF = OpenApiParameter(
    "recorded_as_of",
    str,
    pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$",
    description="What this database said at that moment (YYYY-MM-DDTHH:MM, Europe/London "
    "unless an offset is given), from the records' history: which records were published "
    "then, each record's own fields, status and cited sources as they were then, and the date "
    "changes or status updates recorded by then. Links to other records and open conflicts "
    "are as they are now. A record that did not exist or was not published then is absent "
    "(404 on its address). Not with as_of or filters; search, ordering and pages apply.",
)
RECORDED_AS_OF_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?")
LONDON = ZoneInfo("Europe/London")
# What a list answers besides recorded_as_of: its filters ask about records as they are now.
RECORDED_AS_OF_COMPANIONS = frozenset(
    {"page", "page_size", "cursor", "search", "ordering", "format"}
)


def parse_moment(raw: str) -> dt.datetime:
    """A moment as the client wrote it, in UTC; a naive one is London time (so it follows
    summer time as a reader in the UK would)."""
    try:
        if not RECORDED_AS_OF_FORMAT.fullmatch(raw):
            raise ValueError(raw)
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LONDON)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            {"recorded_as_of": ["Give a moment as YYYY-MM-DDTHH:MM (Europe/London)."]}
        ) from None


class RecordedAsOfMixin:
    """`recorded_as_of=YYYY-MM-DDTHH:MM`: the records as this database showed them at that
    moment, for audits of what the public was shown, read from simple-history.

    Historical: which records existed and were published then (staff also see the drafts of
    then), every field of the record itself (title, date, status, verification, ...) and the
    sources it cited then (the history keeps each version's sources). Records deleted since
    are shown as they were. Date changes and status updates are those recorded by then.
    Current: links to other records (instruments, platforms, ...) and open conflicts, which
    have no history of their own here. Lists take search, ordering and pages but no filters:
    the filters ask about records as they are now."""

    def recorded_as_of(self) -> dt.datetime | None:
        if self.action not in ("list", "retrieve"):
            return None
        raw = self.request.query_params.get("recorded_as_of")
        if raw is None:
            return None
        if "as_of" in self.request.query_params:
            raise ValidationError(
                {
                    "recorded_as_of": [
                        "Ask either as_of (the world) or recorded_as_of (this database), not both."
                    ]
                }
            )
        return parse_moment(raw)

    def get_queryset(self) -> QuerySet:
        moment = self.recorded_as_of()
        if moment is None:
            return super().get_queryset()
        queryset = self.model.history.as_of(moment)
        if not sees_drafts(getattr(self.viewer(), "user", None)):
            queryset = queryset.filter(status=Status.PUBLISHED)
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.recorded_as_of() is None:
            return super().filter_queryset(queryset)
        others = sorted(
            set(self.request.query_params) - RECORDED_AS_OF_COMPANIONS - {"recorded_as_of"}
        )
        if others:
            raise ValidationError(
                {
                    name: ["Not with recorded_as_of: filters ask about records as they are now."]
                    for name in others
                }
            )
        for backend in (SearchFilter, StableOrderingFilter):
            queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def reads_rows(self) -> bool:
        return self.recorded_as_of() is None and super().reads_rows()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        moment = self.recorded_as_of()
        return page if moment is None or page is None else self.as_recorded(page, moment)

    def get_object(self) -> Model:
        record = super().get_object()
        moment = self.recorded_as_of()
        return record if moment is None else self.as_recorded([record], moment)[0]

    def as_recorded(self, records: list[Model], moment: dt.datetime) -> list[Model]:
        """The page's records (instances rebuilt from their versions of then) with the sources
        each version cited, and their current links: a constant number of queries."""
        prefetches = [p for p in self.prefetches() if p.prefetch_through != "sources"]
        prefetch_related_objects(records, *prefetches)
        history = self.model.history.model
        cited = apps.get_model(history._meta.app_label, f"{history._meta.object_name}_sources")
        versions = [record._history.history_id for record in records]
        by_version: dict[int, list[Source]] = {version: [] for version in versions}
        rows = (
            cited.objects.filter(history_id__in=versions)
            .select_related("source")
            .order_by("source__key", "source__pk")
        )
        for row in rows:
            by_version[row.history_id].append(row.source)
        for record in records:
            record.recorded_sources = by_version[record._history.history_id]
            self.recorded_then(record, moment)
        return records

    def recorded_then(self, record: Model, moment: dt.datetime) -> None:
        """Limit what the record shows of its own dated history to what was recorded by then."""


class PublishableViewSet(RecordViewSet):
    """A public record that staff may publish through the API, as in the admin."""

    def get_write_permissions(self) -> dict[str, list[str]]:
        # Publishing is the editors' right, as in the admin: change and publish permissions.
        name = self.model._meta.model_name
        return {"publish": [f"regulation.change_{name}", self.model.publish_permission()]}

    @property
    def write_permissions(self) -> dict[str, list[str]]:
        return {**self.get_write_permissions(), **self.extra_write_permissions()}

    def extra_write_permissions(self) -> dict[str, list[str]]:
        return {}

    @extend_schema(
        request=None,
        summary="Publish a draft",
        description="Refused (400, on `sources`) while the record cites no source.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, lookup: str) -> Response:
        return self.publish_record(request)


class OrganisationViewSet(PublishableViewSet):
    model = Organisation
    serializer_class = s.OrganisationSerializer
    filterset_class = api_filters.OrganisationFilter
    search_fields = ("name", "description")
    ordering_fields = (*RecordViewSet.ordering_fields, "name")


class PlatformViewSet(PublishableViewSet):
    model = Platform
    serializer_class = s.PlatformSerializer
    filterset_class = api_filters.PlatformFilter
    search_fields = ("name",)
    select = ("owner",)
    ordering_fields = (*RecordViewSet.ordering_fields, "name")


class InstrumentViewSet(PublishableViewSet):
    model = Instrument
    serializer_class = s.InstrumentSerializer
    filterset_class = api_filters.InstrumentFilter
    search_fields = ("title", "short_name", "summary")
    select = ("issuer", "parent")
    links = ("topics",)
    ordering_fields = (*RecordViewSet.ordering_fields, "title")


class MeasureViewSet(PublishableViewSet):
    model = Measure
    serializer_class = s.MeasureSerializer
    filterset_class = api_filters.MeasureFilter
    search_fields = ("reference", "title", "summary", "applies_to")
    select = ("instrument",)
    links = ("topics",)
    ordering_fields = (*RecordViewSet.ordering_fields, "title", "reference")


@extend_schema_view(
    list=extend_schema(parameters=[AS_OF, RECORDED_AS_OF]),
    retrieve=extend_schema(parameters=[AS_OF, RECORDED_AS_OF]),
)
class MilestoneViewSet(RecordedAsOfMixin, PointInTimeMixin, PublishableViewSet):
    model = Milestone
    serializer_class = s.MilestoneSerializer
    filterset_class = api_filters.MilestoneFilter
    search_fields = ("title", "description", "phase", "who_must_act")
    links = ("instruments", "measures", "platforms", "topics")
    ordering_fields = (*RecordViewSet.ordering_fields, "date", "date_end", "title")

    def prefetches(self) -> list[Prefetch]:
        changes = DateChange.objects.select_related("source").order_by("created_at", "pk")
        return [*super().prefetches(), Prefetch("date_changes", queryset=changes)]

    def extra_write_permissions(self) -> dict[str, list[str]]:
        return {"move": ["regulation.change_milestone", "regulation.add_datechange"]}

    def known_on(self, queryset: QuerySet, day: dt.date) -> QuerySet:
        return queryset.known_by(day)

    def then(self, milestones: list[Milestone], day: dt.date) -> list[Milestone]:
        return [milestone.as_of(day) for milestone in milestones]

    def recorded_then(self, milestone: Milestone, moment: dt.datetime) -> None:
        changes = milestone.date_changes.all()
        milestone.known_date_changes = [c for c in changes if c.created_at <= moment]

    @extend_schema(
        request=s.DateMoveSerializer,
        responses=s.MilestoneSerializer,
        summary="Move the milestone's date",
        description="Through Milestone.move_to(): the old date is kept as a date change. "
        "A reason is required; a 'move' to the same date, precision and certainty is refused.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, lookup: str) -> Response:
        milestone = self.get_object()
        data = validated(s.DateMoveSerializer, request)
        try:
            milestone.move_to(
                data["date"],
                precision=data.get("precision"),
                certainty=data.get("certainty"),
                reason=data["reason"],
                source=data.get("source"),
                announced_on=data.get("announced_on"),
                by=request.user,
            )
        except DjangoValidationError as error:
            raise as_field_errors(error, "date") from None
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema_view(
    list=extend_schema(parameters=[AS_OF, RECORDED_AS_OF]),
    retrieve=extend_schema(parameters=[AS_OF, RECORDED_AS_OF]),
)
class CommitmentViewSet(
    RecordedAsOfMixin, PointInTimeMixin, mixins.CreateModelMixin, PublishableViewSet
):
    model = Commitment
    serializer_class = s.CommitmentSerializer
    filterset_class = api_filters.CommitmentFilter
    search_fields = ("summary", "quote", "made_by", "platform_label")
    select = ("made_by_organisation",)
    links = ("platforms", "measures", "milestones", "topics")
    ordering_fields = (*RecordViewSet.ordering_fields, "made_on", "due_end")

    def prefetches(self) -> list[Prefetch]:
        updates = CommitmentUpdate.objects.select_related("evidence").order_by("on", "created_at")
        return [*super().prefetches(), Prefetch("updates", queryset=updates)]

    def known_on(self, queryset: QuerySet, day: dt.date) -> QuerySet:
        return queryset.made_by(day)

    def then(self, commitments: list[Commitment], day: dt.date) -> list[Commitment]:
        """Each commitment on day; before its first update, with the status it was recorded
        with (its first version in the history), read for the whole page in one query."""
        versions = Commitment.history.model.objects
        first = versions.filter(id=OuterRef("id")).order_by("history_date").values("pk")[:1]
        first_status = dict(
            versions.filter(id__in=[c.pk for c in commitments], pk=Subquery(first)).values_list(
                "id", "delivery_status"
            )
        )
        return [c.as_of(day, first_status.get(c.pk)) for c in commitments]

    def recorded_then(self, commitment: Commitment, moment: dt.datetime) -> None:
        commitment.known_updates = [u for u in commitment.updates.all() if u.created_at <= moment]

    def extra_write_permissions(self) -> dict[str, list[str]]:
        return {
            "create": ["regulation.add_commitment"],
            "updates": ["regulation.add_commitmentupdate", "regulation.change_commitment"],
        }

    @extend_schema(
        request=s.CommitmentWriteSerializer,
        responses={201: s.CommitmentSerializer},
        summary="Record a new commitment (as a draft)",
        description="A new commitment is a draft; publish it once it cites a source.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        writer = s.CommitmentWriteSerializer(data=request.data, context={"request": request})
        writer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                commitment = writer.save()
        except DjangoValidationError as error:
            raise as_field_errors(error) from None
        # Shown to its author even without staff rights: they have just written it.
        created = self.model.objects.prefetch_related(*self.prefetches()).get(pk=commitment.pk)
        body = self.get_serializer(created).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    @extend_schema(
        request=s.CommitmentUpdateWriteSerializer,
        responses={201: s.CommitmentSerializer},
        summary="Record a status update",
        description="Through Commitment.record_update(): the latest update by date sets the "
        "commitment's status. An update dated before the commitment was made is refused.",
    )
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, lookup: str) -> Response:
        commitment = self.get_object()
        data = validated(s.CommitmentUpdateWriteSerializer, request)
        try:
            commitment.record_update(**data, by=request.user)
        except DjangoValidationError as error:
            raise as_field_errors(error) from None
        body = self.get_serializer(self.get_object()).data
        return Response(body, status=status.HTTP_201_CREATED)


class IndicatorViewSet(PublishableViewSet):
    model = Indicator
    serializer_class = s.IndicatorSerializer
    filterset_class = api_filters.IndicatorFilter
    search_fields = ("name", "method_note", "publisher_name")
    select = ("publisher",)
    links = ("topics",)
    ordering_fields = (*RecordViewSet.ordering_fields, "name")


class ObservationViewSet(PublishableViewSet):
    model = Observation
    serializer_class = s.ObservationSerializer
    filterset_class = api_filters.ObservationFilter
    search_fields = ("metric", "value_text", "period_label", "coverage")
    select = ("indicator",)
    links = ("platforms", "conflicts_with")
    ordering_fields = (*RecordViewSet.ordering_fields, "period_start", "metric")


class SourceViewSet(mixins.CreateModelMixin, RecordViewSet):
    """Sources have no slug: each is found by its key (S12) or, lacking one, its id."""

    model = Source
    serializer_class = s.SourceSerializer
    filterset_class = api_filters.SourceFilter
    search_fields = ("title", "publisher_name", "quote")
    select = ("publisher",)
    ordering_fields = (*RecordViewSet.ordering_fields, "title", "published_on")
    write_permissions = {"create": ["regulation.add_source"]}

    def prefetches(self) -> list[Prefetch]:
        return []

    def get_object(self) -> Model:
        value = self.kwargs[self.lookup_url_kwarg]
        if "\x00" in value:
            raise Http404(f"No source is known as {value!r}.")
        match = Q(key=value) | (Q(pk=int(value)) if value.isdigit() else Q(pk__in=[]))
        record = self.get_queryset().filter(match).order_by("key").first()
        if record is None:
            raise Http404(f"No source is known as {value!r}.")
        return record

    @extend_schema(request=s.SourceWriteSerializer, responses={201: s.SourceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = validated(s.SourceWriteSerializer, request, save=True)
        body = self.get_serializer(source).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class TopicViewSet(RecordViewSet):
    model = Topic
    serializer_class = s.TopicSerializer
    filterset_class = api_filters.TopicFilter
    search_fields = ("name", "description")
    ordering_fields = ("updated_at", "created_at", "name")

    def prefetches(self) -> list[Prefetch]:
        return []


def validated(serializer_class: type[serializers.Serializer], request: Request, save=False):
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    if save:
        return serializer.save()
    return serializer.validated_data
