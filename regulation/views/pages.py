"""The public site's pages. Every list comes from a queryset method in regulation.models; these
views only choose which, and fetch what a page shows in a fixed number of queries."""

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst

from regulation.conditional import conditional_on
from regulation.dates import Precision, format_fuzzy
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    FactRelease,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    PublicRecord,
    SlugRedirect,
    Source,
    Topic,
    data_last_updated,
    local_day,
    public_models,
)
from regulation.views.forms import TimelineFilter

# The home page's key statistic, by the facts' own ids: the NSPCC's count of grooming offences
# and its change since the offence came in.
KEY_STATISTIC = "ST01"
KEY_STATISTIC_CHANGE = "ST02"
HOME_UPCOMING = 12
HOME_LATEST = 8
HOME_RECENT = 5


class Moved(Exception):
    """The record answers at another address now."""

    def __init__(self, url: str) -> None:
        self.url = url


# Every page reads the knowledge and the day (what is upcoming, countdowns, "today"): a reader who
# has the current version gets a 304 without the page being built.
public_page = conditional_on(
    Organisation,
    Platform,
    Source,
    Topic,
    Instrument,
    Measure,
    Milestone,
    DateChange,
    Commitment,
    CommitmentUpdate,
    Indicator,
    Observation,
    daily=True,
)


def follows_old_slugs(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Moved as moved:
            return HttpResponsePermanentRedirect(moved.url)

    return wrapper


def published_or_moved(queryset: QuerySet, slug: str) -> PublicRecord:
    """The published record with this slug; else, if a published record once had it, Moved to
    its address now; else 404."""
    record = queryset.filter(slug=slug).first()
    if record is not None:
        return record
    pk = SlugRedirect.objects.target(queryset.model, slug)
    moved = queryset.model.objects.published().filter(pk=pk).first() if pk else None
    if moved is None:
        raise Http404("No such page.")
    raise Moved(moved.get_absolute_url())


def published(model: type[PublicRecord], lookup: str = "") -> Prefetch:
    """A prefetch of a relation that keeps only its published records."""
    related = model.objects.published()
    return Prefetch(lookup, queryset=related)


# --- Home --------------------------------------------------------------------------------------


@public_page
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    milestones = Milestone.objects.published()
    figures = (
        Observation.objects.published()
        .filter(key__in=[KEY_STATISTIC, KEY_STATISTIC_CHANGE])
        .select_related("indicator")
        .prefetch_related("sources")
        .in_bulk(field_name="key")
    )
    key_figure = figures.get(KEY_STATISTIC)
    latest_figure = None
    if key_figure is not None:
        latest_figure = (
            Observation.objects.published()
            .filter(indicator=key_figure.indicator)
            .latest_first()
            .prefetch_related("sources")
            .first()
        )
    context = {
        "today": local_day(now),
        "next_deadline": milestones.compliance_deadlines().upcoming(at=now).first(),
        "upcoming": milestones.upcoming(at=now).for_listing()[:HOME_UPCOMING],
        "latest": milestones.past(at=now).for_listing()[:HOME_LATEST],
        "new_milestones": milestones.recently_added().for_listing()[:HOME_RECENT],
        "new_commitments": Commitment.objects.published()
        .recently_added()
        .for_listing()[:HOME_RECENT],
        "date_changes": DateChange.objects.public()
        .most_recent_first()
        .select_related("milestone")[:HOME_RECENT],
        "status_updates": CommitmentUpdate.objects.public()
        .most_recent_first()
        .select_related("commitment")[:HOME_RECENT],
        "key_figure": key_figure,
        "key_change": figures.get(KEY_STATISTIC_CHANGE),
        "latest_figure": latest_figure,
        "commitment_counts": Commitment.objects.published().count_by_status(),
    }
    if context["next_deadline"] is not None:
        context["days_to_deadline"] = context["next_deadline"].days_until(at=now)
    return render(request, "regulation/home.html", context)


# --- Timeline ----------------------------------------------------------------------------------


@dataclass
class Month:
    heading: str
    milestones: list[Milestone] = field(default_factory=list)
    today_before: bool = False  # the "today" marker goes before this month


@dataclass
class Year:
    year: int
    months: list[Month] = field(default_factory=list)
    today_before: bool = False


def month_heading(milestone: Milestone) -> str:
    """The month a milestone is listed under; a date known less precisely than a month is
    listed at the end of its period, under the period itself."""
    if milestone.date_precision in (Precision.DAY, Precision.MONTH):
        return date_format(milestone.date_end, "F Y")
    return f"{capfirst(format_fuzzy(milestone.date, milestone.date_precision))}, month not known"


def group_by_year_and_month(milestones: list[Milestone], today: dt.date) -> list[Year]:
    """Milestones (in timeline order) under their year and month, with the "today" marker
    placed before the first one that has not yet passed (on the item, its month or its year)."""
    years: list[Year] = []
    marked = False
    headings: dict[tuple, str] = {}  # formatting a month costs more than the rest of a row
    for milestone in milestones:
        upcoming = not marked and milestone.date_end >= today
        key = (milestone.date_end, milestone.date_precision, milestone.date)
        heading = headings.get(key) or headings.setdefault(key, month_heading(milestone))
        if not years or years[-1].year != milestone.date_end.year:
            years.append(Year(milestone.date_end.year, today_before=upcoming))
            marked = marked or upcoming
        months = years[-1].months
        if not months or months[-1].heading != heading:
            months.append(Month(heading, today_before=upcoming and not marked))
            marked = marked or upcoming
        # Set on every row: a template looking up a missing attribute costs an exception.
        milestone.today_before = upcoming and not marked
        marked = marked or upcoming
        months[-1].milestones.append(milestone)
    return years


@public_page
def timeline(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = local_day(now)
    form = TimelineFilter(request.GET or None)
    ignored = form.ignored
    milestones = list(form.filter(Milestone.objects.published(), at=now).for_listing())
    context = {
        "form": form,
        "ignored": ignored,
        "today": today,
        "years": group_by_year_and_month(milestones, today),
        "any_upcoming": any(m.date_end >= today for m in milestones),
        "count": len(milestones),
        "filtered": bool(request.GET),
    }
    return render(request, "regulation/timeline.html", context)


# --- Detail pages ------------------------------------------------------------------------------


@follows_old_slugs
@public_page
def milestone_detail(request: HttpRequest, slug: str) -> HttpResponse:
    milestone = published_or_moved(
        Milestone.objects.published().prefetch_related(
            "sources",
            "topics",
            published(Instrument, "instruments"),
            published(Measure, "measures"),
            published(Platform, "platforms"),
            Prefetch(
                "commitments",
                queryset=Commitment.objects.published().for_listing(),
            ),
            Prefetch(
                "date_changes",
                queryset=DateChange.objects.order_by("created_at", "pk").select_related("source"),
                to_attr="listed_date_changes",
            ),
        ),
        slug,
    )
    return render(request, "regulation/milestone_detail.html", {"milestone": milestone})


@follows_old_slugs
@public_page
def instrument_detail(request: HttpRequest, slug: str) -> HttpResponse:
    instrument = published_or_moved(
        Instrument.objects.published()
        .select_related("issuer", "parent")
        .prefetch_related(
            "sources",
            "topics",
            published(Instrument, "children"),
            published(Measure, "measures"),
            Prefetch("milestones", queryset=Milestone.objects.published().for_listing()),
        ),
        slug,
    )
    return render(request, "regulation/instrument_detail.html", {"instrument": instrument})


@follows_old_slugs
@public_page
def measure_detail(request: HttpRequest, slug: str) -> HttpResponse:
    measure = published_or_moved(
        Measure.objects.published()
        .select_related("instrument")
        .prefetch_related(
            "sources",
            "topics",
            Prefetch(
                "commitments",
                queryset=Commitment.objects.published().for_listing(),
            ),
            Prefetch("milestones", queryset=Milestone.objects.published().for_listing()),
        ),
        slug,
    )
    return render(request, "regulation/measure_detail.html", {"measure": measure})


@follows_old_slugs
@public_page
def platform_detail(request: HttpRequest, slug: str) -> HttpResponse:
    now = timezone.now()
    platform = published_or_moved(
        Platform.objects.published().select_related("owner").prefetch_related("sources"), slug
    )
    commitments = Commitment.objects.published().for_platform(platform).for_listing()
    measures = (
        Measure.objects.published()
        .grooming_relevant()
        .select_related("instrument")
        .prefetch_related(
            Prefetch(
                "commitments",
                queryset=Commitment.objects.published().for_platform(platform),
                to_attr="platform_commitments",
            )
        )
    )
    context = {
        "platform": platform,
        "scorecard": commitments.scorecard(at=now),
        "commitments": commitments,
        "observations": Observation.objects.published()
        .filter(platforms=platform)
        .select_related("indicator"),
        "milestones": Milestone.objects.published().for_platform(platform).for_listing(),
        "measures": measures,
    }
    return render(request, "regulation/platform_detail.html", context)


@follows_old_slugs
@public_page
def commitment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    commitment = published_or_moved(
        Commitment.objects.published()
        .select_related("made_by_organisation")
        .prefetch_related(
            "sources",
            "topics",
            published(Platform, "platforms"),
            published(Measure, "measures"),
            Prefetch("milestones", queryset=Milestone.objects.published().for_listing()),
            Prefetch(
                "updates",
                queryset=CommitmentUpdate.objects.order_by("on", "created_at").select_related(
                    "evidence"
                ),
            ),
        ),
        slug,
    )
    return render(request, "regulation/commitment_detail.html", {"commitment": commitment})


@follows_old_slugs
@public_page
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = published_or_moved(
        Organisation.objects.published().prefetch_related(
            "sources",
            published(Platform, "platforms"),
            published(Instrument, "instruments"),
            Prefetch("commitments", queryset=Commitment.objects.published().for_listing()),
            published(Indicator, "indicators"),
        ),
        slug,
    )
    context = {
        "organisation": organisation,
        "published_sources": Source.objects.public().filter(publisher=organisation),
    }
    return render(request, "regulation/organisation_detail.html", context)


@follows_old_slugs
@public_page
def source_detail(request: HttpRequest, ref: str) -> HttpResponse:
    lookup = Q(key=ref) | Q(key__isnull=True, pk=int(ref)) if ref.isdigit() else Q(key=ref)
    source = Source.objects.public().filter(lookup).select_related("publisher").first()
    if source is None:
        # A source merged into another answers at the kept one's address.
        pk = SlugRedirect.objects.target(Source, ref)
        moved = Source.objects.public().filter(pk=pk).first() if pk else None
        if moved is None:
            raise Http404("No such source.")
        raise Moved(moved.get_absolute_url())
    citing = [
        (model._meta.verbose_name_plural, model.objects.published().filter(sources=source))
        for model in public_models()
    ]
    context = {
        "source": source,
        "citing": [(label, list(records)) for label, records in citing],
        "date_changes": DateChange.objects.public()
        .filter(source=source)
        .select_related("milestone"),
        "status_updates": CommitmentUpdate.objects.public()
        .filter(evidence=source)
        .select_related("commitment"),
    }
    return render(request, "regulation/source_detail.html", context)


@public_page
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        raise Http404("No such topic.")
    context = {
        "topic": topic,
        "milestones": Milestone.objects.published().for_topic(topic).for_listing(),
        "instruments": Instrument.objects.published().filter(topics=topic),
        "measures": Measure.objects.published().for_topic(topic),
        "commitments": Commitment.objects.published().filter(topics=topic).for_listing(),
    }
    return render(request, "regulation/topic_detail.html", context)


# --- Lists -------------------------------------------------------------------------------------


@public_page
def instrument_list(request: HttpRequest) -> HttpResponse:
    instruments = Instrument.objects.published().select_related("issuer")
    return render(request, "regulation/instrument_list.html", {"instruments": instruments})


@public_page
def platform_list(request: HttpRequest) -> HttpResponse:
    platforms = Platform.objects.published().with_commitment_counts().select_related("owner")
    return render(request, "regulation/platform_list.html", {"platforms": platforms})


@public_page
def commitment_list(request: HttpRequest) -> HttpResponse:
    commitments = Commitment.objects.published().for_listing()
    context = {
        "commitments": commitments,
        "counts": Commitment.objects.published().count_by_status(),
    }
    return render(request, "regulation/commitment_list.html", context)


@public_page
def organisation_list(request: HttpRequest) -> HttpResponse:
    organisations = Organisation.objects.published()
    return render(request, "regulation/organisation_list.html", {"organisations": organisations})


@public_page
def source_list(request: HttpRequest) -> HttpResponse:
    sources = Source.objects.public()
    return render(request, "regulation/source_list.html", {"sources": sources})


@public_page
def topic_list(request: HttpRequest) -> HttpResponse:
    return render(request, "regulation/topic_list.html", {"topics": Topic.objects.all()})


# --- About -------------------------------------------------------------------------------------


@public_page
def about(request: HttpRequest) -> HttpResponse:
    context = {
        "releases": FactRelease.objects.order_by("-applied_at", "-pk"),
        "last_updated": data_last_updated(),
        # Reports go to the address the tracker's own e-mails come from.
        "report_address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
    }
    return render(request, "regulation/about.html", context)
