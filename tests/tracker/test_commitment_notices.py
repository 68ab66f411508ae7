"""Commitment status notices: a watched commitment whose status changes (record_update()) is told
once to each subscriber watching it, its platform or everything, old → new with the date, the
note and the evidence, in the same e-mail as any reminder due with it."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from regulation.models import CommitmentUpdate, DeliveryStatus, Status, Topic
from tests.factories import make_commitment, make_platform, make_source
from tests.tracker.reminders import london, make_day_exact_milestone, make_subscriber, subscribe
from tracker.models import Reminder, ReminderKind, ReminderState, Subscription
from tracker.planner import plan, plan_status_notices
from tracker.sender import send_batch

pytestmark = pytest.mark.django_db
RECORDED_AT = london(2027, 2, 1, 15, 0)
AFTER = RECORDED_AT + dt.timedelta(minutes=5)


def record(commitment, status=DeliveryStatus.DELIVERED, *, at=RECORDED_AT, **fields):
    with time_machine.travel(at, tick=False):
        return commitment.record_update(
            on=fields.pop("on", dt.date(2027, 1, 28)), delivery_status=status, **fields
        )


def notices(**filters) -> list[tuple[int, int]]:
    rows = Reminder.objects.filter(kind=ReminderKind.STATUS_CHANGED, **filters)
    return sorted(rows.values_list("subscription_id", "commitment_update_id"))


def test_each_watcher_of_the_commitment_its_platform_or_everything_gets_one_notice():
    platform = make_platform(name="PhotoShare")
    commitment = make_commitment(platforms=[platform])
    other = make_commitment(platforms=[make_platform()])
    watchers = [
        subscribe(commitment=commitment),
        subscribe(platform=platform),
        subscribe(),  # everything
    ]
    topic = Topic.objects.create(name="Age assurance", slug="age-assurance")
    commitment.topics.add(topic)
    # Watching something else, or only dates, is no reason to be told.
    subscribe(commitment=other)
    subscribe(topic=topic)
    subscribe(milestone=make_day_exact_milestone(date=dt.date(2027, 3, 17)))
    update = record(commitment)

    first = plan(at=AFTER)
    again = plan(at=AFTER + dt.timedelta(minutes=5))
    plan_status_notices(at=AFTER + dt.timedelta(minutes=6))

    assert notices() == sorted((w.pk, update.pk) for w in watchers)
    assert (first.planned, again.planned) == (3, 0)
    row = Reminder.objects.filter(kind=ReminderKind.STATUS_CHANGED).first()
    assert (row.milestone, row.commitment, row.planned_for) == (None, commitment, update.on)


def test_updates_before_confirmation_on_unpublished_or_unchanged_commitments_are_not_told():
    told = make_commitment()
    early = subscribe(commitment=told)
    record(told, DeliveryStatus.IN_PROGRESS, at=RECORDED_AT - dt.timedelta(days=1))
    # Subscribed (confirmed) after the update: it is not news to them.
    late = subscribe(commitment=told)
    Subscription.objects.filter(pk=late.pk).update(confirmed_at=RECORDED_AT - dt.timedelta(hours=1))
    draft = make_commitment(status=Status.DRAFT)
    subscribe(commitment=draft)
    record(draft)
    # The same status again, and an earlier date recorded later, change no status.
    same = make_commitment()
    subscribe(commitment=same)
    record(same, DeliveryStatus.ANNOUNCED)
    backdated = make_commitment()
    record(backdated, DeliveryStatus.DELIVERED, at=RECORDED_AT - dt.timedelta(hours=2))
    watcher = subscribe(commitment=backdated)
    Subscription.objects.filter(pk=watcher.pk).update(
        confirmed_at=RECORDED_AT - dt.timedelta(hours=1)
    )
    stale = record(backdated, DeliveryStatus.IN_PROGRESS, on=dt.date(2026, 5, 1))

    plan(at=AFTER)

    assert notices() == [(early.pk, told.updates.get().pk)]
    assert stale.previous_status == ""
    backdated.refresh_from_db()
    assert backdated.delivery_status == DeliveryStatus.DELIVERED


def test_an_update_past_the_grace_window_is_not_told(settings):
    settings.REMINDER_GRACE_DAYS = 2
    commitment = make_commitment()
    subscribe(commitment=commitment)
    record(commitment)

    plan(at=RECORDED_AT + dt.timedelta(days=3))

    assert notices() == []


def test_the_update_keeps_the_status_it_replaced():
    commitment = make_commitment()
    first = record(commitment, DeliveryStatus.IN_PROGRESS, on=dt.date(2027, 1, 10))
    second = record(commitment, DeliveryStatus.WITHDRAWN, on=dt.date(2027, 1, 20))

    first.refresh_from_db()
    assert (first.previous_status, second.previous_status) == (
        DeliveryStatus.ANNOUNCED,
        DeliveryStatus.IN_PROGRESS,
    )
    # The database refuses an update claiming to replace its own status.
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentUpdate.objects.filter(pk=second.pk).update(
            previous_status=DeliveryStatus.WITHDRAWN
        )


def test_the_outbox_refuses_a_second_notice_for_the_same_update_and_a_notice_about_nothing():
    commitment = make_commitment()
    subscription = subscribe(commitment=commitment)
    update = record(commitment)
    plan(at=AFTER)
    now = timezone.now()
    row = {
        "subscription": subscription,
        "kind": ReminderKind.STATUS_CHANGED,
        "planned_for": update.on,
        "lead_days": 0,
        "created_at": now,
        "updated_at": now,
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(commitment=commitment, commitment_update=update, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(**row)  # neither a milestone nor a commitment
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17))
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(milestone=milestone, **{**row, "kind": ReminderKind.DAY})
        Reminder.objects.create(milestone=milestone, **{**row, "kind": ReminderKind.DAY})
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(milestone=milestone, commitment_update=update, **row)


def test_a_subscription_watches_a_commitment_or_something_else_not_both():
    commitment = make_commitment()

    with pytest.raises(IntegrityError), transaction.atomic():
        subscribe(commitment=commitment, platform=make_platform())

    assert subscribe(commitment=commitment).target_display == f"the commitment {commitment}"


def test_a_commitment_watcher_gets_no_date_reminders():
    make_day_exact_milestone(date=dt.date(2027, 3, 17))
    subscribe(commitment=make_commitment(), lead_days=[7])

    plan(at=london(2027, 3, 10, 10, 0))
    plan(at=london(2027, 3, 17, 10, 0))

    assert not Reminder.objects.exists()


def test_a_commitment_unpublished_before_sending_is_not_told():
    commitment = make_commitment()
    subscribe(commitment=commitment)
    record(commitment)
    plan(at=AFTER)
    commitment.status = Status.DRAFT
    commitment.save()

    plan(at=AFTER + dt.timedelta(minutes=5))

    assert list(Reminder.objects.values_list("state", flat=True)) == [ReminderState.CANCELLED]


def test_the_email_tells_old_and_new_status_date_note_evidence_and_links(settings):
    settings.SITE_URL = "https://tracker.example.org"
    platform = make_platform(name="PhotoShare")
    commitment = make_commitment(
        platforms=[platform], summary="We will check the age of every new account."
    )
    reader = make_subscriber(email_address="reader@example.org")
    subscribe(reader, platform=platform)
    evidence = make_source(title="PhotoShare blog", url="https://photoshare.example/blog")
    record(
        commitment,
        DeliveryStatus.DELIVERED,
        on=dt.date(2027, 1, 28),
        note="Age checks now run for every new account.",
        evidence=evidence,
    )
    plan(at=AFTER)

    result = send_batch([reader.pk], at=AFTER)

    assert result.sent == 1
    [message] = mail.outbox
    assert message.subject == (
        "Status changed to Delivered: We will check the age of every new account."
    )
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "We will check the age of every new account." in part
        assert "PhotoShare" in part
        assert "Status changed: Announced → Delivered" in part
        assert "28 January 2027" in part
        assert "Age checks now run for every new account." in part
        assert "https://photoshare.example/blog" in part
        assert f"https://tracker.example.org{commitment.get_absolute_url()}" in part
        assert "https://tracker.example.org/reminders/unsubscribe/" in part
        assert "https://tracker.example.org/reminders/manage/" in part
    assert "calendar" not in message.body
    assert message.attachments == []  # no dates, no calendar file
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert list(Reminder.objects.values_list("state", flat=True)) == [ReminderState.SENT]


def test_a_status_notice_and_a_reminder_due_together_come_in_one_email():
    platform = make_platform()
    milestone = make_day_exact_milestone(
        date=dt.date(2027, 2, 8), title="Due in a week", platforms=[platform]
    )
    commitment = make_commitment(platforms=[platform], summary="We will publish a report.")
    reader = make_subscriber()
    subscribe(reader, platform=platform, lead_days=[7])
    record(commitment, DeliveryStatus.IN_PROGRESS)

    plan(at=AFTER)
    send_batch([reader.pk], at=AFTER)

    [message] = mail.outbox
    assert message.subject == "2 updates on what you watch on the Online Safety Act tracker"
    assert milestone.title in message.body
    assert "Status changed: Announced → In progress" in message.body
    assert "We will publish a report." in message.body
    assert len(message.attachments) == 1  # the calendar file of the date
    assert sorted(Reminder.objects.values_list("kind", "state")) == [
        (ReminderKind.DAY, ReminderState.SENT),
        (ReminderKind.STATUS_CHANGED, ReminderState.SENT),
    ]


def test_planning_status_notices_takes_the_same_queries_for_three_subscribers_as_for_thirty(
    django_capture_on_commit_callbacks, settings
):
    settings.REMINDER_BATCH_SIZE = 1000
    platform = make_platform()
    commitment = make_commitment(platforms=[platform])
    record(commitment)

    def plan_counting_queries() -> tuple[int, int]:
        Reminder.objects.all().delete()
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as queued,
        ):
            plan(at=AFTER)
        return len(queries), len(queued)

    def watch(count: int) -> None:
        for n in range(count):
            subscribe(**({"commitment": commitment} if n % 2 else {"platform": platform}))

    watch(3)
    few = plan_counting_queries()
    watch(27)
    many = plan_counting_queries()

    assert Reminder.objects.filter(kind=ReminderKind.STATUS_CHANGED).count() == 30
    assert few == many
    assert many[1] == 1


def test_a_summary_over_several_lines_makes_a_one_line_subject():
    commitment = make_commitment(summary="We will check ages.\n\nAnd publish how.")
    reader = make_subscriber()
    subscribe(reader, commitment=commitment)
    record(commitment, DeliveryStatus.NOT_DELIVERED)
    plan(at=AFTER)

    send_batch([reader.pk], at=AFTER)

    [message] = mail.outbox
    assert (
        message.subject == "Status changed to Not delivered: We will check ages. And publish how."
    )


def test_an_update_added_as_the_admin_adds_it_is_told_too():
    commitment = make_commitment()
    subscription = subscribe(commitment=commitment)
    with time_machine.travel(RECORDED_AT, tick=False):
        # The admin's inline saves the update, then the commitment follows its updates.
        update = CommitmentUpdate.objects.create(
            commitment=commitment, on=dt.date(2027, 1, 28), delivery_status=DeliveryStatus.WITHDRAWN
        )
        commitment.refresh_delivery_status()

    plan(at=AFTER)

    update.refresh_from_db()
    assert update.previous_status == DeliveryStatus.ANNOUNCED
    assert notices() == [(subscription.pk, update.pk)]
