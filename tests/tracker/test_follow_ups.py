"""Staff follow-ups: the editors are asked to check a record once per occasion."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail

from regulation.dates import Certainty
from regulation.models import DeliveryStatus
from tests.factories import make_commitment, make_milestone
from tests.tracker.reminders import london
from tracker.follow_ups import plan_follow_ups, send_follow_ups
from tracker.models import FollowUp, FollowUpKind, ReminderState

pytestmark = pytest.mark.django_db
AT = london(2027, 3, 10, 10, 0)


@pytest.fixture
def editors(db) -> list[User]:
    editor = User.objects.create_user("ed", "ed@example.org", "x-long-password", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_commitment"))
    User.objects.create_user("reader", "reader@example.org", "x-long-password", is_staff=True)
    User.objects.create_superuser("root", "root@example.org", "x-long-password")
    return [editor]


def test_a_review_date_arriving_asks_the_editors_once(editors):
    commitment = make_commitment(review_on=dt.date(2027, 3, 10))

    assert plan_follow_ups(at=AT) == 1
    assert plan_follow_ups(at=AT + dt.timedelta(days=1)) == 0
    assert send_follow_ups(at=AT) == 1
    assert send_follow_ups(at=AT) == 0

    [message] = mail.outbox
    assert message.to == ["ed@example.org", "root@example.org"]
    assert "A commitment's review date arrived (10 March 2027)" in message.body
    assert f"/admin/regulation/commitment/{commitment.pk}/change/" in message.body


def test_a_new_review_date_is_a_new_occasion(editors):
    commitment = make_commitment(review_on=dt.date(2027, 3, 10))
    plan_follow_ups(at=AT)
    commitment.review_on = dt.date(2027, 4, 10)
    commitment.save()

    plan_follow_ups(at=london(2027, 4, 10, 10, 0))

    assert sorted(FollowUp.objects.values_list("occasion", flat=True)) == [
        dt.date(2027, 3, 10),
        dt.date(2027, 4, 10),
    ]


def test_an_open_commitment_falling_due_and_an_expected_date_passing_are_followed_up(editors):
    open_one = make_commitment(due_on=dt.date(2027, 3, 9))
    make_commitment(due_on=dt.date(2027, 3, 9), delivery_status=DeliveryStatus.DELIVERED)
    # "Expected: 8 March 2027", still unconfirmed on the 10th; the confirmed one needs nothing.
    expected = make_milestone(date=dt.date(2027, 3, 8), certainty=Certainty.EXPECTED)
    make_milestone(date=dt.date(2027, 3, 8))

    plan_follow_ups(at=AT)

    assert set(FollowUp.objects.values_list("kind", "commitment", "milestone")) == {
        (FollowUpKind.COMMITMENT_DUE, open_one.pk, None),
        (FollowUpKind.EXPECTED_PASSED, None, expected.pk),
    }


def test_with_no_editor_to_tell_the_follow_up_waits_with_its_error(db):
    make_commitment(review_on=dt.date(2027, 3, 10))
    plan_follow_ups(at=AT)

    assert send_follow_ups(at=AT) == 0

    row = FollowUp.objects.get()
    assert (row.state, row.attempts) == (ReminderState.PENDING, 1)
    assert "no active editor" in row.last_error
