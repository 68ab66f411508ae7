"""What staff and monitoring see: /healthz, the outbox in the admin, and pruning."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.tracker.reminders import london, make_day_exact_milestone, make_subscriber, subscribe
from tracker import health
from tracker.models import PlannerRun, Reminder, ReminderState, Subscription
from tracker.planner import plan
from tracker.tasks import prune_reminders

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)


def test_healthz_is_ok_when_the_planner_ran_within_three_periods(client, settings):
    settings.PLANNER_SECONDS = 300
    with time_machine.travel(NOW - dt.timedelta(minutes=14), tick=False):
        plan(at=timezone.now())

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"
    assert response.json()["planner"] == "ok"


def test_healthz_answers_503_when_the_planner_is_stale_or_never_ran(client, settings):
    settings.PLANNER_SECONDS = 300
    never = client.get("/healthz")
    with time_machine.travel(NOW - dt.timedelta(minutes=16), tick=False):
        plan(at=timezone.now())
    with time_machine.travel(NOW, tick=False):
        stale = client.get("/healthz")

    assert never.status_code == stale.status_code == 503
    assert stale.json()["planner"] == "failing"
    assert stale.json()["planner_last_run"] == "2027-03-10T11:44:00+00:00"


def test_healthz_answers_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    plan(at=timezone.now())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "failing"
    assert response.json()["planner"] == "ok"


def test_the_broker_check_fails_for_a_broker_nobody_answers():
    assert health.broker_ok("redis://127.0.0.1:9/0") is False


def test_staff_see_the_outbox_filter_it_and_resend_a_failed_reminder(admin_client):
    milestone = make_day_exact_milestone(date=dt.date(2027, 3, 17), title="Watched deadline")
    subscriber = make_subscriber(email_address="parent@example.org")
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=london(2027, 3, 10, 10, 0))
    Reminder.objects.update(state=ReminderState.FAILED, attempts=8, last_error="550 no such user")
    changelist = reverse("admin:tracker_reminder_changelist")

    page = admin_client.get(changelist, {"state__exact": "failed"})
    assert page.status_code == 200
    assert b"parent@example.org" in page.content
    assert b"Watched deadline" in page.content
    assert admin_client.get(changelist, {"state__exact": "sent"}).content.count(b"parent@") == 0

    admin_client.post(
        changelist,
        {"action": "resend", "_selected_action": [Reminder.objects.get().pk]},
    )
    row = Reminder.objects.get()
    assert (row.state, row.attempts, row.last_error) == (ReminderState.PENDING, 0, "")


@pytest.mark.parametrize(
    "model", ["subscriber", "subscription", "plannerrun"], ids=lambda name: name
)
def test_staff_see_subscriptions_and_planner_runs_in_the_admin(admin_client, model):
    subscribe(make_subscriber(email_address="listed@example.org"))
    plan(at=london(2027, 3, 10, 10, 0))

    response = admin_client.get(reverse(f"admin:tracker_{model}_changelist"))

    assert response.status_code == 200
    if model != "plannerrun":
        assert b"listed@example.org" in response.content


def test_pruning_keeps_recent_and_pending_rows_and_deletes_old_finished_ones(settings):
    settings.REMINDER_RETENTION_DAYS = 90
    milestone = make_day_exact_milestone(date=dt.date(2026, 3, 17))
    subscribe(milestone=milestone, lead_days=[1, 0])
    subscribe(milestone=milestone, lead_days=[0])
    plan(at=london(2026, 3, 17, 10, 0))
    old, recent, pending = Reminder.objects.order_by("pk")
    Reminder.objects.filter(pk=old.pk).update(
        state=ReminderState.SENT, updated_at=NOW - dt.timedelta(days=91)
    )
    Reminder.objects.filter(pk=recent.pk).update(
        state=ReminderState.SENT, updated_at=NOW - dt.timedelta(days=89)
    )
    Reminder.objects.filter(pk=pending.pk).update(updated_at=NOW - dt.timedelta(days=200))
    unconfirmed = Subscription.request("late@example.org", lead_days=[7])
    Subscription.objects.filter(pk=unconfirmed.pk).update(created_at=NOW - dt.timedelta(hours=49))
    PlannerRun.objects.update(started_at=NOW - dt.timedelta(days=91))

    with time_machine.travel(NOW, tick=False):
        prune_reminders()

    assert set(Reminder.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not Subscription.objects.filter(pk=unconfirmed.pk).exists()
    assert not PlannerRun.objects.exists()


def test_beat_runs_the_planner_every_few_minutes_and_prunes_hourly(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["plan-reminders"]["task"] == "tracker.tasks.plan_reminders"
    assert schedule["plan-reminders"]["schedule"] == settings.PLANNER_SECONDS <= 10 * 60
    assert schedule["prune-reminders"] == {
        "task": "tracker.tasks.prune_reminders",
        "schedule": 60 * 60,
    }
    assert "heartbeat" not in schedule  # the planner's runs are the proof of life
