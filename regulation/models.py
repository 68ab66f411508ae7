"""The knowledge: what the Online Safety Act and Ofcom's codes require, from whom and by when,
what platforms promised, and the statistics that frame it. Every public claim cites a Source.

This app never imports tracker/: knowledge does not know who watches it.
"""

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Self

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.postgres.search import CombinedSearchVector, SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Max, Q, Value
from django.db.models.functions import Coalesce, Length
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from regulation import signals
from regulation.dates import (
    Certainty,
    Precision,
    format_fuzzy,
    iso_fuzzy,
    period_end,
    period_start,
)

DATE_NOT_MOVED = "The new date, its precision and its certainty are the same as the old ones."
# Records created at the same moment from the same title each need their own slug: this many
# can collide before a save gives up.
SLUG_ATTEMPTS = 20
PUBLISH_WITHOUT_SOURCE = (
    "A record can only be published once it cites at least one source. "
    "Add a source, or keep the record as a draft."
)
PUBLISH_NEW_RECORD = (
    "A new record cannot be created as published: it cannot cite a source before it exists. "
    "Create it as a draft, add its sources, then publish it."
)
UNCITED_PUBLISHED = (
    "A published record must cite at least one source. This would leave {records} citing none: "
    "add another source to it first, or unpublish it."
)
NOT_ALLOWED_TO_PUBLISH = "Only an editor (with the publish permission) may publish or unpublish."
ONLY_EDITORS_CHANGE_PUBLIC = (
    "Only an editor changes what the public sees: this is published (or cited by a published "
    "record). Ask an editor, or change a draft."
)
SEND_BACK_NEEDS_NOTE = "Say what the contributor should change: the note is sent back with it."
ONLY_DRAFTS_ARE_REVIEWED = "Only a draft can be submitted for review or sent back."
# Records created at the same moment in the same series each need their own key: this many can
# collide before a save gives up.
KEY_ATTEMPTS = 20
HTTP_URL = "Enter a web address starting with http:// or https://."
# Only web addresses: a javascript: or data: URL in an href runs in the reader's browser.
validate_http_url = URLValidator(schemes=["http", "https"], message=HTTP_URL)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ONE_LINE = "One line, without line breaks or control characters."


def validate_single_line(value: str) -> None:
    """A title or a name is one line: it goes into e-mail subjects, calendar entries, feeds."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(ONE_LINE, code="single_line")


class SingleLineFormField(forms.CharField):
    """What is typed or pasted over several lines becomes one line, its spaces runs of one."""

    def to_python(self, value):
        value = super().to_python(value)
        return " ".join(value.split()) if isinstance(value, str) else value


class SingleLineField(models.CharField):
    """A title or a name: one line, without control characters (the forms join what is pasted
    over several lines; the API and every other write are refused with ONE_LINE)."""

    default_validators = [validate_single_line]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SingleLineFormField, **kwargs})


def single_line_constraint(field: str, model_name: str) -> models.CheckConstraint:
    """The database's own guard against a line break in a title, for writes that skip
    validation (a line break in an e-mail's Subject would stop its reminders)."""
    return models.CheckConstraint(
        condition=~Q(**{f"{field}__contains": "\n"}) & ~Q(**{f"{field}__contains": "\r"}),
        name=f"{model_name}_{field}_is_one_line",
    )


class WebURLField(models.URLField):
    """A URL field that accepts only http and https (its one validator, with one message)."""

    default_validators = [validate_http_url]


def http_url_constraint(field: str, model_name: str) -> models.CheckConstraint:
    """The database's own guard on a URL column, for writes that skip validation."""
    return models.CheckConstraint(
        condition=Q(**{field: ""})
        | Q(**{f"{field}__istartswith": "http://"})
        | Q(**{f"{field}__istartswith": "https://"}),
        name=f"{model_name}_{field}_is_http",
        violation_error_message=HTTP_URL,
    )


class UncitedRecordsError(ValidationError):
    """Refused: the change would leave published records citing no source."""

    def __init__(self, records: "list[PublicRecord]") -> None:
        self.records = records
        names = "; ".join(f"{r._meta.verbose_name} “{r}”" for r in records)
        super().__init__(UNCITED_PUBLISHED.format(records=names), code="uncited")


SLUG_LENGTH = 70


def slug_at_word_boundary(slug: str, length: int = SLUG_LENGTH) -> str:
    """The slug cut to length at the last whole word, so an address never ends mid-word
    ("m21-illegal-harms", not "m21-illegal-har"); a single word longer than length is cut."""
    if len(slug) <= length:
        return slug
    cut = slug[: length + 1]
    return cut[: cut.rfind("-")] if "-" in cut else slug[:length]


# A stand-in slug: reverse() once per URL name, then put each record's slug in its place.
_SLUG_PLACEHOLDER = "slug-placeholder"


@functools.cache
def _url_pattern(url_name: str, script_prefix: str, urlconf: str | None) -> str:
    return reverse(url_name, args=[_SLUG_PLACEHOLDER], urlconf=urlconf)


def url_with_slug(url_name: str, slug: str) -> str:
    """reverse(url_name, args=[slug]), without resolving the pattern again for every record of
    a long list (a reverse costs more than the rest of a timeline row). A slug needs no quoting."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF  # a test may swap either
    pattern = _url_pattern(url_name, get_script_prefix(), urlconf)
    return pattern.replace(_SLUG_PLACEHOLDER, slug, 1)


def url_builder(url_name: str) -> Callable[[str], str]:
    """url_with_slug(url_name, slug) as a function of the slug, for a long list: the address
    pattern is looked up once, then each slug costs one string concatenation."""
    before, _, after = url_with_slug(url_name, _SLUG_PLACEHOLDER).partition(_SLUG_PLACEHOLDER)
    return lambda slug: f"{before}{slug}{after}"


def local_day(at: dt.datetime | dt.date | None = None) -> dt.date:
    """The calendar day in the site's time zone (Europe/London) at the reference time."""
    if at is None:
        return timezone.localdate()
    if isinstance(at, dt.datetime):
        return timezone.localdate(at)
    return at


def save_as(record: models.Model, user=None, **kwargs) -> None:
    """Save, crediting the change in the record's history to user (when given) and to nobody
    else afterwards: simple_history reads the user from the instance."""
    if user is None:
        record.save(**kwargs)
        return
    record._history_user = user
    try:
        record.save(**kwargs)
    finally:
        del record._history_user


@contextmanager
def change_reason(record: models.Model, reason: str) -> Iterator[None]:
    """Saves inside the block record reason as the history's change reason (simple_history
    reads it from the instance), and no later save does. A reason the caller already gave (a
    revert, a fact release's correction) says more about the change and is kept."""
    if hasattr(record, "_change_reason"):
        yield
        return
    # simple_history keeps at most 100 characters.
    record._change_reason = reason if len(reason) <= 100 else reason[:99] + "…"
    try:
        yield
    finally:
        del record._change_reason


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Verification(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed in a cited source"
    UNVERIFIED = "unverified", "Unverified"


class ReviewState(models.TextChoices):
    NONE = "", "Not submitted"
    SUBMITTED = "submitted", "Waiting for review"
    SENT_BACK = "sent_back", "Sent back"


def publish_permissions(model_name: str) -> list[tuple[str, str]]:
    """The custom permission publish() and unpublish() ask for, one per public model (the
    editors' right: what the public sees)."""
    return [(f"publish_{model_name}", f"Can publish and unpublish {model_name}s")]


def merge_permissions(model_name: str) -> list[tuple[str, str]]:
    """The permission regulation.merging.merge() asks for: an editor's right to fold
    duplicates into one record (which deletes the duplicates)."""
    return [(f"merge_{model_name}", f"Can merge duplicate {model_name}s")]


def needs_key(record: models.Model) -> bool:
    return record._state.adding and not record.key and bool(getattr(record, "key_series", ""))


def next_key_in_series(model: type[models.Model], series: str) -> str:
    """The key after the highest of the series (M110 -> M111); keys of other series that
    share a first letter (S and ST) are not counted. Same-length numbers sort as text, so the
    longest, then greatest, key is the highest without reading them all."""
    highest = (
        model._default_manager.filter(key__regex=rf"^{series}[0-9]+$")
        .annotate(key_length=Length("key"))
        .order_by("-key_length", "-key")
        .values_list("key", flat=True)
        .first()
    )
    return f"{series}{int(highest[len(series) :]) + 1 if highest else 1}"


def save_with_new_key(record: models.Model, save) -> None:
    """Give a new record the next key of its series, then save it with save(). Another record
    created at the same moment can take the key between the read and the insert: then take
    the next one (the unique index decides who had it first). A slug made from the key is made
    again with the new key. Any other integrity error is raised as it is."""
    slug_given = bool(getattr(record, "slug", ""))
    for attempt in range(1, KEY_ATTEMPTS + 1):
        record.key = next_key_in_series(type(record), record.key_series)
        try:
            with transaction.atomic():  # a savepoint, so the retry can go on after a failure
                save()
            return
        except IntegrityError:
            taken = type(record)._default_manager.filter(key=record.key).exists()
            record.key = None
            if hasattr(record, "slug") and not slug_given:
                record.slug = ""
            if not taken or attempt == KEY_ATTEMPTS:
                raise


def choices_check(
    field: str, choices: type[models.Choices], *, blank: bool = False, prefix: str = ""
) -> models.CheckConstraint:
    """The database's refusal of a value outside the field's choices, wherever it comes from
    (an update(), raw SQL, a fixture): one bad value would break every page that shows it.
    Built from the choices, so a new choice needs only a new migration. (A model's own
    choices live at module level, beside it, so that its Meta can name them.)"""
    allowed = [*choices.values, *([""] if blank else [])]
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": allowed}),
        name=f"{prefix}%(class)s_{field}_in_choices",
        violation_error_message=f"The {field.replace('_', ' ')} is not one of its choices.",
    )


def public_record_checks() -> list[models.CheckConstraint]:
    """The choices every PublicRecord has; each model lists them in its own Meta."""
    return [
        choices_check("status", Status),
        choices_check("verification", Verification),
        choices_check("review_state", ReviewState, blank=True),
    ]


# --- Search ------------------------------------------------------------------------------------

SEARCH_CONFIG = "english"


@dataclass(frozen=True)
class SearchFields:
    """The text of a record the site's search reads: its title (weight A, ranked first) and its
    body (weight B). One definition serves both the query and the GIN index, which PostgreSQL
    uses only when the query's expression is exactly the indexed one."""

    title: Sequence[str]
    body: Sequence[str]

    def vector(self) -> CombinedSearchVector:
        weighted = [(field, "A") for field in self.title] + [(field, "B") for field in self.body]
        parts = [SearchVector(f, weight=w, config=SEARCH_CONFIG) for f, w in weighted]
        return reduce(operator.add, parts)

    # The GIN index on each vector is built by migration 0010 on PostgreSQL only, outside the
    # models' state: SQLite cannot hold it, and would otherwise try to rebuild it whenever a
    # migration copies a table. A change here needs a new migration building the new index.


# Module level, beside each model, so that its Meta can name them.
ORGANISATION_SEARCH = SearchFields(title=("name",), body=("kind_label", "description", "notes"))
PLATFORM_SEARCH = SearchFields(title=("name",), body=("notes",))
SOURCE_SEARCH = SearchFields(title=("title",), body=("publisher_name", "quote"))
INSTRUMENT_SEARCH = SearchFields(title=("title", "short_name"), body=("summary", "notes"))
MEASURE_SEARCH = SearchFields(
    title=("title", "reference"), body=("summary", "applies_to", "relevance", "notes")
)
MILESTONE_SEARCH = SearchFields(
    title=("title",), body=("description", "phase", "who_must_act", "notes")
)
COMMITMENT_SEARCH = SearchFields(title=("summary",), body=("quote", "made_by", "notes"))


# --- Querysets ---------------------------------------------------------------------------------


def public_models() -> "list[type[PublicRecord]]":
    return [
        m for m in apps.get_app_config("regulation").get_models() if issubclass(m, PublicRecord)
    ]


def data_last_updated() -> dt.datetime | None:
    """When the published knowledge last changed: the latest save of any published record,
    in one query (one row per kind of record, combined)."""
    latest = [
        model.objects.published()
        .order_by()
        .values("status")
        .annotate(last=models.Max("updated_at"))
        .values_list("last", flat=True)
        for model in public_models()
    ]
    return max(latest[0].union(*latest[1:], all=True), default=None)


def published_left_uncited(
    model: "type[PublicRecord]", source_ids, record_ids=None
) -> "list[PublicRecord]":
    """Published records of model (among record_ids, if given) that cite no source outside
    source_ids: removing those sources from them, or deleting those sources, leaves them none."""
    record_column = f"{model.sources.field.m2m_field_name()}_id"
    still_cited = model.sources.through.objects.exclude(source_id__in=source_ids)
    records = model.objects.published().filter(sources__in=source_ids)
    if record_ids is not None:
        records = records.filter(pk__in=record_ids)
    return list(records.exclude(pk__in=still_cited.values(record_column)).distinct())


def refuse_leaving_uncited(source_ids, model=None, record_ids=None) -> None:
    """Raise UncitedRecordsError naming every published record the change would leave uncited."""
    models_ = [model] if model is not None else public_models()
    uncited = [r for m in models_ for r in published_left_uncited(m, source_ids, record_ids)]
    if uncited:
        raise UncitedRecordsError(uncited)


def last_change(*models_: type[models.Model]) -> tuple[dt.datetime | None, int]:
    """The latest updated_at across the models' tables and how many rows they hold, read in one
    query: what a page or feed built from them depends on (its ETag and Last-Modified). The
    count is there because deleting a row changes no updated_at; unpublishing does."""
    per_table = [
        model._default_manager.order_by()
        .annotate(table=Value(1))
        .values("table")
        .annotate(latest=Max("updated_at"), rows=Count("pk"))
        .values_list("latest", "rows")
        for model in models_
    ]
    stamps = list(per_table[0].union(*per_table[1:], all=True))
    latest = max((at for at, _ in stamps if at is not None), default=None)
    return latest, sum(rows for _, rows in stamps)


class NaturalKeyQuerySet(models.QuerySet):
    def get_by_natural_key(self, key: str):
        return self.get(key=key)


class PublicQuerySet(NaturalKeyQuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def public(self):
        """What the public may see (every kind of record that has a public() says it there,
        and the pages, search, the API and the exports all ask it): the published records."""
        return self.published()

    def waiting_for_review(self):
        """Drafts a contributor submitted and no editor has published or sent back yet."""
        return self.filter(status=Status.DRAFT, review_state=ReviewState.SUBMITTED)

    def unverified(self):
        return self.filter(verification=Verification.UNVERIFIED)

    def without_source(self):
        return self.filter(sources__isnull=True)

    def update(self, **kwargs) -> int:
        # publish() checks one record; a bulk update must not publish any that cite nothing.
        if kwargs.get("status") == Status.PUBLISHED:
            uncited = list(self.filter(sources__isnull=True))
            if uncited:
                raise UncitedRecordsError(uncited)
        return super().update(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if any(obj.status == Status.PUBLISHED for obj in objs):
            raise ValidationError(PUBLISH_NEW_RECORD, code="published_on_create")
        return super().bulk_create(objs, *args, **kwargs)


class SourceQuerySet(NaturalKeyQuerySet):
    def public(self):
        """Sources a published record cites (or a published milestone's date change or a
        published commitment's status update rests on): a source only drafts cite would show
        what the drafts are about."""
        cited = Q()
        for model in public_models():
            through = model.sources.through
            column = model.sources.field.m2m_field_name()
            cited |= Q(
                models.Exists(
                    through.objects.filter(
                        source=models.OuterRef("pk"), **{f"{column}__status": Status.PUBLISHED}
                    )
                )
            )
        cited |= Q(
            models.Exists(
                DateChange.objects.public().filter(source=models.OuterRef("pk")).values("pk")
            )
        )
        cited |= Q(
            models.Exists(
                CommitmentUpdate.objects.public()
                .filter(evidence=models.OuterRef("pk"))
                .values("pk")
            )
        )
        return self.filter(cited)

    def delete(self):
        """Refused while a published record cites only sources being deleted."""
        refuse_leaving_uncited(list(self.values_list("pk", flat=True)))
        return super().delete()


# The timeline's order, in one place. A fuzzy date sorts by the last day it could be, so a less
# precise date never comes before a more precise one that could be earlier: "2026" after
# "March 2026", "autumn 2026" after "15 October 2026". Among periods that end on the same day
# the shorter, more precise one comes first ("31 December 2026", "December 2026", "Q4 2026",
# "2026"): with the same end, a later first day is exactly a finer precision.
CHRONOLOGICAL = ("date_end", "-date", "key")
# Most recent first: by the last day, so a period is listed once it is wholly over; the more
# precise date still first among those ending the same day, as it may be the more recent.
MOST_RECENT_FIRST = ("-date_end", "-date", "-key")


class MilestoneQuerySet(PublicQuerySet):
    def upcoming(self, at: dt.datetime | dt.date | None = None):
        """Milestones whose date (or its whole period, for a month, season, quarter or year) has
        not ended yet, soonest first.

        A milestone due today is still upcoming; "today" is the day in Europe/London at `at`.
        """
        return self.filter(date_end__gte=local_day(at)).order_by(*CHRONOLOGICAL)

    def past(self, at: dt.datetime | dt.date | None = None):
        """Milestones whose whole date period is over, most recent first."""
        return self.filter(date_end__lt=local_day(at)).order_by(*MOST_RECENT_FIRST)

    def due_between(self, start: dt.date, end: dt.date):
        """Milestones whose date period overlaps the days from start to end, both included."""
        return self.filter(date__lte=end, date_end__gte=start).order_by(*CHRONOLOGICAL)

    def due_on(self, day: dt.date):
        return self.due_between(day, day)

    def for_platform(self, platform: "Platform"):
        """Milestones that name the platform, directly or through a commitment it made."""
        ids = self.filter(Q(platforms=platform) | Q(commitments__platforms=platform)).values("pk")
        return self.filter(pk__in=ids)

    def for_instrument(self, instrument: "Instrument"):
        return self.filter(instruments=instrument)

    def for_topic(self, topic: "Topic"):
        return self.filter(topics=topic)

    def compliance_deadlines(self):
        return self.filter(kind=Milestone.Kind.COMPLIANCE_DEADLINE)

    def chronological(self):
        return self.order_by(*CHRONOLOGICAL)

    def of_kind(self, kind: str):
        return self.filter(kind=kind)

    def in_phase(self, phase: str):
        return self.filter(phase=phase)

    def phases(self) -> list[str]:
        """The phases the milestones name, in the order they first arrive on the timeline."""
        seen: dict[str, None] = {}
        for phase in (
            self.exclude(phase="").order_by(*CHRONOLOGICAL).values_list("phase", flat=True)
        ):
            seen.setdefault(phase, None)
        return list(seen)

    def for_listing(self):
        """What a list of milestones shows beside each: its date's history (as a plain list:
        a prefetch into the related manager costs more per row than the rest of the row)."""
        return self.prefetch_related(
            models.Prefetch(
                "date_changes",
                queryset=DateChange.objects.order_by("created_at", "pk"),
                to_attr="listed_date_changes",
            )
        )

    def recently_added(self):
        return self.order_by("-created_at", "-pk")

    def deadlines_within(self, days: int, at: dt.datetime | dt.date | None = None):
        """Milestones due from today to `days` days ahead (a period overlapping those days)."""
        today = local_day(at)
        return self.due_between(today, today + dt.timedelta(days=days))

    def passed_unconfirmed(
        self, at: dt.datetime | dt.date | None = None, *, since: dt.date | None = None
    ):
        """Expected dates whose whole period is over without being confirmed as happening (the
        dashboard's list); with `since`, only those whose period ended on a day from since - 1,
        so passed on a day from since (the staff e-mails' occasions in their window)."""
        passed = self.filter(certainty=Certainty.EXPECTED, date_end__lt=local_day(at))
        if since is not None:
            passed = passed.filter(date_end__gte=since - dt.timedelta(days=1))
        return passed

    def known_by(self, day: dt.date):
        """Milestones the world could know of on day, by the facts' own dates: one is absent
        only when every source it cites is dated after day and its date (now or before any
        move) had not begun by then. An undated source cannot show it was unknown."""
        known = self.filter(
            Q(sources__published_on__lte=day)
            | Q(sources__published_on__isnull=True)
            | Q(date__lte=day)
            | Q(date_changes__old_date__lte=day)
            | Q(date_changes__announced_on__lte=day)
        )
        return self.filter(pk__in=known.values("pk"))


class CommitmentQuerySet(PublicQuerySet):
    def for_platform(self, platform: "Platform"):
        return self.filter(pk__in=self.filter(platforms=platform).values("pk"))

    def open(self):
        return self.filter(delivery_status__in=Commitment.OPEN_STATUSES)

    def overdue(self, at: dt.datetime | dt.date | None = None):
        """Open commitments whose due date (its whole period) is over."""
        return self.open().filter(due_end__lt=local_day(at))

    def made_by(self, day: dt.date):
        """Commitments announced by day (one known only to a month counts from its first day)."""
        return self.filter(made_on__lte=day)

    def review_date_reached(
        self, at: dt.datetime | dt.date | None = None, *, since: dt.date | None = None
    ):
        """Commitments whose review date has arrived: staff should check them for news. With
        `since`, only those whose review date arrived from that day (an e-mail's window)."""
        reached = self.filter(review_on__lte=local_day(at))
        if since is not None:
            reached = reached.filter(review_on__gte=since)
        return reached

    def quiet(self, at: dt.datetime | dt.date | None = None, days: int | None = None):
        """Open commitments with no review date whose last news (the latest status update, or
        the announcement itself) is more than `days` old (FOLLOW_UP_QUIET_DAYS, 90 by
        default): a promise like "from early March 2026" still "announced" in November."""
        days = settings.FOLLOW_UP_QUIET_DAYS if days is None else days
        cutoff = local_day(at) - dt.timedelta(days=days)
        last_news = self.annotate(last_news=Coalesce(Max("updates__on"), F("made_on")))
        quiet = last_news.filter(last_news__lt=cutoff).values("pk")
        return self.open().filter(review_on__isnull=True, pk__in=quiet)

    def needs_review(self, at: dt.datetime | dt.date | None = None, days: int | None = None):
        """Commitments staff should check for news: their review date has come, or they have
        none and have been quiet too long."""
        due = self.review_date_reached(at).values("pk")
        quiet = self.quiet(at, days).values("pk")
        return self.filter(Q(pk__in=due) | Q(pk__in=quiet))

    def for_measure(self, measure: "Measure"):
        return self.filter(measures=measure)

    def for_listing(self):
        """What a list of commitments shows beside each: the published platforms it names."""
        return self.prefetch_related(
            models.Prefetch(
                "platforms", queryset=Platform.objects.published(), to_attr="listed_platforms"
            )
        )

    def count_by_status(self) -> "list[tuple[str, int]]":
        """(status label, how many) for every delivery status, in the choices' order."""
        counts = dict(
            self.order_by()
            .values_list("delivery_status")
            .annotate(n=models.Count("pk"))
            .values_list("delivery_status", "n")
        )
        return [(label, counts.get(value, 0)) for value, label in DeliveryStatus.choices]

    def scorecard(self, at: dt.datetime | dt.date | None = None) -> "dict[str, list[Commitment]]":
        """The commitments in the scorecard's groups, each group in the queryset's order."""
        card: dict[str, list[Commitment]] = {label: [] for label in SCORECARD}
        for commitment in self:
            card[commitment.scorecard_group(at=at)].append(commitment)
        return card

    def recently_added(self):
        return self.order_by("-created_at", "-pk")


class DateChangeQuerySet(models.QuerySet):
    def public(self):
        """Moves of published milestones' dates."""
        return self.filter(milestone__status=Status.PUBLISHED)

    def most_recent_first(self):
        return self.order_by("-created_at", "-pk")


class CommitmentUpdateQuerySet(models.QuerySet):
    def public(self):
        """Status updates on published commitments."""
        return self.filter(commitment__status=Status.PUBLISHED)

    def most_recent_first(self):
        return self.order_by("-on", "-created_at", "-pk")


class ObservationQuerySet(PublicQuerySet):
    def latest_first(self):
        """The most recent period first; a figure with no dated period after the dated ones."""
        return self.order_by(F("period_start").desc(nulls_last=True), "-period_label", "-key")


# --- Shared fields -----------------------------------------------------------------------------


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SourcesField(models.ManyToManyField):
    """The sources a record cites. A form replacing them all adds the new ones before removing
    the old, so a published record never passes through citing none (which is refused)."""

    def save_form_data(self, instance: models.Model, data) -> None:
        manager = getattr(instance, self.attname)
        cited = set(manager.values_list("pk", flat=True))
        # Only the new ones: an add() of nothing would still record a version in the history.
        manager.add(*(source for source in data if source.pk not in cited))
        manager.set(data)


class PublicRecord(Timestamped):
    """A record the public may see once published, with its sources and how sure we are."""

    key = models.CharField(
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        help_text="Stable identifier used by the seed data (e.g. M21). "
        "Leave blank for new records.",
    )
    slug = models.SlugField(
        max_length=80,
        unique=True,
        blank=True,
        help_text="Part of the public address. Filled in from the title when left blank; "
        "changing it breaks existing links.",
    )
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.DRAFT,
        db_index=True,
        help_text="Only published records are shown to the public and API clients. "
        "Publishing needs at least one source.",
    )
    verification = models.CharField(
        max_length=10,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
        help_text="Confirmed: the cited sources say this. Unverified: not (yet) found in a "
        "source we can cite. Never mark confirmed without reading the source.",
    )
    notes = models.TextField(
        blank=True,
        help_text="What readers should know about how sure we are: caveats, what is unverified, "
        "where sources disagree.",
    )
    sources = SourcesField(
        "Source",
        related_name="%(class)ss",
        blank=True,
        help_text="Every published claim cites at least one source.",
    )
    review_state = models.CharField(
        max_length=10,
        choices=ReviewState.choices,
        default=ReviewState.NONE,
        blank=True,
        db_index=True,
        help_text="A contributor submits a draft for review; an editor publishes it or sends "
        "it back with a note.",
    )
    review_note = models.TextField(
        blank=True, help_text="Why an editor sent the draft back: what to change."
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Who last published it (blank: the seed or another system path).",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was last published."
    )
    # The history keeps each version's sources too: a citation removed is a change to the claim.
    history = HistoricalRecords(inherit=True, m2m_fields=["sources"])

    objects = PublicQuerySet.as_manager()

    slug_source_field = "name"
    # The series new records' keys are numbered in ("M": M111, M112, ...); none when blank.
    key_series = ""

    # The URL name of the record's public page (its slug is the argument).
    url_name = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and self.status == Status.PUBLISHED:
            raise ValidationError(PUBLISH_NEW_RECORD, code="published_on_create")
        with transaction.atomic():
            if needs_key(self):
                save_with_new_key(self, lambda: self._save_slugged(*args, **kwargs))
            else:
                self._save_slugged(*args, **kwargs)
            self._remember_old_slug(kwargs.get("update_fields"))

    def get_absolute_url(self) -> str:
        return url_with_slug(self.url_name, self.slug)

    def _save_slugged(self, *args, **kwargs) -> None:
        if self.slug:
            super().save(*args, **kwargs)
        else:
            self._save_with_new_slug(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        # The stored slug, so that a save changing it can keep the old address answering.
        record._stored_slug = record.__dict__.get("slug")
        return record

    def _remember_old_slug(self, update_fields) -> None:
        """A changed slug leaves its old address to redirect here, permanently."""
        old = getattr(self, "_stored_slug", None)
        if update_fields is not None and "slug" not in update_fields:
            return
        if old and old != self.slug:
            SlugRedirect.objects.update_or_create(
                model=self._meta.label_lower, old_slug=old, defaults={"object_pk": self.pk}
            )
        self._stored_slug = self.slug

    def natural_key(self) -> tuple[str | None]:
        return (self.key,)

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    def _save_with_new_slug(self, *args, **kwargs) -> None:
        """Save under the first free slug made from the title. Another record created at the
        same moment can take the slug between the check and the insert: then try the next one.
        Any other integrity error (a duplicate key, say) is raised as it is."""
        for attempt in range(1, SLUG_ATTEMPTS + 1):
            self.slug = self._unique_slug()
            try:
                with transaction.atomic():  # a savepoint, so the retry can go on after a failure
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                taken = self._slug_is_taken()
                self.slug = ""
                if not taken or attempt == SLUG_ATTEMPTS:
                    raise

    def _slug_is_taken(self) -> bool:
        return type(self)._default_manager.filter(slug=self.slug).exclude(pk=self.pk).exists()

    def locked(self) -> Self:
        """This record as the database holds it now, locked until the transaction ends, so
        two editors changing it at once take turns instead of both starting from the same
        version. Call inside transaction.atomic()."""
        return type(self)._default_manager.select_for_update().get(pk=self.pk)

    def _unique_slug(self) -> str:
        label = getattr(self, self.slug_source_field)
        base = slug_at_word_boundary(slugify(f"{self.key or ''} {label}")) or "record"
        slug, n = base, 2
        while type(self)._default_manager.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug

    @classmethod
    def publish_permission(cls) -> str:
        return f"{cls._meta.app_label}.publish_{cls._meta.model_name}"

    @classmethod
    def may_publish(cls, user) -> bool:
        """Whether the user may decide what the public sees. No user (None) is a system path,
        such as the seed, which has no one to ask."""
        return user is None or user.has_perm(cls.publish_permission())

    def _check_may_publish(self, by) -> None:
        if not self.may_publish(by):
            raise PermissionDenied(NOT_ALLOWED_TO_PUBLISH)

    def may_change(self, user) -> bool:
        """Whether the user may change the record as it stands. A published record is what
        the public sees: only an editor (the publish permission) changes it, its dates and
        status updates included. Others change drafts."""
        return not self.is_published or self.may_publish(user)

    def check_may_change(self, by) -> None:
        if not self.may_change(by):
            raise PermissionDenied(ONLY_EDITORS_CHANGE_PUBLIC)

    def publish(self, by=None, at: dt.datetime | None = None) -> None:
        """Make the record public, recording who and when. Refused while it cites no source,
        and to a user without the publish permission (by=None is a system path)."""
        self._check_may_publish(by)
        with transaction.atomic():
            if self._already(Status.PUBLISHED):
                return
            if not self.sources.exists():
                raise ValidationError(PUBLISH_WITHOUT_SOURCE)
            self.status = Status.PUBLISHED
            self.published_by, self.published_at = by, at or timezone.now()
            self.review_state, self.review_note = ReviewState.NONE, ""
            save_as(self, by, update_fields=[*PUBLISHING_FIELDS, "updated_at"])
            signals.record_published.send(sender=type(self), record=self, by=by)

    def unpublish(self, by=None) -> None:
        self._check_may_publish(by)
        with transaction.atomic():
            if self._already(Status.DRAFT):
                return
            self.status = Status.DRAFT
            save_as(self, by, update_fields=["status", "updated_at"])
            signals.record_unpublished.send(sender=type(self), record=self, by=by)

    def _already(self, status: str) -> bool:
        """Whether the stored record has this status already (read under a lock, so two
        requests at once take turns): publishing what is published, or unpublishing a draft,
        changes nothing and tells no one again. The instance takes the stored values."""
        if self.pk is None:
            return False
        stored = self.locked()
        if stored.status != status:
            return False
        for name in PUBLISHING_FIELDS:
            setattr(self, name, getattr(stored, name))
        return True

    def submit_for_review(self, by=None) -> None:
        """A contributor asks an editor to publish the draft."""
        if self.is_published:
            raise ValidationError(ONLY_DRAFTS_ARE_REVIEWED)
        self.review_state, self.review_note = ReviewState.SUBMITTED, ""
        save_as(self, by, update_fields=["review_state", "review_note", "updated_at"])

    def send_back(self, note: str, by=None) -> None:
        """An editor returns the draft to its contributor with what to change."""
        self._check_may_publish(by)
        if self.is_published:
            raise ValidationError(ONLY_DRAFTS_ARE_REVIEWED)
        if not note.strip():
            raise ValidationError(SEND_BACK_NEEDS_NOTE)
        self.review_state, self.review_note = ReviewState.SENT_BACK, note.strip()
        with change_reason(self, f"Sent back: {self.review_note}"):
            save_as(self, by, update_fields=["review_state", "review_note", "updated_at"])


PUBLISHING_FIELDS = ("status", "published_by", "published_at", "review_state", "review_note")


# --- Who -------------------------------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    REGULATOR = "regulator", "Regulator"
    GOVERNMENT = "government", "Government department"
    PARLIAMENT = "parliament", "Parliament"
    CHARITY = "charity", "Charity"
    NON_PROFIT = "non_profit", "Non-profit"
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
    COMPANY = "company", "Company / platform owner"
    PLATFORM_OPERATOR = "platform_operator", "Platform operator"
    # The facts name some services only as themselves (Telegram, Kik), not who runs them.
    PLATFORM = "platform", "Platform (the service itself; its owner is not known)"
    OTHER = "other", "Other"


class Organisation(PublicRecord):
    key_series = "OR"
    Kind = OrganisationKind

    name = SingleLineField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    kind_label = models.CharField(
        max_length=100,
        blank=True,
        help_text="How the source describes it, e.g. 'Statutory regulator'.",
    )
    description = models.TextField(blank=True, help_text="Its role in online safety.")
    relationships = models.JSONField(
        default=dict, blank=True, help_text="Other ties as recorded, e.g. accountable_to."
    )
    website = WebURLField(blank=True)

    search_fields = ORGANISATION_SEARCH
    url_name = "regulation:organisation"

    class Meta:
        permissions = [*publish_permissions("organisation"), *merge_permissions("organisation")]
        ordering = ["name"]
        constraints = [
            *public_record_checks(),
            choices_check("kind", OrganisationKind),
            http_url_constraint("website", "organisation"),
        ]

    def __str__(self) -> str:
        return self.name


class PlatformKind(models.TextChoices):
    SOCIAL_MEDIA = "social_media", "Social media"
    MESSAGING = "messaging", "Messaging"
    VIDEO = "video", "Video"
    GAMING = "gaming", "Gaming"
    CHAT = "chat", "Chat site"
    SEARCH = "search", "Search"
    REFERENCE = "reference", "Reference / wiki"
    OTHER = "other", "Other"


class PlatformQuerySet(PublicQuerySet):
    def with_commitment_counts(self):
        """Each platform with commitment_count: how many published commitments name it."""
        return self.annotate(
            commitment_count=models.Count(
                "commitments", filter=Q(commitments__status=Status.PUBLISHED), distinct=True
            )
        )


class Platform(PublicRecord):
    Kind = PlatformKind

    name = SingleLineField(max_length=100)
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="platforms",
        help_text="The company or body that runs it.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    website = WebURLField(blank=True)

    objects = PlatformQuerySet.as_manager()

    search_fields = PLATFORM_SEARCH
    url_name = "regulation:platform"

    class Meta:
        permissions = [*publish_permissions("platform"), *merge_permissions("platform")]
        ordering = ["name"]
        constraints = [
            *public_record_checks(),
            choices_check("kind", PlatformKind),
            http_url_constraint("website", "platform"),
        ]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    STATUTE = "statute", "Statute or statutory instrument"
    REGULATOR = "regulator", "Regulator document"
    GOVERNMENT = "government", "Government publication"
    PRESS_RELEASE = "press_release", "Press release"
    PLATFORM = "platform", "Platform announcement"
    NEWS = "news", "News report"
    PARLIAMENT = "parliament", "Parliamentary record"
    ANALYSIS = "analysis", "Law-firm or expert analysis"
    OTHER = "other", "Other"


class SourceOrigin(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


# --- A milestone's and a source's dates in words, from the stored values alone (the properties
# of Milestone and Source, and the API's pages built from rows, say them through these) --------


@functools.lru_cache(maxsize=4096)
def milestone_date_text(date: dt.date, precision: str, label: str) -> str:
    """The date at its precision, or the source's own wording ("late 2026") when there is
    one. Wording that does not name the date's year keeps the date beside it, so the reader
    still learns when: "18 months after the guidance (2027)"."""
    fuzzy = format_fuzzy(date, precision)
    if not label:
        return fuzzy
    years = {str(date.year), str(period_end(date, precision).year)}
    if any(year in label for year in years):
        return label
    return f"{label} ({fuzzy})"


def milestone_date_display(date: dt.date, precision: str, certainty: str, label: str) -> str:
    """'16 December 2024', or 'Expected: autumn 2026' — never more precise than we know."""
    text = milestone_date_text(date, precision, label)
    if certainty == Certainty.EXPECTED:
        return f"Expected: {text}"
    return text


def date_is_unverified(verification: str) -> bool:
    """No cited source confirms the record: its date must say so wherever it is shown, or
    a day like "30 September 2026" reads as established fact."""
    return verification != Verification.CONFIRMED


def source_date_display(published_on: dt.date | None, precision: str, note: str) -> str:
    """When a source was published, as precisely as known; its date note when undated."""
    if published_on is None:
        return note or "undated"
    return format_fuzzy(published_on, precision)


class Source(Timestamped):
    """A document a claim rests on. Primary: the statute, the regulator or the company itself."""

    key_series = "S"

    Kind = SourceKind
    Origin = SourceOrigin

    key = models.CharField(max_length=20, unique=True, null=True, blank=True)
    title = SingleLineField(max_length=500)
    url = WebURLField(max_length=1000)
    publisher = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="published_sources",
    )
    publisher_name = SingleLineField(
        max_length=200, help_text="The publisher as named on the source, e.g. 'ITV News (PA copy)'."
    )
    published_on = models.DateField(null=True, blank=True)
    published_precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.DAY
    )
    date_note = models.CharField(
        max_length=100,
        blank=True,
        help_text="When the date is missing or qualified, e.g. 'undated (covers to 2025)'.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    origin = models.CharField(
        max_length=10,
        choices=Origin.choices,
        help_text="Primary: the law, the regulator, the government or the company itself. "
        "Secondary: law firms, trade bodies, news, copies.",
    )
    archived_url = WebURLField(max_length=1000, blank=True)
    quote = models.TextField(blank=True, help_text="The words relied on, copied exactly.")
    history = HistoricalRecords()

    objects = SourceQuerySet.as_manager()

    search_fields = SOURCE_SEARCH

    class Meta:
        ordering = ["key", "title"]
        permissions = merge_permissions("source")
        constraints = [
            choices_check("published_precision", Precision),
            choices_check("kind", SourceKind),
            choices_check("origin", SourceOrigin),
            http_url_constraint("url", "source"),
            http_url_constraint("archived_url", "source"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}" if self.key else self.title

    def save(self, *args, **kwargs) -> None:
        if needs_key(self):
            save_with_new_key(self, lambda: super(Source, self).save(*args, **kwargs))
        else:
            super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("regulation:source", args=[self.ref])

    def may_change(self, user) -> bool:
        """A source a published record cites is part of what the public sees: only a user who
        may publish every kind of record citing it (an editor) changes it. No user (None) is a
        system path."""
        if user is None:
            return True
        citing = [m for m in public_models() if m.objects.published().filter(sources=self).exists()]
        return all(model.may_publish(user) for model in citing)

    def delete(self, *args, **kwargs):
        """Refused while a published record cites this source and no other."""
        refuse_leaving_uncited([self.pk])
        return super().delete(*args, **kwargs)

    def natural_key(self) -> tuple[str | None]:
        return (self.key,)

    @property
    def ref(self) -> str:
        """The source in its address: its key (S02), or its number when it has none."""
        return self.key or str(self.pk)

    @property
    def date_display(self) -> str:
        return source_date_display(self.published_on, self.published_precision, self.date_note)


class Topic(Timestamped):
    name = SingleLineField(max_length=100, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("regulation:topic", args=[self.slug])

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class SlugRedirectQuerySet(models.QuerySet):
    def target(self, model: type[models.Model], old_slug: str) -> int | None:
        """The pk of the record that once answered to old_slug, if any did."""
        return (
            self.filter(model=model._meta.label_lower, old_slug=old_slug)
            .values_list("object_pk", flat=True)
            .first()
        )


class SlugRedirect(models.Model):
    """An address a record answered to before its slug changed: links to it keep working."""

    model = models.CharField(max_length=100, help_text="e.g. regulation.milestone")
    old_slug = models.SlugField(max_length=80)
    object_pk = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SlugRedirectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "old_slug"], name="slug_redirect_once"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.old_slug} → {self.object_pk}"


# --- What the law requires -------------------------------------------------------------------


class InstrumentKind(models.TextChoices):
    ACT = "act", "Act of Parliament"
    SECONDARY_LEGISLATION = "secondary_legislation", "Secondary legislation"
    CODE_OF_PRACTICE = "code_of_practice", "Code of practice"
    GUIDANCE = "guidance", "Guidance"
    STATEMENT = "statement", "Statement"
    CONSULTATION = "consultation", "Consultation"


class InstrumentStage(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    DRAFT = "draft", "Draft"
    CONSULTATION = "consultation", "Under consultation"
    # A closed consultation is not "under consultation" any more, nor decided yet.
    AWAITING_DECISION = "awaiting_decision", "Consultation closed, awaiting decision"
    FINAL = "final", "Final"
    LAID = "laid", "Laid before Parliament"
    PARTLY_IN_FORCE = "partly_in_force", "Partly in force"
    IN_FORCE = "in_force", "In force"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn or revoked"


class Instrument(PublicRecord):
    """The Act, a statutory instrument, a code of practice or a piece of guidance."""

    Kind = InstrumentKind
    Stage = InstrumentStage

    title = SingleLineField(max_length=300)
    short_name = SingleLineField(max_length=100, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    issuer = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="instruments"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="made under",
        help_text="The instrument this one is made under, e.g. the Act for a code of practice.",
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    official_url = WebURLField(max_length=1000, blank=True)
    summary = models.TextField(blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="instruments")

    slug_source_field = "short_name"
    search_fields = INSTRUMENT_SEARCH

    url_name = "regulation:instrument"

    class Meta:
        permissions = [*publish_permissions("instrument"), *merge_permissions("instrument")]
        ordering = ["title"]
        constraints = [
            *public_record_checks(),
            choices_check("kind", InstrumentKind),
            choices_check("stage", InstrumentStage),
            http_url_constraint("official_url", "instrument"),
        ]

    def __str__(self) -> str:
        return self.short_name or self.title

    def _unique_slug(self) -> str:
        if not self.short_name:
            self.short_name = self.title[:100]
        return super()._unique_slug()


# The topic the curation tags measures with when they bear on online grooming.
GROOMING_TOPIC = "online-grooming"


class MeasureQuerySet(PublicQuerySet):
    def grooming_relevant(self):
        return self.filter(pk__in=self.filter(topics__slug=GROOMING_TOPIC).values("pk"))

    def for_topic(self, topic: "Topic"):
        return self.filter(topics=topic)


class Measure(PublicRecord):
    """A duty in the Act or a measure in one of Ofcom's codes."""

    key_series = "CM"

    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        help_text="The code or instrument the measure sits in, where one is known.",
    )
    instrument_reference = models.CharField(
        max_length=300,
        blank=True,
        help_text="The code or instrument as the source names it, with its dates.",
    )
    reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="Ofcom's measure id (e.g. ICU F1) or a section of the Act, as cited.",
    )
    title = SingleLineField(max_length=300)
    summary = models.TextField(help_text="What the measure requires.")
    applies_to = models.TextField(blank=True, help_text="Which services must follow it.")
    relevance = models.TextField(blank=True, help_text="Why it matters against online grooming.")
    topics = models.ManyToManyField(Topic, blank=True, related_name="measures")

    objects = MeasureQuerySet.as_manager()

    slug_source_field = "title"
    search_fields = MEASURE_SEARCH

    url_name = "regulation:measure"

    class Meta:
        permissions = [*publish_permissions("measure"), *merge_permissions("measure")]
        ordering = ["key", "title"]
        constraints = public_record_checks()

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}" if self.reference else self.title


# --- When --------------------------------------------------------------------------------------


class MilestoneKind(models.TextChoices):
    LEGISLATIVE_STAGE = "legislative_stage", "Legislative stage"
    PUBLICATION = "publication", "Publication"
    CONSULTATION_OPENS = "consultation_opens", "Consultation opens"
    CONSULTATION_CLOSES = "consultation_closes", "Consultation closes"
    COMPLIANCE_DEADLINE = "compliance_deadline", "Compliance deadline"
    DUTY_IN_FORCE = "duty_in_force", "Duty in force"
    ENFORCEMENT = "enforcement", "Enforcement"
    REVIEW = "review", "Review or legal challenge"
    OTHER = "other", "Other"


class Milestone(PublicRecord):
    """An event or deadline on the timeline, dated only as precisely as we know it."""

    key_series = "M"

    Kind = MilestoneKind

    title = SingleLineField(max_length=500, help_text="What happens, in one sentence.")
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.OTHER)
    phase = models.CharField(
        max_length=100,
        blank=True,
        help_text="The stage of implementation, e.g. 'Phase 1 – illegal harms'.",
    )
    who_must_act = models.CharField(
        max_length=300, blank=True, help_text="Who is responsible, e.g. 'Service providers'."
    )
    date = models.DateField(
        help_text="The first day of the period when the date is a month, season, quarter or year."
    )
    date_precision = models.CharField(
        max_length=10,
        choices=Precision.choices,
        default=Precision.DAY,
        help_text="How precisely the date is known. Never enter a day that no source gives.",
    )
    date_end = models.DateField(editable=False, help_text="Last day of the date's period.")
    certainty = models.CharField(
        max_length=10,
        choices=Certainty.choices,
        default=Certainty.CONFIRMED,
        help_text="Expected: a planned or forecast date that has not been confirmed as happening.",
    )
    date_label = models.CharField(
        max_length=50,
        blank=True,
        help_text="Optional wording for a date no precision fits, e.g. 'mid-2027'.",
    )
    instruments = models.ManyToManyField(Instrument, blank=True, related_name="milestones")
    measures = models.ManyToManyField(Measure, blank=True, related_name="milestones")
    platforms = models.ManyToManyField(
        Platform, blank=True, related_name="milestones", help_text="Platforms the event names."
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="milestones")

    objects = MilestoneQuerySet.as_manager()

    slug_source_field = "title"
    search_fields = MILESTONE_SEARCH

    url_name = "regulation:milestone"

    class Meta:
        permissions = [*publish_permissions("milestone"), *merge_permissions("milestone")]
        ordering = list(CHRONOLOGICAL)
        indexes = [
            models.Index(fields=["status", "date_end"], name="milestone_status_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_end__gte=F("date")), name="milestone_period_ends_after_start"
            ),
            *public_record_checks(),
            choices_check("kind", MilestoneKind),
            choices_check("date_precision", Precision),
            choices_check("certainty", Certainty),
            single_line_constraint("title", "milestone"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}" if self.key else self.title

    def save(self, *args, **kwargs) -> None:
        # Stored as the first day of its period, or due_between() misses a mid-month date.
        self.date = period_start(self.date, self.date_precision)
        self.date_end = period_end(self.date, self.date_precision)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"date", "date_precision"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "date", "date_end"}
        super().save(*args, **kwargs)

    @property
    def date_text(self) -> str:
        return milestone_date_text(self.date, self.date_precision, self.date_label)

    @property
    def date_display(self) -> str:
        return milestone_date_display(
            self.date, self.date_precision, self.certainty, self.date_label
        )

    @property
    def date_is_unverified(self) -> bool:
        return date_is_unverified(self.verification)

    def has_passed_unconfirmed(self, at: dt.datetime | dt.date | None = None) -> bool:
        """An expected date whose whole period is over without being confirmed as happening."""
        last_day = period_end(self.date, self.date_precision)
        return self.certainty == Certainty.EXPECTED and last_day < local_day(at)

    @property
    def is_upcoming(self) -> bool:
        """MilestoneQuerySet.upcoming() for one record, today: its period has not ended."""
        return self.date_end >= local_day()

    @property
    def passed_unconfirmed(self) -> bool:
        """has_passed_unconfirmed() today, for templates (which cannot pass `at`)."""
        return self.has_passed_unconfirmed()

    @property
    def date_iso(self) -> str:
        return iso_fuzzy(self.date, self.date_precision)

    @property
    def slip_history(self) -> str:
        """ "first expected March 2025; moved twice", or "" for a date that never moved. Reads
        the date changes as fetched (prefetch them for a list)."""
        listed = getattr(self, "listed_date_changes", None)
        changes = listed if listed is not None else list(self.date_changes.order_by("created_at"))
        if not changes:
            return ""
        first = changes[0]
        was = "first expected" if first.old_certainty == Certainty.EXPECTED else "first dated"
        times = {1: "once", 2: "twice"}.get(len(changes), f"{len(changes)} times")
        return f"{was} {format_fuzzy(first.old_date, first.old_precision)}; moved {times}"

    def days_until(self, at: dt.datetime | dt.date | None = None) -> int:
        """Days from today to the date; for a month, season, quarter or year, to its last day
        (the latest it can fall), so a countdown never claims a day no source gives."""
        target = self.date if self.date_precision == Precision.DAY else self.date_end
        return (target - local_day(at)).days

    @property
    def is_day_exact(self) -> bool:
        """Only a confirmed date known to the day, on a record a cited source confirms, may
        trigger day-exact reminders: an unverified day (M59's, before the November 2026
        update) may come only from notes nobody can cite."""
        return (
            self.date_precision == Precision.DAY
            and self.certainty == Certainty.CONFIRMED
            and self.verification == Verification.CONFIRMED
        )

    def move_to(
        self,
        new_date: dt.date,
        *,
        precision: str | None = None,
        certainty: str | None = None,
        reason: str,
        source: "Source | None" = None,
        announced_on: dt.date | None = None,
        by=None,
    ) -> "DateChange":
        """Change the milestone's date, keeping the old one as a DateChange record.

        A "change" that leaves the date, its precision and its certainty as they were is
        refused: the history of a date must only show real moves.
        """
        self.check_may_change(by)
        with transaction.atomic():
            # Start from the date as stored now, not as this editor loaded it: a move saved
            # meanwhile by someone else is the old date of this one (or makes it no move).
            current = self.locked()
            self.date, self.date_precision, self.certainty = (
                current.date,
                current.date_precision,
                current.certainty,
            )
            precision = precision or self.date_precision
            certainty = certainty or self.certainty
            new_date = period_start(new_date, precision)
            old = (self.date, self.date_precision, self.certainty)
            if (new_date, precision, certainty) == old:
                raise ValidationError(DATE_NOT_MOVED)
            change = DateChange(
                milestone=self,
                old_date=old[0],
                old_precision=old[1],
                old_certainty=old[2],
                new_date=new_date,
                new_precision=precision,
                new_certainty=certainty,
                announced_on=announced_on,
                reason=reason,
                source=source,
                created_by=by,
            )
            save_as(change, by)
            self.date, self.date_precision, self.certainty = new_date, precision, certainty
            # The history of the milestone says why its date moved, not "Change reason: None".
            with change_reason(self, reason):
                save_as(self, by)
            signals.milestone_moved.send(sender=Milestone, milestone=self, change=change, by=by)
        return change

    def as_of(self, day: dt.date) -> Self:
        """The milestone as the world knew it on day (unsaved): the date, precision and
        certainty it had before the first move announced after day, and only the moves
        announced by then. Reads self.date_changes.all(), so prefetch them for a list."""
        changes = sorted(self.date_changes.all(), key=lambda c: (c.announced_day, c.created_at))
        known = [c for c in changes if c.announced_day <= day]
        later = changes[len(known) :]
        then = copy(self)
        if later:
            first = later[0]
            then.date, then.date_precision, then.certainty = (
                first.old_date,
                first.old_precision,
                first.old_certainty,
            )
            then.date_end = period_end(first.old_date, first.old_precision)
        then.known_date_changes = known
        return then


class DateChange(Timestamped):
    """One move of a milestone's date, so the site can show slippage honestly."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="date_changes")
    old_date = models.DateField()
    old_precision = models.CharField(max_length=10, choices=Precision.choices)
    old_certainty = models.CharField(max_length=10, choices=Certainty.choices)
    new_date = models.DateField()
    new_precision = models.CharField(max_length=10, choices=Precision.choices)
    new_certainty = models.CharField(max_length=10, choices=Certainty.choices)
    announced_on = models.DateField(
        null=True, blank=True, help_text="When the change was announced, if known."
    )
    reason = models.TextField(help_text="Why the date moved, as the source explains it.")
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, blank=True, related_name="date_changes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = DateChangeQuerySet.as_manager()

    class Meta:
        ordering = ["milestone", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(
                    old_date=F("new_date"),
                    old_precision=F("new_precision"),
                    old_certainty=F("new_certainty"),
                ),
                name="date_change_moves_the_date",
                violation_error_message=DATE_NOT_MOVED,
            ),
            choices_check("old_precision", Precision),
            choices_check("old_certainty", Certainty),
            choices_check("new_precision", Precision),
            choices_check("new_certainty", Certainty),
        ]

    def __str__(self) -> str:
        return (
            f"{format_fuzzy(self.old_date, self.old_precision)} → "
            f"{format_fuzzy(self.new_date, self.new_precision)}"
        )

    @property
    def announced_day(self) -> dt.date:
        """When the move became known: its announcement, or failing that its recording."""
        return self.announced_on or local_day(self.created_at)


# --- What platforms promised -----------------------------------------------------------------


class DeliveryStatus(models.TextChoices):
    ANNOUNCED = "announced", "Announced"
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"
    PARTIALLY_DELIVERED = "partially_delivered", "Partially delivered"
    NOT_DELIVERED = "not_delivered", "Not delivered"
    WITHDRAWN = "withdrawn", "Withdrawn"
    UNVERIFIED = "unverified", "Unverified"


# A platform's scorecard: its commitments in five groups. Overdue (open past its due date) wins
# over the status; partly delivered counts as delivered and its own label says "partially".
OVERDUE = "Overdue"
SCORECARD = ("Delivered", "In progress", OVERDUE, "Not delivered", "Unverified")
SCORECARD_GROUP = {
    DeliveryStatus.DELIVERED: "Delivered",
    DeliveryStatus.PARTIALLY_DELIVERED: "Delivered",
    DeliveryStatus.ANNOUNCED: "In progress",
    DeliveryStatus.IN_PROGRESS: "In progress",
    DeliveryStatus.NOT_DELIVERED: "Not delivered",
    DeliveryStatus.WITHDRAWN: "Not delivered",
    DeliveryStatus.UNVERIFIED: "Unverified",
}


class Commitment(PublicRecord):
    """What a platform, or its owner, said it will do or has done."""

    key_series = "PC"

    OPEN_STATUSES = (
        DeliveryStatus.ANNOUNCED,
        DeliveryStatus.IN_PROGRESS,
        DeliveryStatus.UNVERIFIED,
    )

    summary = models.TextField(help_text="What was promised or announced, in plain words.")
    quote = models.TextField(blank=True, help_text="The platform's own words, copied exactly.")
    platforms = models.ManyToManyField(Platform, related_name="commitments")
    platform_label = models.CharField(
        max_length=200, blank=True, help_text="The platforms as the source names them."
    )
    made_by_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments",
        verbose_name="made by (organisation)",
    )
    made_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who said it: a spokesperson or an executive, if named.",
    )
    made_on = models.DateField(
        help_text="When it was announced (first day of the month or year if not known to the day)."
    )
    made_on_precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.DAY
    )
    due_on = models.DateField(
        null=True, blank=True, help_text="When it should be delivered, if said."
    )
    due_precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.DAY
    )
    due_end = models.DateField(null=True, blank=True, editable=False)
    review_on = models.DateField(
        null=True, blank=True, help_text="When staff should next check whether it was delivered."
    )
    delivery_status = models.CharField(
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.ANNOUNCED,
        help_text="Change it by adding a status update with its evidence.",
    )
    measures = models.ManyToManyField(Measure, blank=True, related_name="commitments")
    milestones = models.ManyToManyField(Milestone, blank=True, related_name="commitments")
    topics = models.ManyToManyField(Topic, blank=True, related_name="commitments")

    objects = CommitmentQuerySet.as_manager()

    slug_source_field = "summary"
    search_fields = COMMITMENT_SEARCH

    url_name = "regulation:commitment"

    class Meta:
        permissions = [*publish_permissions("commitment"), *merge_permissions("commitment")]
        ordering = ["-made_on", "key"]
        indexes = [
            # A list's first page in its default order reads 50 rows, not every commitment.
            models.Index(fields=["status", "-made_on", "key"], name="commitment_status_made"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(due_end__gte=F("due_on")),
                name="commitment_due_period_ends_after_start",
            ),
            *public_record_checks(),
            choices_check("made_on_precision", Precision),
            choices_check("due_precision", Precision),
            choices_check("delivery_status", DeliveryStatus),
        ]

    def __str__(self) -> str:
        label = self.summary if len(self.summary) <= 80 else self.summary[:79] + "…"
        return f"{self.key}: {label}" if self.key else label

    def save(self, *args, **kwargs) -> None:
        self.due_end = period_end(self.due_on, self.due_precision) if self.due_on else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"due_on", "due_precision"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "due_end"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            # Keep the updates' copy of this date current, so the database's check that no
            # update predates the commitment stays true (it refuses the save otherwise).
            self.updates.exclude(commitment_made_on=self.made_on).update(
                commitment_made_on=self.made_on
            )

    def clean(self) -> None:
        if self.pk and self.made_on:
            earliest = self.updates.order_by("on").values_list("on", flat=True).first()
            if earliest and earliest < self.made_on:
                raise ValidationError(
                    {"made_on": f"A status update is dated {earliest:%d %B %Y}, before this date."}
                )

    @property
    def made_on_display(self) -> str:
        return format_fuzzy(self.made_on, self.made_on_precision)

    @property
    def due_display(self) -> str:
        return format_fuzzy(self.due_on, self.due_precision) if self.due_on else ""

    def is_overdue(self, at: dt.datetime | dt.date | None = None) -> bool:
        """Still open after its due date's whole period is over (as overdue() selects)."""
        return (
            self.delivery_status in self.OPEN_STATUSES
            and self.due_end is not None
            and self.due_end < local_day(at)
        )

    def scorecard_group(self, at: dt.datetime | dt.date | None = None) -> str:
        """Where the commitment stands on its platform's scorecard."""
        if self.is_overdue(at):
            return OVERDUE
        return SCORECARD_GROUP[self.delivery_status]

    def record_update(
        self,
        *,
        on: dt.date,
        delivery_status: str,
        note: str = "",
        evidence: Source | None = None,
        on_precision: str = Precision.DAY,
        by=None,
    ) -> "CommitmentUpdate":
        """Record news about the commitment; the latest update by date sets its status.

        `on` may be known only to a month or a year (`on_precision`); it is kept as the period's
        first day and shown no more precisely than that.
        """
        self.check_may_change(by)
        with transaction.atomic():
            # Updates recorded at once take turns, so the last to finish sees all of them.
            self.locked()
            update = CommitmentUpdate(
                commitment=self,
                on=period_start(on, on_precision),
                on_precision=on_precision,
                delivery_status=delivery_status,
                note=note,
                evidence=evidence,
                created_by=by,
            )
            update.full_clean()
            with change_reason(update, update.reason):
                save_as(update, by)
            changed_by = self.refresh_delivery_status(by=by)
            if changed_by is not None and changed_by.pk == update.pk:
                update.previous_status = changed_by.previous_status
        return update

    def as_of(self, day: dt.date, first_status: str | None = None) -> Self:
        """The commitment as the world knew it on day (unsaved): the status of its latest
        update dated by then, or before any, first_status (the status it was recorded with);
        and only those updates. Reads self.updates.all(), so prefetch them for a list."""
        updates = sorted(self.updates.all(), key=lambda u: (u.on, u.created_at))
        known = [u for u in updates if u.on <= day]
        then = copy(self)
        if known:
            then.delivery_status = known[-1].delivery_status
        elif updates and first_status:
            then.delivery_status = first_status
        then.known_updates = known
        return then

    def refresh_delivery_status(self, by=None) -> "CommitmentUpdate | None":
        """Follow the latest update by date. Without updates the status stays as it was. The
        history's change reason is the latest update's note (or its evidence). Returns the
        update that changed the status, if one did."""
        with transaction.atomic():
            self.delivery_status = self.locked().delivery_status
            latest = self.updates.order_by("-on", "-created_at").first()
            if latest and latest.delivery_status != self.delivery_status:
                # The update keeps the status it replaced: what a status-change notice tells
                # (old -> new). An update that set no status (an earlier date recorded later)
                # keeps none.
                old_status = self.delivery_status
                CommitmentUpdate.objects.filter(pk=latest.pk).update(previous_status=old_status)
                latest.previous_status = old_status
                self.delivery_status = latest.delivery_status
                with change_reason(self, latest.reason):
                    save_as(self, by, update_fields=["delivery_status", "updated_at"])
                signals.commitment_status_changed.send(
                    sender=Commitment, commitment=self, old_status=old_status, update=latest, by=by
                )
                return latest
        return None


class CommitmentUpdate(Timestamped):
    """News about a commitment: delivered, slipped, withdrawn — with the evidence."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="updates")
    # A copy of the commitment's date so the database itself can refuse an update dated
    # before the commitment was made (a check constraint cannot look across a foreign key).
    commitment_made_on = models.DateField(editable=False)
    on = models.DateField(
        verbose_name="date",
        help_text="When this happened or was reported (the first day of the month or year if "
        "it is not known to the day).",
    )
    on_precision = models.CharField(
        max_length=10,
        choices=Precision.choices,
        default=Precision.DAY,
        verbose_name="date precision",
        help_text="How precisely the date is known. Never enter a day that no source gives.",
    )
    delivery_status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, verbose_name="new status"
    )
    note = models.TextField(blank=True)
    evidence = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitment_updates",
        help_text="The source that shows it.",
    )
    previous_status = models.CharField(
        max_length=20,
        choices=DeliveryStatus.choices,
        blank=True,
        editable=False,
        help_text="The commitment's status just before this update set it; blank when the "
        "update set no status (an earlier date recorded later, or the same status again).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Bookkeeping of the status change, set by the commitment (refresh_delivery_status()).
    history = HistoricalRecords(excluded_fields=["previous_status"])

    objects = CommitmentUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["commitment", "on", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(on__gte=F("commitment_made_on")),
                name="commitment_update_not_before_commitment",
                violation_error_message=(
                    "A status update cannot be dated before the commitment was made."
                ),
            ),
            choices_check("delivery_status", DeliveryStatus),
            choices_check("on_precision", Precision),
            choices_check("previous_status", DeliveryStatus, blank=True),
            models.CheckConstraint(
                condition=~Q(previous_status=F("delivery_status")),
                name="commitment_update_changes_the_status",
                violation_error_message="The status an update replaced differs from its own.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on_display}: {self.get_delivery_status_display()}"

    def save(self, *args, **kwargs) -> None:
        self.commitment_made_on = self.commitment.made_on
        self.on = period_start(self.on, self.on_precision)
        super().save(*args, **kwargs)

    @property
    def on_display(self) -> str:
        return format_fuzzy(self.on, self.on_precision)

    @property
    def reason(self) -> str:
        """Why the status changed, for the history: the note, else the evidence."""
        if self.note.strip():
            return self.note.strip()
        if self.evidence_id:
            return f"Evidence: {self.evidence}"
        return f"Status update: {self.get_delivery_status_display()}"

    def clean(self) -> None:
        try:
            made_on = self.commitment.made_on
        except Commitment.DoesNotExist:
            return  # the form reports the missing commitment
        if made_on is None or self.on is None:
            return  # the missing date is reported by its own field
        self.commitment_made_on = made_on
        if self.on < made_on:
            raise ValidationError(
                {"on": "A status update cannot be dated before the commitment was made."}
            )


# --- Statistics --------------------------------------------------------------------------------


class Unit(models.TextChoices):
    COUNT = "count", "Count"
    PERCENT = "percent", "Percentage (0–100)"
    PERCENT_CHANGE = "percent_change", "Percentage change"
    MONEY_GBP = "gbp", "Pounds sterling"
    TEXT = "text", "Described in words"


class Indicator(PublicRecord):
    """A statistic tracked over time, e.g. police-recorded grooming offences."""

    name = SingleLineField(max_length=300)
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    publisher = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="indicators"
    )
    publisher_name = models.CharField(max_length=200, blank=True)
    method_note = models.TextField(
        blank=True, help_text="How the figures are collected and what they cover."
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="indicators")

    class Meta:
        permissions = [*publish_permissions("indicator"), *merge_permissions("indicator")]
        ordering = ["name"]
        constraints = [*public_record_checks(), choices_check("unit", Unit)]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        # Figures live on the statistics page (built beside this site), each indicator in its
        # own section.
        return f"/statistics/#{self.slug}"


class Observation(PublicRecord):
    """One figure for a period, with its source. Figures that sources disagree on are both kept."""

    key_series = "ST"

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="observations")
    metric = models.CharField(max_length=300, help_text="What exactly was counted, as published.")
    value_text = models.CharField(
        max_length=200, help_text="The figure exactly as published, e.g. '7,062' or '48%'."
    )
    value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The figure as a number, where it is a single number (for charts).",
    )
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    period_label = models.CharField(
        max_length=100, help_text="e.g. '2023/24' (police financial year)."
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    coverage = models.CharField(max_length=300, blank=True, help_text="e.g. '45 UK police forces'.")
    publisher_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who published this figure, where it is not the indicator's publisher "
        "(e.g. a news agency's copy). Blank: the indicator's publisher.",
    )
    platforms = models.ManyToManyField(
        Platform, blank=True, related_name="observations", help_text="For per-platform shares."
    )
    conflicts_with = models.ManyToManyField(
        "self",
        blank=True,
        symmetrical=True,
        help_text="Other published values for the same figure that disagree with this one.",
    )

    objects = ObservationQuerySet.as_manager()

    slug_source_field = "metric"

    class Meta:
        permissions = publish_permissions("observation")
        ordering = ["indicator", "period_start", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="observation_period_ends_after_start",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(unit=Unit.PERCENT)
                | Q(value__isnull=True)
                | Q(value__gte=Decimal(0), value__lte=Decimal(100)),
                name="observation_percentage_within_0_100",
                violation_error_message="A percentage must lie between 0 and 100.",
            ),
            *public_record_checks(),
            choices_check("unit", Unit),
        ]

    def __str__(self) -> str:
        return f"{self.metric} ({self.period_label}): {self.value_text}"

    def get_absolute_url(self) -> str:
        return f"/statistics/#{self.slug}"

    @property
    def is_conflicted(self) -> bool:
        return self.conflicts_with.exists()

    @property
    def publisher_display(self) -> str:
        """Who published the figure: its own publisher where it differs from the indicator's."""
        return self.publisher_name or self.indicator.publisher_name


# --- Fact releases: what the seed loaded, and what it could not -------------------------------


class FactRelease(models.Model):
    """A release of facts applied by the seed command, once, like a migration."""

    name = models.CharField(max_length=100, unique=True)
    facts_file = models.CharField(max_length=200)
    curation_file = models.CharField(max_length=200)
    applied_at = models.DateTimeField(default=timezone.now)
    applied_by = models.CharField(
        max_length=200, help_text="Who or what applied it, e.g. 'manage.py load_seed'."
    )
    counts = models.JSONField(
        default=dict, blank=True, help_text="What the release created, kept and corrected."
    )

    class Meta:
        ordering = ["applied_at", "pk"]

    def __str__(self) -> str:
        return self.name


class SeededRecord(models.Model):
    """The seed's memory of one record a release created (or adopted): which object it is and
    the values the releases last wrote to it. The seed matches records by this memory, never
    again by a key or slug staff may change, and compares a field's current value with the
    value remembered here to tell a staff edit from its own."""

    release = models.ForeignKey(FactRelease, on_delete=models.PROTECT, related_name="records")
    model = models.CharField(max_length=100, help_text="e.g. regulation.milestone")
    fact_id = models.CharField(
        max_length=100, help_text="The id in the facts (M21) or the curation's slug (snapchat)."
    )
    object_pk = models.BigIntegerField()
    values = models.JSONField(default=dict, help_text="Field values the releases last set.")
    adopted = models.BooleanField(
        default=False, help_text="Found already loaded (by its key) when releases were introduced."
    )

    class Meta:
        ordering = ["model", "fact_id"]
        constraints = [
            models.UniqueConstraint(fields=["model", "fact_id"], name="seeded_record_once"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.fact_id}"


class SeedConflictQuerySet(models.QuerySet):
    def unresolved(self):
        return self.filter(resolved_at__isnull=True)


class SeedConflict(models.Model):
    """A correction a release could not apply because staff had changed the field since a
    release last set it: staff edits win, and an editor decides by hand."""

    release = models.ForeignKey(FactRelease, on_delete=models.PROTECT, related_name="conflicts")
    model = models.CharField(max_length=100)
    fact_id = models.CharField(max_length=100, verbose_name="record")
    object_pk = models.BigIntegerField(null=True, blank=True)
    field = models.CharField(max_length=50, help_text="The field as the facts name it.")
    staff_value = models.TextField(blank=True)
    release_value = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="The correction's evidence and sources.")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SeedConflictQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "fact_id", "field"]

    def __str__(self) -> str:
        return f"{self.fact_id} {self.field} ({self.release})"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    def mark_resolved(self, by=None, at: dt.datetime | None = None) -> None:
        self.resolved_at = at or timezone.now()
        self.resolved_by = by
        self.save(update_fields=["resolved_at", "resolved_by"])
