"""The feeds: an iCalendar feed of the timeline (whole, or for one platform, instrument or
topic) and an Atom feed of what changed. Both answer conditional requests with 304.

How the calendar shows dates that are not known to the day (also said in X-WR-CALDESC):
a month, season, quarter or year is an all-day event spanning the whole period, its summary
carries the date as the site writes it ("Expected: autumn 2026"), and it is marked free, so a
calendar never shows a day no source gives as if it were the date. Only a date known to the
day carries a reminder alarm (the day before): an alarm at the start of a year-long span would
announce a date nobody knows.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import icalendar
from django.contrib.syndication.views import Feed
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import feedgenerator
from django.views.decorators.http import require_safe

from regulation.conditional import conditional_on
from regulation.dates import Certainty, Precision
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    PublicRecord,
    Source,
    Topic,
)
from regulation.search import public_url
from regulation.templatetags.regulation_text import render_markdown

CALENDAR_NAME = "Online Safety Act tracker"
CALENDAR_DESCRIPTION = (
    "Dates of the UK Online Safety Act and Ofcom's codes, from the Online Safety Act tracker. "
    "A date known to the day is an all-day event on that day, with a reminder the day before. "
    "A date known only to the month, season, quarter or year is an all-day event spanning the "
    "whole period, marked free, with the date as known in its title (for example "
    "'Expected: autumn 2026') and no reminder. Expected dates are tentative."
)
PRODID = "-//Online Safety Act tracker//Timeline//EN"
UID_DOMAIN = "osa-tracker"
# The reminder: 09:00 the day before an all-day event.
ALARM_BEFORE = dt.timedelta(hours=-15)
CALENDAR_FILTERS = {
    "platform": (Platform.objects.published, Milestone.objects.for_platform),
    "instrument": (Instrument.objects.published, Milestone.objects.for_instrument),
    "topic": (Topic.objects.all, Milestone.objects.for_topic),
}


def milestone_uid(milestone: Milestone) -> str:
    """The same for a milestone in every request and every filtered feed, so a calendar
    updates the event rather than adding a copy: its seed key, or its primary key."""
    return f"{milestone.key or f'milestone-{milestone.pk}'}@{UID_DOMAIN}"


def calendar_milestones(params) -> tuple[QuerySet, list[str]]:
    """Published milestones, narrowed by each filter given (a slug); 404 for an unknown slug.
    Also what the filters chose, for the calendar's name."""
    milestones = Milestone.objects.published()
    chosen = []
    for name, (candidates, narrow) in CALENDAR_FILTERS.items():
        slug = params.get(name)
        if slug:
            record = get_object_or_404(candidates(), slug=slug)
            milestones = milestones.filter(pk__in=narrow(record).values("pk"))
            chosen.append(str(record))
    return (
        milestones.annotate(moves=Count("date_changes"))
        .prefetch_related(Prefetch("sources", queryset=Source.objects.order_by("key", "title")))
        .order_by("date_end", "-date", "key"),
        chosen,
    )


def event_description(milestone: Milestone) -> str:
    lines = [milestone.description] if milestone.description else []
    lines.append(f"Date: {milestone.date_display}")
    if milestone.date_is_unverified:
        lines.append("No cited source confirms this record yet.")
    lines.append("Sources:")
    lines += [
        f"- {source.title} ({source.publisher_name}): {source.url}"
        for source in milestone.sources.all()
    ]
    return "\n".join(lines)


def event_summary(milestone: Milestone) -> str:
    if milestone.date_precision == Precision.DAY and milestone.certainty == Certainty.CONFIRMED:
        return milestone.title
    return f"{milestone.title} ({milestone.date_display})"


def calendar_event(milestone: Milestone, url: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", milestone_uid(milestone))
    event.add("dtstamp", milestone.updated_at)
    event.add("last-modified", milestone.updated_at)
    event.add("sequence", milestone.moves)  # each move of the date is a new revision
    event.add("summary", event_summary(milestone))
    event.add("dtstart", milestone.date)
    event.add("dtend", milestone.date_end + dt.timedelta(days=1))  # exclusive, RFC 5545
    event.add("url", url)
    event.add("description", event_description(milestone))
    event.add("categories", [milestone.get_kind_display()])
    tentative = milestone.certainty == Certainty.EXPECTED
    event.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    if milestone.date_precision == Precision.DAY:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Tomorrow: {milestone.title}")
        alarm.add("trigger", ALARM_BEFORE)
        event.add_component(alarm)
    return event


def build_calendar(request: HttpRequest, milestones, chosen: list[str]) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = f"{CALENDAR_NAME}: {', '.join(chosen)}" if chosen else CALENDAR_NAME
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", CALENDAR_DESCRIPTION)
    cal.add("x-wr-timezone", "Europe/London")
    for milestone in milestones:
        url = request.build_absolute_uri(milestone.get_absolute_url())
        cal.add_component(calendar_event(milestone, url))
    return cal


@require_safe
@conditional_on(Milestone, Source, DateChange, Platform, Instrument, Topic)
def calendar(request: HttpRequest) -> HttpResponse:
    milestones, chosen = calendar_milestones(request.GET)
    response = HttpResponse(
        build_calendar(request, milestones, chosen).to_ical(),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="osa-tracker.ics"'
    return response


# --- The Atom feed of changes ------------------------------------------------------------------

CHANGES_LIMIT = 50
FEED_RECORDS = (Milestone, Instrument, Measure, Commitment, Platform, Organisation)
# A record updated within this long of its creation is reported as new: the seed and staff
# create a draft, add its sources and publish it in one sitting.
NEW_WITHIN = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Change:
    key: str
    title: str
    description: str
    url: str
    at: dt.datetime


def record_url(record: PublicRecord) -> str:
    """Its page, or (for a kind of record with no page yet) a search for it."""
    return public_url(record) or f"{reverse('regulation:search')}?{urlencode({'q': str(record)})}"


def record_changes(model: type[PublicRecord], limit: int) -> list[Change]:
    changes = []
    for record in model.objects.published().order_by("-updated_at")[:limit]:
        is_new = record.updated_at - record.created_at <= NEW_WITHIN
        kind = model._meta.verbose_name.capitalize()
        changes.append(
            Change(
                key=f"{model._meta.model_name}-{record.pk}-{record.updated_at.timestamp()}",
                title=f"{kind} {'added' if is_new else 'updated'}: {record}",
                description=getattr(record, "description", "") or record.notes,
                url=record_url(record),
                at=record.updated_at,
            )
        )
    return changes


def date_changes(limit: int) -> list[Change]:
    moves = (
        DateChange.objects.filter(milestone__in=Milestone.objects.published())
        .select_related("milestone", "source")
        .order_by("-created_at")[:limit]
    )
    return [
        Change(
            key=f"datechange-{move.pk}",
            title=f"Date moved: {move.milestone.title} ({move})",
            description=" ".join(
                filter(None, [move.reason, f"Source: {move.source}" if move.source else ""])
            ),
            url=move.milestone.get_absolute_url(),
            at=move.created_at,
        )
        for move in moves
    ]


def status_updates(limit: int) -> list[Change]:
    updates = (
        CommitmentUpdate.objects.filter(commitment__in=Commitment.objects.published())
        .select_related("commitment", "evidence")
        .order_by("-created_at")[:limit]
    )
    return [
        Change(
            key=f"commitmentupdate-{update.pk}",
            title=f"Status update ({update.get_delivery_status_display()}): {update.commitment}",
            description=" ".join(
                filter(
                    None, [update.note, f"Evidence: {update.evidence}" if update.evidence else ""]
                )
            ),
            url=record_url(update.commitment),
            at=update.created_at,
        )
        for update in updates
    ]


def recent_changes(limit: int = CHANGES_LIMIT) -> list[Change]:
    """The latest changes of every kind, newest first: one query per kind."""
    changes = [c for model in FEED_RECORDS for c in record_changes(model, limit)]
    changes += date_changes(limit) + status_updates(limit)
    return sorted(changes, key=lambda c: (c.at, c.key), reverse=True)[:limit]


class ChangesFeed(Feed):
    feed_type = feedgenerator.Atom1Feed
    title = "Online Safety Act tracker: what changed"
    subtitle = (
        "New and updated records, moved dates and platform commitments' status updates, "
        "newest first."
    )

    def get_object(self, request: HttpRequest, *args, **kwargs) -> HttpRequest:
        return request

    def link(self) -> str:
        return reverse("regulation:home")

    def feed_url(self) -> str:
        return reverse("regulation:changes_feed")

    def items(self) -> list[Change]:
        return recent_changes()

    def item_title(self, item: Change) -> str:
        return item.title

    def item_description(self, item: Change) -> str:
        # The summary is HTML to a feed reader: staff text goes through the pages' sanitiser.
        return render_markdown(item.description)

    def item_link(self, item: Change) -> str:
        return item.url

    def item_guid(self, item: Change) -> str:
        return f"tag:{UID_DOMAIN},2024:{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Change) -> dt.datetime:
        return item.at

    def item_updateddate(self, item: Change) -> dt.datetime:
        return item.at


changes_feed = require_safe(
    conditional_on(*FEED_RECORDS, DateChange, CommitmentUpdate, Source)(ChangesFeed())
)
