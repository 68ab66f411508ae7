"""The planner: turns subscriptions and dates into outbox rows (Reminder), in set-based passes.

It never asks "what is due today?": it creates every reminder whose moment is at or before `at`
and that does not exist yet, back to a grace window. A planner that was down across the due
moment therefore makes a reminder late, never lost; the unique key on Reminder makes a second
planner, or a second run, a no-op for rows already there.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from regulation.dates import Certainty, Precision
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    DateChange,
    Milestone,
    Status,
    Verification,
)
from tracker.models import (
    TARGET_FIELDS,
    LeadDays,
    LeadTime,
    PlannerRun,
    Reminder,
    ReminderKind,
    ReminderState,
    Subscriber,
    Subscription,
)
from tracker.queue import enqueue_on_commit

logger = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


def last_due_day(at: dt.datetime) -> dt.date:
    """The latest local day whose send hour (Europe/London) has been reached at `at`.

    Done in local time, so the hour is right on both DST change days: 09:00 is 08:00 UTC in
    summer and 09:00 UTC in winter.
    """
    local = at.astimezone(LONDON)
    if local.hour >= settings.REMINDER_SEND_HOUR:
        return local.date()
    return local.date() - dt.timedelta(days=1)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _date(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _watches_everything_sql() -> str:
    """SQL true when subscription `s` has no target: it watches everything."""
    return "(" + " AND ".join(f"s.{name}_id IS NULL" for name in TARGET_FIELDS) + ")"


def _linked_sql(model, name: str, record: str) -> str:
    """SQL true when the record `record` of `model` is linked (many-to-many field `name`) to
    the instrument, platform or topic subscription `s` watches."""
    field = model._meta.get_field(name)
    through = field.remote_field.through
    own, other = field.m2m_column_name(), field.m2m_reverse_name()
    target = f"{field.related_model._meta.model_name}_id"
    return (
        f"EXISTS (SELECT 1 FROM {_table(through)} t WHERE t.{own} = {record}.id"
        f" AND t.{other} = s.{target})"
    )


def _watches_milestone_sql() -> str:
    """SQL true when subscription `s` watches milestone `m` (everything, or one target; a
    commitment subscription watches no milestone)."""
    parts = [_watches_everything_sql(), "s.milestone_id = m.id"]
    parts += [_linked_sql(Milestone, name, "m") for name in ("instruments", "platforms", "topics")]
    return "(" + " OR ".join(parts) + ")"


def _watches_commitment_sql() -> str:
    """SQL true when subscription `s` watches commitment `c`'s status: everything, the
    commitment itself, or one of its platforms. (Instruments, topics and milestones are
    watched for their dates only.)"""
    parts = [
        _watches_everything_sql(),
        "s.commitment_id = c.id",
        _linked_sql(Commitment, "platforms", "c"),
    ]
    return "(" + " OR ".join(parts) + ")"


def _only(milestone: Milestone | None) -> tuple[str, list]:
    """SQL (and its parameter) limiting a pass to one milestone, for remind_now."""
    return (" AND m.id = %s", [milestone.pk]) if milestone else ("", [])


def _insert_sql(
    select_columns: str, joins: str, conditions: str, *, milestone_joins: str = "", event: str = ""
) -> str:
    # ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike): a row another planner inserted
    # meanwhile is simply there, not an error. The WHERE clause is what SQLite needs to read
    # the ON CONFLICT as the insert's, not as part of a join.
    return (
        f"INSERT INTO {_table(Reminder)} (subscription_id, milestone_id, kind, planned_for,"
        f" lead_days, state, attempts, last_error, created_at, updated_at{event and ', '}"
        f"{event and 'date_change_id'}) "
        f"SELECT s.id, m.id, {select_columns}, 0, '', %s, %s{event and ', '}{event} "
        f"FROM {_table(Subscription)} s "
        f"JOIN {_table(Subscriber)} sub ON sub.id = s.subscriber_id {joins} "
        f"CROSS JOIN {_table(Milestone)} m {milestone_joins} "
        "WHERE s.confirmed_at IS NOT NULL AND sub.confirmed_at IS NOT NULL "
        "AND sub.unsubscribed_at IS NULL "
        f"AND m.status = %s AND {conditions} AND {_watches_milestone_sql()} "
        "ON CONFLICT DO NOTHING"
    )


def plan_day_reminders(*, at: dt.datetime, milestone: Milestone | None = None) -> int:
    """Create every lead-time reminder for a day-exact date that is due by `at` and within the
    grace window, in one INSERT ... SELECT. Returns how many were created."""
    last = last_due_day(at)
    first = last - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)
    # For a lead of L days the reminder is due on date - L: due in [first, last] means the
    # milestone's date lies in [first + L, last + L]. One window per lead-time choice.
    windows, window_params = [], []
    for days in LeadDays.values:
        windows.append("(lt.days = %s AND m.date BETWEEN %s AND %s)")
        lead = dt.timedelta(days=days)
        window_params += [days, _date(first + lead), _date(last + lead)]
    only, only_params = _only(milestone)
    conditions = (
        "m.date_precision = %s AND m.certainty = %s AND m.verification = %s "
        f"AND ({' OR '.join(windows)}){only}"
    )
    # "On the day" is always on, whatever lead times were chosen: the day a watched date
    # arrives is told to everyone watching it, once (the union gives each subscription one 0).
    lead_times = (
        f"(SELECT subscription_id, days FROM {_table(LeadTime)} WHERE days <> 0"
        f" UNION ALL SELECT id, 0 FROM {_table(Subscription)})"
    )
    sql = _insert_sql(
        "%s, m.date, lt.days, %s", f"JOIN {lead_times} lt ON lt.subscription_id = s.id", conditions
    )
    stamp = connection.ops.adapt_datetimefield_value(at)
    params = [
        ReminderKind.DAY,
        ReminderState.PENDING,
        stamp,
        stamp,
        Status.PUBLISHED,
        Precision.DAY,
        Certainty.CONFIRMED,
        Verification.CONFIRMED,
        *window_params,
        *only_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def plan_period_notices(*, at: dt.datetime, milestone: Milestone | None = None) -> int:
    """Create a notice for each watched date known only to the month, season, quarter or year
    whose period began by `at` (within the grace window): no lead times, one notice each."""
    last = last_due_day(at)
    first = last - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)
    only, only_params = _only(milestone)
    sql = _insert_sql(
        "%s, m.date, 0, %s", "", f"m.date_precision <> %s AND m.date BETWEEN %s AND %s{only}"
    )
    stamp = connection.ops.adapt_datetimefield_value(at)
    params = [
        ReminderKind.PERIOD_START,
        ReminderState.PENDING,
        stamp,
        stamp,
        Status.PUBLISHED,
        Precision.DAY,
        _date(first),
        _date(last),
        *only_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def plan_change_notices(*, at: dt.datetime) -> int:
    """Create one notice per subscriber watching a milestone for each move or confirmation of
    its date (DateChange, written by Milestone.move_to()) made after the subscription was
    confirmed, up to `at` and within the grace window."""
    stamp = connection.ops.adapt_datetimefield_value(at)
    since = connection.ops.adapt_datetimefield_value(
        at - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)
    )
    sql = _insert_sql(
        "%s, dc.new_date, 0, %s",
        "",
        "dc.created_at > s.confirmed_at AND dc.created_at > %s AND dc.created_at <= %s",
        milestone_joins=f"JOIN {_table(DateChange)} dc ON dc.milestone_id = m.id",
        event="dc.id",
    )
    params = [
        ReminderKind.DATE_CHANGED,
        ReminderState.PENDING,
        stamp,
        stamp,
        Status.PUBLISHED,
        since,
        stamp,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def plan_status_notices(*, at: dt.datetime) -> int:
    """Create one notice per subscriber watching a published commitment (itself, one of its
    platforms, or everything) for each update that changed its status (a CommitmentUpdate with
    the status it replaced, written through Commitment.record_update()) recorded after the
    subscription was confirmed, up to `at` and within the grace window. One INSERT ... SELECT;
    the unique key (subscription, update) makes a second notice impossible."""
    stamp = connection.ops.adapt_datetimefield_value(at)
    since = connection.ops.adapt_datetimefield_value(
        at - dt.timedelta(days=settings.REMINDER_GRACE_DAYS)
    )
    sql = (
        f"INSERT INTO {_table(Reminder)} (subscription_id, commitment_id, commitment_update_id,"
        " kind, planned_for, lead_days, state, attempts, last_error, created_at, updated_at) "
        f"SELECT s.id, c.id, cu.id, %s, cu.{connection.ops.quote_name('on')}, 0, %s, 0, '', %s, %s "
        f"FROM {_table(Subscription)} s "
        f"JOIN {_table(Subscriber)} sub ON sub.id = s.subscriber_id "
        f"CROSS JOIN {_table(CommitmentUpdate)} cu "
        f"JOIN {_table(Commitment)} c ON c.id = cu.commitment_id "
        "WHERE s.confirmed_at IS NOT NULL AND sub.confirmed_at IS NOT NULL "
        "AND sub.unsubscribed_at IS NULL AND c.status = %s AND cu.previous_status <> '' "
        "AND cu.created_at > s.confirmed_at AND cu.created_at > %s AND cu.created_at <= %s "
        f"AND {_watches_commitment_sql()} "
        "ON CONFLICT DO NOTHING"
    )
    params = [
        ReminderKind.STATUS_CHANGED,
        ReminderState.PENDING,
        stamp,
        stamp,
        Status.PUBLISHED,
        since,
        stamp,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def cancel_outdated(*, at: dt.datetime) -> int:
    """Cancel pending reminders that no longer hold: the date moved (Milestone.move_to()), is no
    longer day-exact, was unpublished, or the subscriber left. A moved date's new reminders are
    planned by the same pass, under the new date."""
    return Reminder.objects.outdated().update(state=ReminderState.CANCELLED, updated_at=at)


def release_stuck(*, at: dt.datetime) -> int:
    """Put rows claimed by a sender that died or hung (past the lease) back to pending."""
    lease = dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    return Reminder.objects.stuck(at=at, lease=lease).update(
        state=ReminderState.PENDING, claim=None, claimed_at=None, updated_at=at
    )


def subscribers_to_send(*, at: dt.datetime) -> Iterator[int]:
    """The ids of subscribers with reminders ready to send, each once."""
    ids = (
        Reminder.objects.claimable(at=at)
        .order_by()
        .values_list("subscription__subscriber_id", flat=True)
        .distinct()
    )
    return ids.iterator(chunk_size=2000)


def batches(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    while batch := list(islice(ids, size)):
        yield batch


def plan(*, at: dt.datetime) -> PlannerRun:
    """One pass: release stuck rows, cancel outdated ones, plan what is due, queue the sending
    once all of it is committed, and record the run."""
    from tracker.tasks import send_reminders  # tasks.py imports this module

    with transaction.atomic():
        released = release_stuck(at=at)
        cancelled = cancel_outdated(at=at)
        planned = (
            plan_day_reminders(at=at)
            + plan_period_notices(at=at)
            + plan_change_notices(at=at)
            + plan_status_notices(at=at)
        )
    # Once the rows are committed, the ids stream from the database a batch at a time, each
    # batch queued as it comes: memory stays one batch, whatever the number of subscribers.
    queued = 0
    for batch in batches(subscribers_to_send(at=at), settings.REMINDER_BATCH_SIZE):
        enqueue_on_commit(send_reminders, args=[batch])
        queued += 1
    # Recorded once everything is queued, so a run is never seen with its batches still to come.
    run = PlannerRun.objects.create(
        started_at=at,
        finished_at=timezone.now(),
        planned=planned,
        cancelled=cancelled,
        released=released,
        batches=queued,
    )
    logger.info(
        "Planner: %d reminders planned, %d cancelled, %d released from a dead sender, "
        "%d send batches queued",
        planned,
        cancelled,
        released,
        queued,
    )
    return run
