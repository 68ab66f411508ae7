"""Heartbeats are kept for a few days, then pruned; the table is indexed on their time."""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from tracker.models import Heartbeat
from tracker.tasks import prune_heartbeats

NOW = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)


def _heartbeat(task_id: str, received_at: dt.datetime) -> Heartbeat:
    heartbeat = Heartbeat.objects.create(task_id=task_id, worker="celery@example-host")
    # received_at is stamped on creation; move it to the time the test needs.
    Heartbeat.objects.filter(pk=heartbeat.pk).update(received_at=received_at)
    return heartbeat


@pytest.mark.django_db
def test_pruning_deletes_only_heartbeats_older_than_the_retention():
    _heartbeat("eight-days-old", NOW - dt.timedelta(days=8))
    _heartbeat("just-over-a-week", NOW - dt.timedelta(days=7, seconds=1))
    _heartbeat("a-week-old", NOW - dt.timedelta(days=7))
    _heartbeat("an-hour-old", NOW - dt.timedelta(hours=1))

    deleted = Heartbeat.objects.prune(at=NOW, keep_days=7)

    assert deleted == 2
    assert set(Heartbeat.objects.values_list("task_id", flat=True)) == {"a-week-old", "an-hour-old"}


@pytest.mark.django_db
def test_pruning_is_one_delete_however_many_rows(django_assert_num_queries):
    for number in range(50):
        _heartbeat(f"old-{number}", NOW - dt.timedelta(days=30, minutes=number))

    with django_assert_num_queries(1):
        Heartbeat.objects.prune(at=NOW, keep_days=7)

    assert not Heartbeat.objects.exists()


@pytest.mark.django_db
def test_the_scheduled_task_keeps_the_configured_number_of_days(settings):
    settings.HEARTBEAT_RETENTION_DAYS = 2
    _heartbeat("three-days-old", NOW - dt.timedelta(days=3))
    _heartbeat("a-day-old", NOW - dt.timedelta(days=1))

    with time_machine.travel(NOW, tick=False):
        deleted = prune_heartbeats()

    assert deleted == 1
    assert list(Heartbeat.objects.values_list("task_id", flat=True)) == ["a-day-old"]


def test_beat_prunes_heartbeats_every_hour(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-heartbeats"]
    assert entry == {"task": prune_heartbeats.name, "schedule": 60 * 60}


@pytest.mark.django_db
def test_heartbeats_are_indexed_on_their_time():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Heartbeat._meta.db_table)

    assert any(c["index"] and c["columns"] == ["received_at"] for c in constraints.values())


@pytest.mark.django_db
def test_staff_can_list_only_the_past_weeks_heartbeats(admin_client):
    _heartbeat("last-month", NOW - dt.timedelta(days=30))
    _heartbeat("yesterday", NOW - dt.timedelta(days=1))
    changelist = reverse("admin:tracker_heartbeat_changelist")

    with time_machine.travel(NOW, tick=False):
        page = admin_client.get(changelist).content.decode()
        past_week = re.search(r'<a href="(\?[^"]*received_at__gte[^"]*)">Past 7 days</a>', page)
        assert past_week, "no 'Past 7 days' filter on the heartbeat list"
        response = admin_client.get(changelist + html.unescape(past_week.group(1)))

    listed = response.content.decode()
    assert "yesterday" in listed
    assert "last-month" not in listed
