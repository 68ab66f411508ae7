"""The database itself refuses records that would make the knowledge wrong.

Each test bypasses model validation (a direct save or a queryset update), so a bug in a form,
an import or a shell session still cannot store the bad row.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from regulation.models import (
    DATE_NOT_MOVED,
    Commitment,
    CommitmentUpdate,
    DateChange,
    DeliveryStatus,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Precision,
    Source,
    Unit,
    choices_check,
)
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)

pytestmark = pytest.mark.django_db


# --- Identity ----------------------------------------------------------------------------------


def test_it_refuses_two_milestones_with_the_same_slug():
    make_milestone(title="Illegal harms duties in force", slug="illegal-harms")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_milestone(title="Another milestone", slug="illegal-harms")


@pytest.mark.parametrize(
    "make",
    [make_milestone, make_source, make_observation, make_commitment],
    ids=lambda f: f.__name__,
)
def test_it_refuses_two_records_with_the_same_key(make):
    make(key="M21")

    with pytest.raises(IntegrityError), transaction.atomic():
        make(key="M21")


def test_it_allows_many_records_without_a_key():
    # New records get a key in their series; the database still allows none (a blank key).
    milestones = [make_milestone().pk, make_milestone().pk]
    sources = [make_source().pk, make_source().pk]
    Milestone.objects.filter(pk__in=milestones).update(key=None)
    Source.objects.filter(pk__in=sources).update(key=None)

    assert Milestone.objects.filter(key=None).count() == 2
    assert Source.objects.filter(key=None).count() == 2


# --- Observations --------------------------------------------------------------------------------


def test_it_refuses_an_observation_period_that_ends_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_observation(period_start=dt.date(2024, 4, 1), period_end=dt.date(2023, 3, 31))


def test_it_accepts_an_observation_period_of_a_single_day_or_with_an_open_end():
    make_observation(period_start=dt.date(2024, 4, 1), period_end=dt.date(2024, 4, 1))
    make_observation(period_start=dt.date(2024, 4, 1), period_end=None)

    assert Observation.objects.count() == 2


@pytest.mark.parametrize("value", [Decimal("-1"), Decimal("100.5")])
def test_it_refuses_a_percentage_outside_0_to_100(value):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_observation(unit=Unit.PERCENT, value=value, value_text=f"{value}%")


@pytest.mark.parametrize("value", [Decimal("0"), Decimal("48"), Decimal("100")])
def test_it_accepts_a_percentage_from_0_to_100_inclusive(value):
    observation = make_observation(unit=Unit.PERCENT, value=value, value_text=f"{value}%")

    observation.refresh_from_db()
    assert observation.value == value


def test_it_accepts_a_percentage_change_above_100():
    observation = make_observation(
        unit=Unit.PERCENT_CHANGE, value=Decimal("189"), value_text="+189%"
    )

    observation.refresh_from_db()
    assert observation.value == Decimal("189")


def test_it_refuses_a_percentage_pushed_out_of_range_by_a_queryset_update():
    observation = make_observation(unit=Unit.PERCENT, value=Decimal("48"), value_text="48%")

    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.filter(pk=observation.pk).update(value=Decimal("148"))


def test_it_explains_a_percentage_out_of_range_when_validating_the_model():
    observation = Observation(
        indicator=make_indicator(),
        metric="Children who saw harmful content",
        value_text="148%",
        value=Decimal("148"),
        unit=Unit.PERCENT,
        period_label="2024",
    )

    with pytest.raises(ValidationError) as refused:
        observation.full_clean()

    assert "A percentage must lie between 0 and 100." in refused.value.messages


def test_it_explains_an_observation_period_that_ends_before_it_starts():
    observation = Observation(
        indicator=make_indicator(),
        metric="Offences recorded by police",
        value_text="7,062",
        period_label="2023/24",
        period_start=dt.date(2024, 4, 1),
        period_end=dt.date(2023, 3, 31),
    )

    with pytest.raises(ValidationError) as refused:
        observation.full_clean()

    assert "The period cannot end before it starts." in refused.value.messages


# --- Commitment updates --------------------------------------------------------------------------


def test_it_refuses_a_status_update_saved_directly_with_a_date_before_the_commitment():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentUpdate(
            commitment=commitment,
            on=dt.date(2025, 3, 31),
            delivery_status=DeliveryStatus.DELIVERED,
        ).save()


def test_it_refuses_a_status_update_moved_before_the_commitment_by_a_queryset_update():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    update = commitment.record_update(
        on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.IN_PROGRESS
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        CommitmentUpdate.objects.filter(pk=update.pk).update(on=dt.date(2025, 3, 1))


def test_it_accepts_a_status_update_on_the_day_the_commitment_was_made():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))

    commitment.record_update(on=dt.date(2025, 4, 1), delivery_status=DeliveryStatus.IN_PROGRESS)

    assert commitment.updates.count() == 1


def test_it_explains_a_status_update_dated_before_the_commitment():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    update = CommitmentUpdate(
        commitment=commitment, on=dt.date(2025, 3, 31), delivery_status=DeliveryStatus.DELIVERED
    )

    with pytest.raises(ValidationError) as refused:
        update.clean()

    assert refused.value.message_dict == {
        "on": ["A status update cannot be dated before the commitment was made."]
    }


def test_it_explains_a_commitment_date_moved_after_its_first_status_update():
    commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    commitment.record_update(on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.IN_PROGRESS)

    commitment.made_on = dt.date(2025, 6, 1)
    with pytest.raises(ValidationError) as refused:
        commitment.full_clean()

    assert refused.value.message_dict["made_on"] == [
        "A status update is dated 01 May 2025, before this date."
    ]


# --- Date changes and milestone periods ----------------------------------------------------------


def july_2026_date_change(**new: object) -> DateChange:
    """A change from 'expected July 2026' to the new values given (by default, the same)."""
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)
    july = {"date": dt.date(2026, 7, 1), "precision": Precision.MONTH, "certainty": "expected"}
    return DateChange(
        milestone=milestone,
        **{f"old_{name}": value for name, value in july.items()},
        **{f"new_{name}": value for name, value in {**july, **new}.items()},
        reason="Ofcom's update.",
    )


def test_it_refuses_a_date_change_that_does_not_move_the_date():
    change = july_2026_date_change()

    with pytest.raises(IntegrityError), transaction.atomic():
        change.save()


def test_it_accepts_a_date_change_that_only_confirms_the_date():
    change = july_2026_date_change(certainty="confirmed")

    change.save()

    assert change.pk is not None


def test_it_accepts_a_date_change_that_only_narrows_the_precision():
    change = july_2026_date_change(precision=Precision.DAY, certainty="confirmed")

    change.save()

    assert change.milestone.date_changes.count() == 1


def test_it_explains_a_date_change_that_does_not_move_the_date():
    change = july_2026_date_change()

    with pytest.raises(ValidationError) as refused:
        change.full_clean()

    assert DATE_NOT_MOVED in refused.value.messages


def test_it_refuses_a_milestone_whose_period_ends_before_it_starts():
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(date_end=dt.date(2026, 6, 30))


def test_it_refuses_a_commitment_due_period_that_ends_before_it_starts():
    commitment = make_commitment(due_on=dt.date(2025, 7, 25))

    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(due_end=dt.date(2025, 7, 24))


# --- Choices ----------------------------------------------------------------------------------

# One saved record of each model that has a choices field, made the ordinary way.
RECORD_OF = {
    Organisation: lambda: Organisation.objects.create(name="Ofcom"),
    Platform: make_platform,
    Source: make_source,
    Instrument: lambda: Instrument.objects.create(
        title="Protection of Children Code of Practice",
        kind=Instrument.Kind.CODE_OF_PRACTICE,
        stage=Instrument.Stage.FINAL,
    ),
    Measure: lambda: Measure.objects.create(title="Age assurance", summary="Check ages."),
    Milestone: make_milestone,
    DateChange: lambda: make_milestone().move_to(dt.date(2025, 4, 1), reason="Delayed."),
    Commitment: make_commitment,
    CommitmentUpdate: lambda: make_commitment().record_update(
        on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.IN_PROGRESS
    ),
    Indicator: make_indicator,
    Observation: make_observation,
}

CHOICES_FIELDS = [
    field
    for model in apps.get_app_config("regulation").get_models()
    if not model._meta.model_name.startswith("historical")  # history keeps what was stored
    for field in model._meta.concrete_fields
    if field.choices
]


def field_id(field) -> str:
    return f"{field.model.__name__}.{field.name}"


@pytest.mark.parametrize("field", CHOICES_FIELDS, ids=field_id)
def test_it_refuses_a_value_outside_the_choices_set_by_a_queryset_update(field):
    assert field.model in RECORD_OF, f"add a {field.model.__name__} to RECORD_OF"
    record = RECORD_OF[field.model]()

    with pytest.raises(IntegrityError), transaction.atomic():
        field.model.objects.filter(pk=record.pk).update(**{field.name: "week"})


@pytest.mark.parametrize("field", [f for f in CHOICES_FIELDS if not f.blank], ids=field_id)
def test_it_refuses_a_blank_value_where_the_field_needs_a_choice(field):
    record = RECORD_OF[field.model]()

    with pytest.raises(IntegrityError), transaction.atomic():
        field.model.objects.filter(pk=record.pk).update(**{field.name: ""})


def test_it_explains_a_precision_outside_the_choices_when_validating_the_model():
    milestone = make_milestone()
    milestone.date_precision = "week"

    with pytest.raises(ValidationError) as refused:
        milestone.full_clean()

    assert list(refused.value.message_dict) == ["date_precision"]


def test_a_choices_check_admits_a_blank_value_only_when_told():
    strict = choices_check("date_precision", Precision)
    lenient = choices_check("date_precision", Precision, blank=True)

    assert strict.condition.children == [("date_precision__in", list(Precision.values))]
    assert lenient.condition.children == [("date_precision__in", [*Precision.values, ""])]
