"""The questions the site asks of the timeline: what is published, upcoming, past, due, overdue.

"Today" is always the calendar day in Europe/London at the reference time. Querysets take that
time as `at=`; without it they read the clock, which the tests pin with time-machine.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from regulation.models import (
    Certainty,
    Commitment,
    DeliveryStatus,
    Milestone,
    Precision,
    Status,
)
from tests.factories import make_commitment, make_milestone, make_platform

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def keys(queryset) -> list[str]:
    return [record.key for record in queryset]


def expected_july_2026(**fields) -> Milestone:
    return make_milestone(
        key="JUL26",
        title="Categorised services register published",
        date=dt.date(2026, 7, 1),
        date_precision=Precision.MONTH,
        certainty=Certainty.EXPECTED,
        **fields,
    )


# --- Published ---------------------------------------------------------------------------------


def test_it_hides_draft_milestones_from_the_public():
    make_milestone(key="PUB", status=Status.PUBLISHED)
    make_milestone(key="DRAFT", status=Status.DRAFT)

    assert keys(Milestone.objects.published()) == ["PUB"]


def test_it_hides_draft_commitments_from_the_public():
    make_commitment(key="PUB", status=Status.PUBLISHED)
    make_commitment(key="DRAFT", status=Status.DRAFT)

    assert keys(Commitment.objects.published()) == ["PUB"]


def test_it_shows_only_published_upcoming_milestones_when_the_questions_are_chained():
    make_milestone(key="PUB", date=dt.date(2026, 1, 10))
    make_milestone(key="DRAFT", date=dt.date(2026, 1, 10), status=Status.DRAFT)
    make_milestone(key="OLD", date=dt.date(2025, 1, 10))

    upcoming = Milestone.objects.published().upcoming(at=dt.date(2026, 1, 1))

    assert keys(upcoming) == ["PUB"]


# --- Upcoming and past -------------------------------------------------------------------------


def test_a_milestone_due_today_is_still_upcoming():
    make_milestone(key="TODAY", date=dt.date(2025, 7, 25))
    make_milestone(key="YESTERDAY", date=dt.date(2025, 7, 24))

    assert keys(Milestone.objects.upcoming(at=dt.date(2025, 7, 25))) == ["TODAY"]
    assert keys(Milestone.objects.past(at=dt.date(2025, 7, 25))) == ["YESTERDAY"]


def test_an_expected_month_is_upcoming_until_the_month_is_over():
    expected_july_2026()

    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 7, 15))) == ["JUL26"]
    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 7, 31))) == ["JUL26"]
    assert keys(Milestone.objects.past(at=dt.date(2026, 7, 31))) == []


def test_an_expected_month_is_past_once_the_next_month_begins():
    expected_july_2026()

    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 8, 1))) == []
    assert keys(Milestone.objects.past(at=dt.date(2026, 8, 1))) == ["JUL26"]


def test_a_year_is_upcoming_until_31_december():
    make_milestone(key="2027", date=dt.date(2027, 1, 1), date_precision=Precision.YEAR)

    assert keys(Milestone.objects.upcoming(at=dt.date(2027, 12, 31))) == ["2027"]
    assert keys(Milestone.objects.past(at=dt.date(2028, 1, 1))) == ["2027"]


def test_upcoming_milestones_come_soonest_first_by_the_last_day_they_could_be():
    make_milestone(key="YEAR", date=dt.date(2027, 1, 1), date_precision=Precision.YEAR)
    make_milestone(key="QUARTER", date=dt.date(2026, 7, 1), date_precision=Precision.QUARTER)
    make_milestone(key="DAY", date=dt.date(2026, 7, 10))
    make_milestone(key="MONTH", date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)
    make_milestone(key="TODAY", date=dt.date(2026, 6, 1))

    upcoming = Milestone.objects.upcoming(at=dt.date(2026, 6, 1))

    # July 2026 could be 31 July, so it never comes before 10 July; Q3 could be 30 September.
    assert keys(upcoming) == ["TODAY", "DAY", "MONTH", "QUARTER", "YEAR"]


def test_past_milestones_come_most_recent_first():
    make_milestone(key="OLDEST", date=dt.date(2023, 10, 26))
    make_milestone(key="RECENT", date=dt.date(2025, 7, 25))
    make_milestone(key="MONTH", date=dt.date(2025, 3, 1), date_precision=Precision.MONTH)
    make_milestone(key="FUTURE", date=dt.date(2026, 1, 1))

    past = Milestone.objects.past(at=dt.date(2025, 12, 1))

    assert keys(past) == ["RECENT", "MONTH", "OLDEST"]


def test_upcoming_reads_the_clock_when_no_time_is_given():
    make_milestone(key="TODAY", date=dt.date(2025, 7, 25))
    make_milestone(key="YESTERDAY", date=dt.date(2025, 7, 24))

    with time_machine.travel(dt.datetime(2025, 7, 25, 9, 0, tzinfo=LONDON), tick=False):
        assert keys(Milestone.objects.upcoming()) == ["TODAY"]
        assert keys(Milestone.objects.past()) == ["YESTERDAY"]


# --- Around midnight and the clock changes in London ------------------------------------------


@pytest.mark.parametrize(
    ("instant", "london_day"),
    [
        # Summer time: 23:30 UTC is already 00:30 BST the next day.
        pytest.param(dt.datetime(2025, 7, 24, 23, 30, tzinfo=UTC), dt.date(2025, 7, 25), id="bst"),
        # Greenwich time, the last second before the clocks go forward.
        pytest.param(
            dt.datetime(2025, 3, 29, 23, 59, 59, tzinfo=UTC), dt.date(2025, 3, 29), id="gmt-eve"
        ),
        pytest.param(dt.datetime(2025, 3, 30, 0, 0, tzinfo=UTC), dt.date(2025, 3, 30), id="gmt"),
        # Spring forward on 30 March 2025: 01:00 GMT becomes 02:00 BST.
        pytest.param(
            dt.datetime(2025, 3, 30, 0, 59, tzinfo=UTC), dt.date(2025, 3, 30), id="before-spring"
        ),
        pytest.param(
            dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC), dt.date(2025, 3, 30), id="after-spring"
        ),
        pytest.param(
            dt.datetime(2025, 3, 30, 22, 59, tzinfo=UTC), dt.date(2025, 3, 30), id="spring-night"
        ),
        pytest.param(
            dt.datetime(2025, 3, 30, 23, 0, tzinfo=UTC), dt.date(2025, 3, 31), id="spring-midnight"
        ),
        # Fall back on 26 October 2025: 02:00 BST becomes 01:00 GMT.
        pytest.param(
            dt.datetime(2025, 10, 25, 23, 30, tzinfo=UTC), dt.date(2025, 10, 26), id="autumn-bst"
        ),
        pytest.param(
            dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC), dt.date(2025, 10, 26), id="first-01:30"
        ),
        pytest.param(
            dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC), dt.date(2025, 10, 26), id="second-01:30"
        ),
        pytest.param(
            dt.datetime(2025, 10, 26, 23, 30, tzinfo=UTC), dt.date(2025, 10, 26), id="autumn-gmt"
        ),
        pytest.param(
            dt.datetime(2025, 10, 27, 0, 0, tzinfo=UTC), dt.date(2025, 10, 27), id="autumn-midnight"
        ),
    ],
)
class TestTodayIsTheCalendarDayInLondon:
    def milestones_around(self, london_day: dt.date) -> None:
        make_milestone(key="YESTERDAY", date=london_day - dt.timedelta(days=1))
        make_milestone(key="TODAY", date=london_day)

    def test_when_given_the_time(self, instant, london_day):
        self.milestones_around(london_day)

        assert keys(Milestone.objects.upcoming(at=instant)) == ["TODAY"]
        assert keys(Milestone.objects.past(at=instant)) == ["YESTERDAY"]
        assert keys(Milestone.objects.due_on(london_day)) == ["TODAY"]

    def test_when_reading_the_clock(self, instant, london_day):
        self.milestones_around(london_day)

        with time_machine.travel(instant, tick=False):
            assert keys(Milestone.objects.upcoming()) == ["TODAY"]
            assert keys(Milestone.objects.past()) == ["YESTERDAY"]

    def test_a_commitment_due_yesterday_is_overdue_and_one_due_today_is_not(
        self, instant, london_day
    ):
        make_commitment(key="YESTERDAY", due_on=london_day - dt.timedelta(days=1))
        make_commitment(key="TODAY", due_on=london_day)

        assert keys(Commitment.objects.overdue(at=instant)) == ["YESTERDAY"]
        with time_machine.travel(instant, tick=False):
            assert keys(Commitment.objects.overdue()) == ["YESTERDAY"]


def test_a_london_time_with_its_own_offset_gives_the_same_day():
    make_milestone(key="TODAY", date=dt.date(2025, 7, 25))

    just_after_midnight = dt.datetime(2025, 7, 25, 0, 30, tzinfo=LONDON)

    assert keys(Milestone.objects.upcoming(at=just_after_midnight)) == ["TODAY"]
    with time_machine.travel(just_after_midnight, tick=False):
        assert keys(Milestone.objects.upcoming()) == ["TODAY"]


# --- Due between two days ----------------------------------------------------------------------


def test_a_window_includes_day_dates_on_both_of_its_boundaries():
    make_milestone(key="BEFORE", date=dt.date(2025, 7, 20))
    make_milestone(key="FIRST", date=dt.date(2025, 7, 21))
    make_milestone(key="LAST", date=dt.date(2025, 7, 27))
    make_milestone(key="AFTER", date=dt.date(2025, 7, 28))

    due = Milestone.objects.due_between(dt.date(2025, 7, 21), dt.date(2025, 7, 27))

    assert keys(due) == ["FIRST", "LAST"]


def test_a_window_includes_months_and_years_that_overlap_it():
    expected_july_2026()
    make_milestone(key="2026", date=dt.date(2026, 1, 1), date_precision=Precision.YEAR)
    make_milestone(key="JUN26", date=dt.date(2026, 6, 1), date_precision=Precision.MONTH)
    make_milestone(key="AUG26", date=dt.date(2026, 8, 1), date_precision=Precision.MONTH)

    due = Milestone.objects.due_between(dt.date(2026, 7, 13), dt.date(2026, 7, 19))

    assert keys(due) == ["JUL26", "2026"]


def test_a_window_includes_a_month_that_starts_on_its_last_day():
    expected_july_2026()

    assert keys(Milestone.objects.due_between(dt.date(2026, 6, 25), dt.date(2026, 7, 1))) == [
        "JUL26"
    ]
    assert keys(Milestone.objects.due_between(dt.date(2026, 6, 24), dt.date(2026, 6, 30))) == []


def test_a_month_entered_with_a_day_in_it_is_due_in_every_week_of_that_month():
    make_milestone(key="JUL26", date=dt.date(2026, 7, 15), date_precision=Precision.MONTH)

    due = Milestone.objects.due_between(dt.date(2026, 7, 6), dt.date(2026, 7, 12))

    assert keys(due) == ["JUL26"]


def test_due_on_finds_day_dates_and_the_periods_containing_the_day():
    make_milestone(key="DAY", date=dt.date(2026, 7, 16))
    make_milestone(key="OTHER_DAY", date=dt.date(2026, 7, 17))
    expected_july_2026()

    assert keys(Milestone.objects.due_on(dt.date(2026, 7, 16))) == ["DAY", "JUL26"]


# --- For a platform ----------------------------------------------------------------------------


def test_it_finds_milestones_naming_a_platform_directly_or_through_a_commitment():
    roblox, discord = make_platform("Roblox"), make_platform("Discord")
    named = make_milestone(key="NAMED", date=dt.date(2025, 3, 17), platforms=[roblox])
    promised = make_milestone(key="PROMISED", date=dt.date(2025, 7, 25))
    make_commitment(platforms=[roblox], milestones=[promised])
    make_milestone(key="DISCORD", date=dt.date(2025, 9, 1), platforms=[discord])
    make_milestone(key="NOBODY", date=dt.date(2025, 9, 2))

    assert keys(Milestone.objects.for_platform(roblox)) == [named.key, promised.key]


def test_a_milestone_linked_to_a_platform_in_several_ways_appears_once(
    django_assert_num_queries,
):
    roblox, discord = make_platform("Roblox"), make_platform("Discord")
    milestone = make_milestone(key="M1", platforms=[roblox, discord])
    make_commitment(platforms=[roblox], milestones=[milestone])
    make_commitment(platforms=[roblox, discord], milestones=[milestone])

    with django_assert_num_queries(1):
        found = keys(Milestone.objects.for_platform(roblox))

    assert found == ["M1"]


def test_milestones_for_a_platform_can_be_narrowed_further():
    roblox = make_platform("Roblox")
    make_milestone(key="PAST", date=dt.date(2025, 3, 17), platforms=[roblox])
    make_milestone(key="SOON", date=dt.date(2026, 3, 17), platforms=[roblox])
    make_milestone(key="DRAFT", date=dt.date(2026, 3, 18), platforms=[roblox], status="draft")

    found = Milestone.objects.published().for_platform(roblox).upcoming(at=dt.date(2026, 1, 1))

    assert keys(found) == ["SOON"]


def test_a_commitment_by_several_platforms_appears_once_for_each(django_assert_num_queries):
    roblox, discord, snap = make_platform("Roblox"), make_platform("Discord"), make_platform()
    make_commitment(key="JOINT", made_on=dt.date(2025, 4, 1), platforms=[roblox, discord])
    make_commitment(key="ROBLOX", made_on=dt.date(2025, 5, 1), platforms=[roblox])
    make_commitment(key="SNAP", platforms=[snap])

    with django_assert_num_queries(1):
        for_roblox = keys(Commitment.objects.for_platform(roblox))

    assert for_roblox == ["ROBLOX", "JOINT"]
    assert keys(Commitment.objects.for_platform(discord)) == ["JOINT"]


# --- Overdue and review ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [DeliveryStatus.ANNOUNCED, DeliveryStatus.IN_PROGRESS, DeliveryStatus.UNVERIFIED],
)
def test_an_open_commitment_past_its_due_date_is_overdue(status):
    make_commitment(key="LATE", due_on=dt.date(2025, 7, 24), delivery_status=status)

    assert keys(Commitment.objects.overdue(at=dt.date(2025, 7, 25))) == ["LATE"]


@pytest.mark.parametrize(
    "status",
    [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.PARTIALLY_DELIVERED,
        DeliveryStatus.NOT_DELIVERED,
        DeliveryStatus.WITHDRAWN,
    ],
)
def test_a_settled_commitment_is_never_overdue(status):
    make_commitment(key="SETTLED", due_on=dt.date(2025, 7, 24), delivery_status=status)

    assert keys(Commitment.objects.overdue(at=dt.date(2026, 1, 1))) == []


def test_a_commitment_due_in_a_month_is_not_overdue_until_the_month_ends():
    make_commitment(key="JULY", due_on=dt.date(2025, 7, 1), due_precision=Precision.MONTH)

    assert keys(Commitment.objects.overdue(at=dt.date(2025, 7, 2))) == []
    assert keys(Commitment.objects.overdue(at=dt.date(2025, 7, 31))) == []
    assert keys(Commitment.objects.overdue(at=dt.date(2025, 8, 1))) == ["JULY"]


def test_a_commitment_without_a_due_date_is_never_overdue():
    make_commitment(key="OPEN_ENDED", due_on=None)

    assert keys(Commitment.objects.overdue(at=dt.date(2030, 1, 1))) == []


def test_overdue_commitments_for_a_platform():
    roblox, discord = make_platform("Roblox"), make_platform("Discord")
    make_commitment(key="ROBLOX_LATE", due_on=dt.date(2025, 7, 24), platforms=[roblox])
    make_commitment(key="ROBLOX_SOON", due_on=dt.date(2025, 12, 1), platforms=[roblox])
    make_commitment(key="DISCORD_LATE", due_on=dt.date(2025, 7, 24), platforms=[discord])

    overdue = Commitment.objects.for_platform(roblox).overdue(at=dt.date(2025, 9, 1))

    assert keys(overdue) == ["ROBLOX_LATE"]


def test_overdue_reads_the_clock_when_no_time_is_given():
    make_commitment(key="JULY", due_on=dt.date(2025, 7, 1), due_precision=Precision.MONTH)

    with time_machine.travel(dt.datetime(2025, 7, 31, 23, 59, tzinfo=LONDON), tick=False):
        assert keys(Commitment.objects.overdue()) == []
    with time_machine.travel(dt.datetime(2025, 8, 1, 0, 0, tzinfo=LONDON), tick=False):
        assert keys(Commitment.objects.overdue()) == ["JULY"]


def test_a_commitment_needs_review_on_and_after_its_review_day():
    make_commitment(key="DUE_TODAY", review_on=dt.date(2025, 9, 1))
    make_commitment(key="MISSED", made_on=dt.date(2025, 3, 1), review_on=dt.date(2025, 8, 1))
    make_commitment(key="LATER", review_on=dt.date(2025, 9, 2))
    make_commitment(key="NEVER", review_on=None)

    assert sorted(keys(Commitment.objects.review_date_reached(at=dt.date(2025, 9, 1)))) == [
        "DUE_TODAY",
        "MISSED",
    ]


def test_review_date_reached_reads_the_clock_in_london():
    make_commitment(key="REVIEW", review_on=dt.date(2025, 9, 1))

    # 23:30 UTC on 31 August is already 1 September in London.
    with time_machine.travel(dt.datetime(2025, 8, 31, 23, 30, tzinfo=UTC), tick=False):
        assert keys(Commitment.objects.review_date_reached()) == ["REVIEW"]
    with time_machine.travel(dt.datetime(2025, 8, 31, 22, 59, tzinfo=UTC), tick=False):
        assert keys(Commitment.objects.review_date_reached()) == []


# --- Seasons and the order of fuzzy dates ------------------------------------------------------


def expected_season(key: str, date: dt.date) -> Milestone:
    return make_milestone(
        key=key, date=date, date_precision=Precision.SEASON, certainty=Certainty.EXPECTED
    )


def test_an_expected_autumn_is_upcoming_until_30_november():
    expected_season("AUTUMN26", dt.date(2026, 9, 1))

    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 11, 30))) == ["AUTUMN26"]
    assert keys(Milestone.objects.past(at=dt.date(2026, 11, 30))) == []
    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 12, 1))) == []
    assert keys(Milestone.objects.past(at=dt.date(2026, 12, 1))) == ["AUTUMN26"]


def test_a_winter_is_upcoming_across_the_year_end_until_the_end_of_february():
    expected_season("WINTER", dt.date(2026, 12, 1))

    assert keys(Milestone.objects.upcoming(at=dt.date(2027, 1, 1))) == ["WINTER"]
    assert keys(Milestone.objects.upcoming(at=dt.date(2027, 2, 28))) == ["WINTER"]
    assert keys(Milestone.objects.past(at=dt.date(2027, 3, 1))) == ["WINTER"]


@pytest.mark.parametrize(
    ("start", "end", "due"),
    [
        pytest.param(dt.date(2026, 8, 25), dt.date(2026, 9, 1), ["AUTUMN26"], id="first-day"),
        pytest.param(
            dt.date(2026, 11, 30), dt.date(2026, 12, 6), ["AUTUMN26", "WINTER"], id="turn"
        ),
        pytest.param(dt.date(2027, 2, 22), dt.date(2027, 2, 28), ["WINTER"], id="last-day"),
        pytest.param(dt.date(2027, 3, 1), dt.date(2027, 3, 7), ["SPRING27"], id="spring"),
        pytest.param(dt.date(2026, 8, 1), dt.date(2026, 8, 31), [], id="summer-gap"),
    ],
)
def test_a_window_includes_the_seasons_that_overlap_it(start, end, due):
    expected_season("AUTUMN26", dt.date(2026, 9, 1))
    expected_season("WINTER", dt.date(2026, 12, 1))
    expected_season("SPRING27", dt.date(2027, 3, 1))

    assert keys(Milestone.objects.due_between(start, end)) == due


def test_a_less_precise_date_never_comes_before_a_more_precise_one_that_could_be_earlier():
    make_milestone(key="YEAR26", date=dt.date(2026, 1, 1), date_precision=Precision.YEAR)
    make_milestone(key="MARCH26", date=dt.date(2026, 3, 1), date_precision=Precision.MONTH)
    expected_season("AUTUMN26", dt.date(2026, 9, 1))
    make_milestone(key="OCT15", date=dt.date(2026, 10, 15))
    make_milestone(key="Q4", date=dt.date(2026, 10, 1), date_precision=Precision.QUARTER)
    make_milestone(key="DEC31", date=dt.date(2026, 12, 31))
    make_milestone(key="DEC26", date=dt.date(2026, 12, 1), date_precision=Precision.MONTH)
    expected_season("WINTER", dt.date(2026, 12, 1))
    make_milestone(key="JAN27", date=dt.date(2027, 1, 1), date_precision=Precision.MONTH)

    soonest_first = [
        "MARCH26",  # before 2026, which could be any day of the year
        "OCT15",  # before autumn 2026, which could be 30 November
        "AUTUMN26",
        "DEC31",  # 31 December 2026 before December 2026, Q4 2026 and 2026: all could end then
        "DEC26",
        "Q4",
        "YEAR26",
        "JAN27",
        "WINTER",  # could be as late as 28 February 2027
    ]
    assert keys(Milestone.objects.all()) == soonest_first
    assert keys(Milestone.objects.upcoming(at=dt.date(2026, 1, 1))) == soonest_first
    assert keys(Milestone.objects.due_between(dt.date(2026, 1, 1), dt.date(2027, 2, 28))) == (
        soonest_first
    )


def test_past_milestones_list_the_more_precise_of_dates_ending_together_first():
    make_milestone(key="YEAR25", date=dt.date(2025, 1, 1), date_precision=Precision.YEAR)
    make_milestone(key="DEC31", date=dt.date(2025, 12, 31))
    make_milestone(key="DEC25", date=dt.date(2025, 12, 1), date_precision=Precision.MONTH)
    expected_season("AUTUMN25", dt.date(2025, 9, 1))
    make_milestone(key="NOV30", date=dt.date(2025, 11, 30))

    past = Milestone.objects.past(at=dt.date(2026, 6, 1))

    assert keys(past) == ["DEC31", "DEC25", "YEAR25", "NOV30", "AUTUMN25"]
