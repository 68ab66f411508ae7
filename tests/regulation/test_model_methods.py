"""Changes to one record: moving a milestone, publishing, recording news about a commitment."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from regulation.models import (
    PUBLISH_WITHOUT_SOURCE,
    Certainty,
    Commitment,
    CommitmentUpdate,
    DeliveryStatus,
    Instrument,
    Milestone,
    Precision,
    Status,
    Verification,
)
from tests.factories import make_commitment, make_indicator, make_milestone, make_source

pytestmark = pytest.mark.django_db


# --- A milestone's date ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "precision", "date_end"),
    [
        (dt.date(2024, 12, 16), Precision.DAY, dt.date(2024, 12, 16)),
        (dt.date(2024, 2, 1), Precision.MONTH, dt.date(2024, 2, 29)),
        (dt.date(2026, 7, 1), Precision.QUARTER, dt.date(2026, 9, 30)),
        (dt.date(2027, 1, 1), Precision.YEAR, dt.date(2027, 12, 31)),
    ],
)
def test_a_milestone_knows_the_last_day_of_its_date(date, precision, date_end):
    milestone = make_milestone(date=date, date_precision=precision)

    milestone.refresh_from_db()
    assert milestone.date_end == date_end


def test_a_month_milestone_entered_with_a_day_is_stored_as_the_whole_month():
    milestone = make_milestone(date=dt.date(2026, 7, 15), date_precision=Precision.MONTH)

    milestone.refresh_from_db()
    assert (milestone.date, milestone.date_end) == (dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    assert milestone.date_display == "July 2026"


def test_saving_only_the_date_keeps_the_last_day_in_step():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.date = dt.date(2026, 9, 1)
    milestone.save(update_fields=["date"])

    milestone.refresh_from_db()
    assert milestone.date_end == dt.date(2026, 9, 30)


def test_saving_only_the_precision_keeps_the_last_day_in_step():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.date_precision = Precision.YEAR
    milestone.save(update_fields=["date_precision"])

    milestone.refresh_from_db()
    assert milestone.date_end == dt.date(2026, 12, 31)


def test_a_confirmed_day_is_shown_as_that_day():
    milestone = make_milestone(date=dt.date(2024, 12, 16))

    assert milestone.date_display == "16 December 2024"
    assert milestone.date_iso == "2024-12-16"


def test_an_expected_month_is_shown_as_expected_without_a_day():
    milestone = make_milestone(
        date=dt.date(2026, 7, 1), date_precision=Precision.MONTH, certainty=Certainty.EXPECTED
    )

    assert milestone.date_display == "Expected: July 2026"
    assert milestone.date_iso == "2026-07"


def test_a_date_label_replaces_the_date_when_no_precision_fits():
    milestone = make_milestone(
        date=dt.date(2027, 1, 1),
        date_precision=Precision.YEAR,
        certainty=Certainty.EXPECTED,
        date_label="mid-2027",
    )

    assert milestone.date_display == "Expected: mid-2027"
    assert milestone.date_iso == "2027"


def test_an_expected_season_is_shown_as_the_season():
    milestone = make_milestone(
        date=dt.date(2026, 10, 14), date_precision=Precision.SEASON, certainty=Certainty.EXPECTED
    )

    milestone.refresh_from_db()
    assert (milestone.date, milestone.date_end) == (dt.date(2026, 9, 1), dt.date(2026, 11, 30))
    assert milestone.date_display == "Expected: autumn 2026"
    assert milestone.date_iso == "2026-23"


def test_a_winter_milestone_entered_in_january_is_the_winter_that_began_in_december():
    milestone = make_milestone(
        date=dt.date(2027, 1, 20), date_precision=Precision.SEASON, certainty=Certainty.EXPECTED
    )

    milestone.refresh_from_db()
    assert (milestone.date, milestone.date_end) == (dt.date(2026, 12, 1), dt.date(2027, 2, 28))
    assert milestone.date_display == "Expected: winter 2026–27"


@pytest.mark.parametrize("label", ["late 2026", "by the end of 2026", "autumn/winter 2026"])
def test_a_label_naming_the_year_is_shown_as_the_source_words_it(label):
    milestone = make_milestone(
        date=dt.date(2026, 1, 1),
        date_precision=Precision.YEAR,
        certainty=Certainty.EXPECTED,
        date_label=label,
    )

    assert milestone.date_display == f"Expected: {label}"


def test_a_label_that_does_not_name_the_year_keeps_the_date_beside_it():
    milestone = make_milestone(
        date=dt.date(2027, 1, 1),
        date_precision=Precision.YEAR,
        certainty=Certainty.EXPECTED,
        date_label="18 months after the guidance",
    )

    assert milestone.date_display == "Expected: 18 months after the guidance (2027)"


@pytest.mark.parametrize(
    ("precision", "certainty", "today", "passed"),
    [
        (Precision.MONTH, Certainty.EXPECTED, dt.date(2026, 8, 1), True),
        (Precision.MONTH, Certainty.EXPECTED, dt.date(2026, 7, 31), False),
        (Precision.MONTH, Certainty.CONFIRMED, dt.date(2026, 8, 1), False),
        (Precision.SEASON, Certainty.EXPECTED, dt.date(2026, 8, 31), False),
        (Precision.SEASON, Certainty.EXPECTED, dt.date(2026, 9, 1), True),
    ],
)
def test_an_expected_date_has_passed_unconfirmed_only_once_its_whole_period_is_over(
    precision, certainty, today, passed
):
    milestone = make_milestone(
        date=dt.date(2026, 7, 1), date_precision=precision, certainty=certainty
    )

    assert milestone.has_passed_unconfirmed(at=today) is passed


@pytest.mark.parametrize(
    ("precision", "certainty", "verification", "day_exact"),
    [
        (Precision.DAY, Certainty.CONFIRMED, Verification.CONFIRMED, True),
        # A day no cited source confirms (M59 before the November 2026 update).
        (Precision.DAY, Certainty.CONFIRMED, Verification.UNVERIFIED, False),
        (Precision.DAY, Certainty.EXPECTED, Verification.CONFIRMED, False),
        (Precision.MONTH, Certainty.CONFIRMED, Verification.CONFIRMED, False),
        (Precision.SEASON, Certainty.CONFIRMED, Verification.CONFIRMED, False),
        (Precision.YEAR, Certainty.EXPECTED, Verification.UNVERIFIED, False),
    ],
)
def test_only_a_confirmed_and_verified_day_is_day_exact(
    precision, certainty, verification, day_exact
):
    milestone = make_milestone(
        date=dt.date(2026, 7, 1),
        date_precision=precision,
        certainty=certainty,
        verification=verification,
    )

    assert milestone.is_day_exact is day_exact


# --- Moving a milestone ----------------------------------------------------------------------


def test_moving_a_milestone_keeps_the_old_date_as_a_date_change(editor):
    milestone = make_milestone(
        date=dt.date(2026, 7, 1), date_precision=Precision.MONTH, certainty=Certainty.EXPECTED
    )
    roadmap = make_source(title="Ofcom roadmap update")

    change = milestone.move_to(
        dt.date(2026, 10, 14),
        precision=Precision.DAY,
        certainty=Certainty.CONFIRMED,
        reason="Ofcom set the day in its updated roadmap.",
        source=roadmap,
        announced_on=dt.date(2026, 6, 2),
        by=editor,
    )

    change.refresh_from_db()
    assert (change.old_date, change.old_precision, change.old_certainty) == (
        dt.date(2026, 7, 1),
        Precision.MONTH,
        Certainty.EXPECTED,
    )
    assert (change.new_date, change.new_precision, change.new_certainty) == (
        dt.date(2026, 10, 14),
        Precision.DAY,
        Certainty.CONFIRMED,
    )
    assert change.reason == "Ofcom set the day in its updated roadmap."
    assert change.source == roadmap
    assert change.announced_on == dt.date(2026, 6, 2)
    assert change.created_by == editor
    assert str(change) == "July 2026 → 14 October 2026"


def test_moving_a_milestone_changes_its_date_and_the_last_day_of_its_period():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.move_to(dt.date(2027, 1, 1), precision=Precision.YEAR, reason="Delayed.")

    milestone.refresh_from_db()
    assert (milestone.date, milestone.date_precision, milestone.date_end) == (
        dt.date(2027, 1, 1),
        Precision.YEAR,
        dt.date(2027, 12, 31),
    )
    assert milestone.date_display == "2027"


def test_moving_a_milestone_keeps_its_precision_and_certainty_unless_told():
    milestone = make_milestone(
        date=dt.date(2026, 7, 1), date_precision=Precision.MONTH, certainty=Certainty.EXPECTED
    )

    milestone.move_to(dt.date(2026, 9, 1), reason="Slipped by two months.")

    milestone.refresh_from_db()
    assert milestone.date_display == "Expected: September 2026"
    assert milestone.date_end == dt.date(2026, 9, 30)


def test_moving_a_milestone_twice_keeps_the_whole_slippage_history():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.move_to(dt.date(2026, 9, 1), reason="First delay.")
    milestone.move_to(dt.date(2027, 1, 1), precision=Precision.YEAR, reason="Second delay.")

    history = [
        (str(change), change.reason) for change in milestone.date_changes.order_by("created_at")
    ]
    assert history == [
        ("July 2026 → September 2026", "First delay."),
        ("September 2026 → 2027", "Second delay."),
    ]


def test_moving_a_milestone_to_the_date_it_already_has_changes_nothing():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    with pytest.raises(ValidationError, match="the same as the old ones"):
        milestone.move_to(dt.date(2026, 7, 1), reason="Not really a move.")

    milestone.refresh_from_db()
    assert milestone.date_changes.count() == 0
    assert milestone.date_display == "July 2026"


def test_moving_a_month_milestone_to_another_day_of_that_month_changes_nothing():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    with pytest.raises(ValidationError, match="the same as the old ones"):
        milestone.move_to(dt.date(2026, 7, 20), reason="Still July.")

    assert milestone.date_changes.count() == 0


# --- Publishing --------------------------------------------------------------------------------


def test_a_record_without_a_source_cannot_be_published():
    milestone = make_milestone(status=Status.DRAFT)

    with pytest.raises(ValidationError) as refused:
        milestone.publish()

    assert refused.value.messages == [PUBLISH_WITHOUT_SOURCE]
    milestone.refresh_from_db()
    assert milestone.status == Status.DRAFT
    assert not Milestone.objects.published().exists()


def test_a_record_citing_a_source_can_be_published_and_unpublished():
    milestone = make_milestone(status=Status.DRAFT, sources=[make_source()])

    milestone.publish()

    assert list(Milestone.objects.published()) == [milestone]
    milestone.unpublish()
    assert not Milestone.objects.published().exists()


def test_a_commitment_follows_the_same_publishing_rule():
    commitment = make_commitment(status=Status.DRAFT)

    with pytest.raises(ValidationError):
        commitment.publish()
    commitment.sources.add(make_source())
    commitment.publish()

    assert list(Commitment.objects.published()) == [commitment]


# --- Slugs -------------------------------------------------------------------------------------


def test_a_slug_is_made_from_the_key_and_the_title():
    milestone = make_milestone(key="M21", title="Illegal harms duties in force")

    assert milestone.slug == "m21-illegal-harms-duties-in-force"


def test_a_new_record_s_slug_starts_with_the_key_it_is_given():
    milestone = make_milestone(title="Children's access assessments due")

    assert milestone.slug == f"{milestone.key.lower()}-childrens-access-assessments-due"


def test_a_slug_is_made_from_the_title_alone_for_a_type_without_keys():
    indicator = make_indicator(name="Children's access assessments due")

    assert indicator.slug == "childrens-access-assessments-due"


def test_records_with_the_same_title_get_different_slugs():
    slugs = [make_indicator(name="Consultation closes").slug for _ in range(3)]

    assert slugs == ["consultation-closes", "consultation-closes-2", "consultation-closes-3"]


def test_a_slug_given_by_an_editor_is_kept():
    milestone = make_milestone(title="Illegal harms duties in force", slug="illegal-harms")

    assert milestone.slug == "illegal-harms"


def test_a_slug_does_not_change_when_the_title_does():
    milestone = make_milestone(key="M21", title="Illegal harms duties in force")

    milestone.title = "Illegal content duties in force"
    milestone.save()

    milestone.refresh_from_db()
    assert milestone.slug == "m21-illegal-harms-duties-in-force"


def test_a_very_long_title_still_gives_a_slug_that_fits():
    title = "Ofcom publishes its statement on " + "protecting children from harms online " * 5
    milestones = [make_milestone(title=title) for _ in range(2)]

    assert all(len(milestone.slug) <= 80 for milestone in milestones)
    assert milestones[0].slug != milestones[1].slug
    assert not milestones[0].slug.endswith("-")


def test_an_instrument_slug_comes_from_its_short_name_or_its_title():
    code = Instrument.objects.create(
        title="Protection of Children Code of Practice for user-to-user services",
        short_name="Children's code (U2U)",
        kind=Instrument.Kind.CODE_OF_PRACTICE,
        stage=Instrument.Stage.IN_FORCE,
    )
    act = Instrument.objects.create(
        title="Online Safety Act 2023", kind=Instrument.Kind.ACT, stage=Instrument.Stage.IN_FORCE
    )

    assert code.slug == "childrens-code-u2u"
    assert act.slug == "online-safety-act-2023"


# --- Commitment updates ------------------------------------------------------------------------


def test_a_commitment_knows_the_last_day_it_is_due():
    commitment = make_commitment(due_on=dt.date(2025, 7, 1), due_precision=Precision.MONTH)

    commitment.refresh_from_db()
    assert commitment.due_end == dt.date(2025, 7, 31)


def test_saving_only_the_due_date_keeps_the_last_day_in_step():
    commitment = make_commitment(due_on=dt.date(2025, 7, 1), due_precision=Precision.MONTH)

    commitment.due_on = dt.date(2025, 9, 1)
    commitment.save(update_fields=["due_on"])

    commitment.refresh_from_db()
    assert commitment.due_end == dt.date(2025, 9, 30)


def test_a_status_update_dated_before_the_commitment_is_refused():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))

    with pytest.raises(ValidationError) as refused:
        commitment.record_update(on=dt.date(2025, 3, 31), delivery_status=DeliveryStatus.DELIVERED)

    assert refused.value.message_dict == {
        "on": ["A status update cannot be dated before the commitment was made."]
    }
    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.ANNOUNCED
    assert not CommitmentUpdate.objects.exists()


def test_the_latest_update_by_date_sets_the_commitment_status(editor):
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    evidence = make_source(title="Roblox newsroom: age checks for chat")

    update = commitment.record_update(
        on=dt.date(2025, 7, 25),
        delivery_status=DeliveryStatus.DELIVERED,
        note="Age estimation is live for all UK users.",
        evidence=evidence,
        by=editor,
    )

    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.DELIVERED
    assert (update.evidence, update.created_by) == (evidence, editor)
    assert str(update) == "25 July 2025: Delivered"


def test_an_update_known_only_to_the_month_is_shown_as_the_month():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))

    update = commitment.record_update(
        on=dt.date(2026, 1, 23), on_precision="month", delivery_status=DeliveryStatus.DELIVERED
    )

    update.refresh_from_db()
    assert update.on == dt.date(2026, 1, 1)
    assert str(update) == "January 2026: Delivered"


def test_an_older_update_recorded_later_does_not_override_the_newer_one():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    commitment.record_update(on=dt.date(2025, 7, 25), delivery_status=DeliveryStatus.DELIVERED)

    commitment.record_update(on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.IN_PROGRESS)

    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.DELIVERED
    assert [u.delivery_status for u in commitment.updates.all()] == [
        DeliveryStatus.IN_PROGRESS,
        DeliveryStatus.DELIVERED,
    ]


def test_of_two_updates_on_the_same_day_the_one_recorded_last_wins():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    commitment.record_update(on=dt.date(2025, 7, 25), delivery_status=DeliveryStatus.DELIVERED)

    commitment.record_update(
        on=dt.date(2025, 7, 25), delivery_status=DeliveryStatus.PARTIALLY_DELIVERED
    )

    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.PARTIALLY_DELIVERED


def test_a_delivered_commitment_is_no_longer_overdue():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1), due_on=dt.date(2025, 7, 1))
    assert list(Commitment.objects.overdue(at=dt.date(2025, 8, 1))) == [commitment]

    commitment.record_update(on=dt.date(2025, 7, 28), delivery_status=DeliveryStatus.DELIVERED)

    assert list(Commitment.objects.overdue(at=dt.date(2025, 8, 1))) == []


# --- History -----------------------------------------------------------------------------------


def test_history_records_who_changed_a_record(editor):
    milestone = make_milestone(title="Illegal harms duties in force")
    versions_before = milestone.history.count()
    versions_before = milestone.history.count()

    milestone.title = "Illegal content duties in force"
    milestone._history_user = editor
    milestone.save()

    latest = milestone.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == editor
    assert latest.title == "Illegal content duties in force"
    assert milestone.history.count() == versions_before + 1
    assert milestone.history.last().title == "Illegal harms duties in force"


def test_history_shows_what_changed_between_two_versions(editor):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.move_to(dt.date(2026, 9, 1), reason="Delayed.", by=editor)

    newer, older = milestone.history.all()[:2]
    changed = {
        change.field: (change.old, change.new) for change in newer.diff_against(older).changes
    }
    assert changed["date"] == (dt.date(2026, 7, 1), dt.date(2026, 9, 1))
    assert (older.date_end, newer.date_end) == (dt.date(2026, 7, 31), dt.date(2026, 9, 30))
    assert newer.history_user == editor


def test_history_records_who_recorded_a_status_update(editor):
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))

    commitment.record_update(
        on=dt.date(2025, 7, 25), delivery_status=DeliveryStatus.DELIVERED, by=editor
    )

    latest = commitment.history.first()
    assert latest.delivery_status == DeliveryStatus.DELIVERED
    assert latest.history_user == editor
    assert commitment.updates.get().history.get().history_user == editor


# --- Keeping derived copies true ---------------------------------------------------------------


def test_moving_a_commitment_date_keeps_its_updates_copy_of_it_current():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    update = commitment.record_update(on=dt.date(2025, 6, 1), delivery_status="in_progress")

    commitment.made_on = dt.date(2025, 5, 1)
    commitment.save()

    update.refresh_from_db()
    assert update.commitment_made_on == dt.date(2025, 5, 1)


def test_the_database_refuses_moving_a_commitment_after_its_updates():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    commitment.record_update(on=dt.date(2025, 6, 1), delivery_status="in_progress")

    commitment.made_on = dt.date(2025, 7, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        commitment.save()

    commitment.refresh_from_db()
    assert commitment.made_on == dt.date(2025, 4, 1)


def test_validation_explains_a_commitment_date_after_its_updates():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    commitment.record_update(on=dt.date(2025, 6, 1), delivery_status="in_progress")

    commitment.made_on = dt.date(2025, 7, 1)
    with pytest.raises(ValidationError, match="before this date"):
        commitment.full_clean()


def test_a_status_without_updates_behind_it_is_left_alone():
    commitment = make_commitment(delivery_status=DeliveryStatus.DELIVERED)

    commitment.refresh_delivery_status()

    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.DELIVERED


def test_the_user_who_moved_a_milestone_is_not_credited_with_later_saves(editor):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)
    milestone.move_to(dt.date(2026, 9, 1), reason="Slipped", by=editor)

    milestone.title = "Edited by a script"
    milestone.save()

    latest, moved = milestone.history.all()[:2]
    assert (moved.history_user, latest.history_user) == (editor, None)


def test_the_history_keeps_which_sources_each_version_cited(editor):
    first, second = make_source(), make_source()
    milestone = make_milestone(sources=[first, second])

    milestone.sources.remove(second)

    now, before = milestone.history.all()[:2]
    cited = [{row.source for row in version.sources.all()} for version in (before, now)]
    assert cited == [{first, second}, {first}]
