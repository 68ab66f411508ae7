"""Two editors (or two processes) changing the same record at the same moment.

Each race runs real threads on the real database, each with its own connection, released
together by a barrier, and is repeated so that an unlucky interleaving cannot hide a defect.
"""

import datetime as dt
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from regulation.models import (
    Certainty,
    Commitment,
    DateChange,
    DeliveryStatus,
    Milestone,
    Precision,
    Status,
)
from tests.factories import make_commitment, make_milestone, make_source

pytestmark = pytest.mark.django_db(transaction=True)

TRIALS = 10


def run_at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread, all released at the same instant; return what each
    call returned or raised, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # the test inspects it
            outcomes[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# --- Moving a milestone's date ------------------------------------------------------------------


def test_two_editors_moving_the_same_date_record_one_chain_of_moves():
    broken = []
    for trial in range(TRIALS):
        milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)
        # Each editor opened the milestone before either saved.
        first, second = (
            Milestone.objects.get(pk=milestone.pk),
            Milestone.objects.get(pk=milestone.pk),
        )

        outcomes = run_at_once(
            partial(first.move_to, dt.date(2026, 9, 1), reason="Slipped to September."),
            partial(second.move_to, dt.date(2026, 12, 1), reason="Slipped to December."),
        )

        assert not [o for o in outcomes if isinstance(o, Exception)]
        changes = list(DateChange.objects.filter(milestone=milestone).order_by("created_at", "pk"))
        milestone.refresh_from_db()
        chained = (
            changes[0].old_date == dt.date(2026, 7, 1)
            and changes[1].old_date == changes[0].new_date
            and milestone.date == changes[1].new_date
        )
        if not chained:
            broken.append(trial)

    assert broken == []


def test_two_editors_making_the_same_move_at_once_record_it_once():
    refused = 0
    for _ in range(TRIALS):
        milestone = make_milestone(
            date=dt.date(2026, 7, 1), date_precision=Precision.MONTH, certainty=Certainty.EXPECTED
        )
        first, second = (
            Milestone.objects.get(pk=milestone.pk),
            Milestone.objects.get(pk=milestone.pk),
        )

        outcomes = run_at_once(
            partial(first.move_to, dt.date(2026, 9, 1), reason="Slipped to September."),
            partial(second.move_to, dt.date(2026, 9, 1), reason="Slipped to September."),
        )

        assert DateChange.objects.filter(milestone=milestone).count() == 1
        refused += sum(isinstance(o, ValidationError) for o in outcomes)

    assert refused == TRIALS


# --- A commitment's status updates -------------------------------------------------------------


def test_two_status_updates_at_once_leave_the_status_of_the_latest_update():
    mismatched = []
    for trial in range(5 * TRIALS):  # the window is narrow: many trials to be sure to hit it
        commitment = make_commitment(made_on=dt.date(2025, 4, 1))
        first = Commitment.objects.get(pk=commitment.pk)
        second = Commitment.objects.get(pk=commitment.pk)

        outcomes = run_at_once(
            partial(
                first.record_update,
                on=dt.date(2025, 7, 25),
                delivery_status=DeliveryStatus.DELIVERED,
            ),
            partial(
                second.record_update,
                on=dt.date(2025, 5, 1),
                delivery_status=DeliveryStatus.IN_PROGRESS,
            ),
        )

        assert not [o for o in outcomes if isinstance(o, Exception)]
        commitment.refresh_from_db()
        if commitment.delivery_status != DeliveryStatus.DELIVERED:
            mismatched.append(trial)

    assert mismatched == []


# --- Slugs ------------------------------------------------------------------------------------


def test_records_created_at_once_with_the_same_title_each_get_their_own_slug():
    failures = []
    for trial in range(3):
        title = f"Children's risk assessments due ({trial})"

        outcomes = run_at_once(*[partial(make_milestone, title=title)] * 8)

        failures += [o for o in outcomes if isinstance(o, Exception)]
        slugs = list(Milestone.objects.filter(title=title).values_list("slug", flat=True))
        assert len(set(slugs)) == len(slugs)

    assert failures == []
    assert Milestone.objects.count() == 24


def test_a_duplicate_key_still_fails_when_the_slug_is_taken_too():
    make_milestone(key="M21", title="Illegal harms duties in force")

    with pytest.raises(IntegrityError):
        make_milestone(key="M21", title="Illegal harms duties in force")

    assert Milestone.objects.filter(key="M21").count() == 1


# --- Publishing while the last source is removed -------------------------------------------------


def change_then_commit(
    change: Callable[[Milestone], Any], pk: int, both_changed: threading.Barrier
) -> None:
    """Make the change, wait until the other transaction has made its own, then commit."""
    with transaction.atomic():
        change(Milestone.objects.get(pk=pk))
        both_changed.wait(timeout=5)


def remove_citations(milestone: Milestone) -> None:
    """The citations deleted from their table directly, as a script or a bulk tool might."""
    Milestone.sources.through.objects.filter(milestone=milestone).delete()


def test_publishing_while_the_last_source_is_removed_never_leaves_a_public_record_uncited():
    """Each transaction makes its change, then both commit at once: each one's deferred check
    ran before the other had committed (write skew), and such trials published a milestone
    citing nothing. The check now waits for the record the other transaction is changing."""
    published_uncited = 0
    for _ in range(TRIALS):
        milestone = make_milestone(status=Status.DRAFT, sources=[make_source()])
        both_changed = threading.Barrier(2)
        outcomes = run_at_once(
            partial(change_then_commit, Milestone.publish, milestone.pk, both_changed),
            partial(change_then_commit, remove_citations, milestone.pk, both_changed),
        )
        milestone.refresh_from_db()
        published_uncited += milestone.is_published and not milestone.sources.exists()
        assert [type(outcome) for outcome in outcomes].count(IntegrityError) <= 1
    assert published_uncited == 0
