"""Events from the knowledge base's changes, written in the transaction of the change.

regulation/ announces its changes with the signals in regulation/signals.py (sent inside the
change's transaction); the receivers here write one Event and one Delivery per endpoint that
wants it, and queue the deliveries once the transaction commits. A change rolled back leaves no
event. `plan_reached()` is the periodic pass that writes `milestone.reached`, once per milestone
and date.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from regulation import signals
from regulation.api import serializers as api_serializers
from regulation.dates import Certainty, Precision, format_fuzzy
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    Milestone,
    Verification,
    local_day,
)
from tracker import queue
from tracker.links import absolute
from tracker.webhooks.models import Delivery, Endpoint, Event, EventType

logger = logging.getLogger(__name__)


class SiteRequest:
    """Enough of a request for the API's serializers to write absolute addresses on SITE_URL:
    an event has no request of its own."""

    versioning_scheme = None
    GET: dict[str, str] = {}
    query_params: dict[str, str] = {}

    def build_absolute_uri(self, location: str) -> str:
        return absolute(location)


def _serializer_for(model: type[models.Model]):
    return getattr(api_serializers, f"{model.__name__}Serializer", None)


def record_data(record: models.Model) -> dict[str, Any]:
    """The record as the API shows it, its addresses absolute."""
    serializer = _serializer_for(type(record))
    if serializer is None:
        return api_serializers.LinkSerializer(record, context={"request": SiteRequest()}).data
    return dict(serializer(record, context={"request": SiteRequest()}).data)


def links(record: models.Model) -> dict[str, str]:
    """Where the record is: in the API and, when it has one, its page on the public site."""
    found = {"api": api_serializers.api_url(record, SiteRequest())}
    if hasattr(record, "get_absolute_url"):
        found["page"] = absolute(record.get_absolute_url())
    return found


def related(record: models.Model) -> dict[str, set[int]]:
    """The platforms, instruments and topics a record is about, for the endpoints' filters."""
    found: dict[str, set[int]] = {}
    for name in ("platform", "instrument", "topic"):
        if record._meta.model_name == name:
            found[name] = {record.pk}
        elif hasattr(record, f"{name}s") and hasattr(getattr(record, f"{name}s"), "all"):
            found[name] = set(getattr(record, f"{name}s").values_list("pk", flat=True))
        elif getattr(record, f"{name}_id", None) is not None:
            found[name] = {getattr(record, f"{name}_id")}
    return found


def _date(date: dt.date, precision: str, certainty: str) -> dict[str, Any]:
    return {
        "date": date.isoformat(),
        "precision": precision,
        "certainty": certainty,
        "text": format_fuzzy(date, precision),
    }


def _source(source) -> dict[str, Any] | None:
    if source is None:
        return None
    return api_serializers.SourceLinkSerializer(source, context={"request": SiteRequest()}).data


def queue_deliveries(ids: list[int]) -> None:
    """Queue each delivery's task once the transaction commits. A broker that does not take it
    loses nothing: the row is pending, and the dispatcher queues it on its next run."""
    from tracker.webhooks import tasks  # the tasks import this module

    def publish() -> None:
        for delivery_id in ids:
            try:
                queue.publish(tasks.deliver_webhook, args=[delivery_id])
            except queue.TaskNotQueued:
                Delivery.objects.filter(pk__in=ids).update(queued_at=None)
                return

    if ids:
        transaction.on_commit(publish)


def record_event(
    event_type: str,
    payload: Callable[[], dict[str, Any]],
    *,
    about: Callable[[], dict[str, set[int]]],
    once_key: str | None = None,
    at: dt.datetime | None = None,
) -> Event | None:
    """Write the event and a delivery to every active endpoint that wants it, in the current
    transaction; queue the deliveries after it commits. `payload` and `about` (the record's
    platforms, instruments and topics) are built only when some endpoint wants the event: a
    change no one listens for costs one query. With a `once_key` already used, nothing is
    written and None is returned."""
    at = at or timezone.now()
    endpoints = [e for e in Endpoint.objects.active() if not e.events or event_type in e.events]
    if endpoints:
        related_to = about()
        endpoints = [e for e in endpoints if e.wants(event_type, related_to)]
    if not endpoints and once_key is None:
        return None
    # Stored as the API writes it (decimals, dates), so the body is the API's JSON.
    data = json.loads(json.dumps(payload(), cls=JSONEncoder))
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a second `once` event fails alone
                event = Event.objects.create(
                    type=event_type, payload=data, once_key=once_key, created_at=at
                )
        except IntegrityError:
            if once_key is None:
                raise
            return None
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(
                    event=event,
                    endpoint=endpoint,
                    next_attempt_at=at,
                    window_started_at=at,
                    queued_at=at,
                    created_at=at,
                    updated_at=at,
                )
                for endpoint in endpoints
            ]
        )
        queue_deliveries([d.pk for d in deliveries])
    logger.info("Webhook event %s %s: %d deliveries", event_type, event.pk, len(deliveries))
    return event


# --- Receivers ---------------------------------------------------------------------------------


def on_milestone_moved(sender, milestone: Milestone, change: DateChange, **kwargs) -> None:
    """`milestone.date_changed` when the date or its precision moved; `milestone.confirmed`
    when the date became confirmed (both, when a move confirms it). Drafts tell no one."""
    if not milestone.is_published:
        return

    def payload() -> dict[str, Any]:
        return {
            "milestone": record_data(milestone),
            "change": {
                "old": _date(change.old_date, change.old_precision, change.old_certainty),
                "new": _date(change.new_date, change.new_precision, change.new_certainty),
                "reason": change.reason,
                "announced_on": change.announced_on.isoformat() if change.announced_on else None,
                "source": _source(change.source),
            },
            "links": links(milestone),
        }

    def about() -> dict[str, set[int]]:
        return related(milestone)

    moved = (change.old_date, change.old_precision) != (change.new_date, change.new_precision)
    confirmed = (
        change.new_certainty == Certainty.CONFIRMED and change.old_certainty != Certainty.CONFIRMED
    )
    if moved or not confirmed:
        record_event(EventType.MILESTONE_DATE_CHANGED, payload, about=about)
    if confirmed:
        record_event(EventType.MILESTONE_CONFIRMED, payload, about=about)


def on_commitment_status_changed(
    sender, commitment: Commitment, old_status: str, update: CommitmentUpdate, **kwargs
) -> None:
    if not commitment.is_published:
        return

    def payload() -> dict[str, Any]:
        return {
            "commitment": record_data(commitment),
            "old_status": old_status,
            "new_status": commitment.delivery_status,
            "update": {
                "date": {
                    "date": update.on.isoformat(),
                    "precision": update.on_precision,
                    "text": format_fuzzy(update.on, update.on_precision),
                },
                "delivery_status": update.delivery_status,
                "note": update.note,
                "evidence": _source(update.evidence),
            },
            "links": links(commitment),
        }

    record_event(EventType.COMMITMENT_STATUS_CHANGED, payload, about=lambda: related(commitment))


def on_published(sender, record: models.Model, **kwargs) -> None:
    def payload() -> dict[str, Any]:
        return {
            "record_type": record._meta.model_name,
            "record": record_data(record),
            "links": links(record),
        }

    record_event(EventType.RECORD_PUBLISHED, payload, about=lambda: related(record))


def on_unpublished(sender, record: models.Model, **kwargs) -> None:
    """The record is a draft now: only what names it, not its content."""

    def payload() -> dict[str, Any]:
        return {
            "record_type": record._meta.model_name,
            "record": {
                "key": getattr(record, "key", None),
                "slug": getattr(record, "slug", None),
                "label": api_serializers.record_label(record),
                "url": api_serializers.api_url(record, SiteRequest()),
            },
        }

    record_event(EventType.RECORD_UNPUBLISHED, payload, about=lambda: related(record))


def connect() -> None:
    signals.milestone_moved.connect(on_milestone_moved, dispatch_uid="webhooks-milestone-moved")
    signals.commitment_status_changed.connect(
        on_commitment_status_changed, dispatch_uid="webhooks-commitment-status"
    )
    signals.record_published.connect(on_published, dispatch_uid="webhooks-published")
    signals.record_unpublished.connect(on_unpublished, dispatch_uid="webhooks-unpublished")


# --- milestone.reached -------------------------------------------------------------------------


def reached_key(milestone: Milestone) -> str:
    return f"milestone.reached:{milestone.pk}:{milestone.date.isoformat()}"


def plan_reached(*, at: dt.datetime) -> int:
    """Write `milestone.reached` for each published day-exact milestone whose day has come (in
    Europe/London) within the grace window, once per milestone and date; return how many.
    Downtime makes the event late, never lost; a date older than the window is not announced."""
    today = local_day(at)
    since = today - dt.timedelta(days=settings.WEBHOOK_REACHED_GRACE_DAYS)
    arrived = list(
        Milestone.objects.published()
        .filter(
            date__gte=since,
            date__lte=today,
            date_precision=Precision.DAY,
            certainty=Certainty.CONFIRMED,
            verification=Verification.CONFIRMED,
        )
        .order_by("date", "pk")
    )
    keys = {reached_key(m) for m in arrived}
    done = set(Event.objects.filter(once_key__in=keys).values_list("once_key", flat=True))
    written = 0
    for milestone in arrived:
        key = reached_key(milestone)
        if key in done:
            continue
        event = record_event(
            EventType.MILESTONE_REACHED,
            lambda milestone=milestone: {
                "milestone": record_data(milestone),
                "date": milestone.date.isoformat(),
                "links": links(milestone),
            },
            about=lambda milestone=milestone: related(milestone),
            once_key=key,
            at=at,
        )
        written += event is not None
    return written
