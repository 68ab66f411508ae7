"""The iCalendar feed of the timeline and the Atom feed of changes, read back with the
icalendar library and feedparser as calendar and feed readers would."""

import datetime as dt
from html.parser import HTMLParser
from xml.etree import ElementTree

import feedparser
import icalendar
import pytest
from django.urls import reverse

from regulation.dates import Certainty, Precision
from regulation.models import DeliveryStatus, Milestone
from tests.factories import make_commitment, make_milestone, make_platform, make_source
from tests.regulation.records import make_instrument, make_topic

pytestmark = pytest.mark.django_db
CALENDAR = reverse("regulation:calendar")
CHANGES = reverse("regulation:changes_feed")


def calendar(client, **params) -> icalendar.Calendar:
    response = client.get(CALENDAR, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content)


def events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["SUMMARY"]): event for event in cal.walk("VEVENT")}


def changes(client) -> feedparser.FeedParserDict:
    response = client.get(CHANGES)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_a_day_is_an_all_day_event_with_a_reminder(client):
    source = make_source(title="Statement: Protecting people from illegal harms online")
    milestone = make_milestone(
        title="Illegal harms duties in force", date=dt.date(2025, 3, 17), sources=[source]
    )

    event = events(calendar(client))["Illegal harms duties in force"]

    assert event.decoded("DTSTART") == dt.date(2025, 3, 17)  # a date, not a date-time
    assert event.decoded("DTEND") == dt.date(2025, 3, 18)  # exclusive end: one day
    assert str(event["URL"]) == f"http://testserver{milestone.get_absolute_url()}"
    description = str(event["DESCRIPTION"])
    assert "Statement: Protecting people from illegal harms online" in description
    assert source.url in description
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -dt.timedelta(hours=15)  # 09:00 the day before
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_month_is_an_all_day_span_of_the_month_named_in_its_summary(client):
    make_milestone(
        title="Register of categorised services published",
        date=dt.date(2026, 7, 1),
        date_precision=Precision.MONTH,
        certainty=Certainty.EXPECTED,
    )

    cal = calendar(client)
    (event,) = cal.walk("VEVENT")

    assert str(event["SUMMARY"]) == (
        "Register of categorised services published (Expected: July 2026)"
    )
    assert event.decoded("DTSTART") == dt.date(2026, 7, 1)
    assert event.decoded("DTEND") == dt.date(2026, 8, 1)
    assert str(event["TRANSP"]) == "TRANSPARENT" and str(event["STATUS"]) == "TENTATIVE"
    assert event.walk("VALARM") == []  # no reminder for a date nobody knows to the day
    assert "spanning the whole period" in str(cal["X-WR-CALDESC"])


def test_uids_are_stable_across_requests_and_filters(client):
    platform = make_platform("Snapchat", status="published", slug="snapchat")
    keyed = make_milestone(title="Keyed", key="M21", platforms=[platform])
    unkeyed = make_milestone(title="Unkeyed")
    Milestone.objects.filter(pk=unkeyed.pk).update(key=None)  # new ones get the next key

    first = {str(e["SUMMARY"]): str(e["UID"]) for e in calendar(client).walk("VEVENT")}
    keyed.move_to(dt.date(2025, 4, 1), reason="Ofcom moved it.")
    second = {str(e["SUMMARY"]): str(e["UID"]) for e in calendar(client).walk("VEVENT")}
    filtered = {
        str(e["SUMMARY"]): str(e["UID"])
        for e in calendar(client, platform="snapchat").walk("VEVENT")
    }

    assert (
        first
        == second
        == {"Keyed": "M21@osa-tracker", "Unkeyed": f"milestone-{unkeyed.pk}@osa-tracker"}
    )
    assert filtered == {"Keyed": "M21@osa-tracker"}


def test_a_moved_date_raises_the_events_sequence(client):
    milestone = make_milestone(title="Codes in force")
    assert events(calendar(client))["Codes in force"]["SEQUENCE"] == 0

    milestone.move_to(dt.date(2025, 5, 1), reason="Delayed.")

    assert events(calendar(client))["Codes in force"]["SEQUENCE"] == 1


def test_it_filters_by_platform_instrument_and_topic(client):
    snapchat = make_platform("Snapchat", status="published", slug="snapchat")
    codes = make_instrument(slug="illegal-content-codes")
    grooming = make_topic("Grooming", slug="grooming")
    make_milestone(title="Names Snapchat", platforms=[snapchat])
    by_commitment = make_milestone(title="Snapchat's promise is due")
    make_commitment(platforms=[snapchat], milestones=[by_commitment])
    by_instrument = make_milestone(title="Codes in force")
    by_instrument.instruments.set([codes])
    by_topic = make_milestone(title="Grooming measures")
    by_topic.topics.set([grooming])
    make_milestone(title="Unrelated")

    assert set(events(calendar(client, platform="snapchat"))) == {
        "Names Snapchat",
        "Snapchat's promise is due",
    }
    assert set(events(calendar(client, instrument="illegal-content-codes"))) == {"Codes in force"}
    assert set(events(calendar(client, topic="grooming"))) == {"Grooming measures"}
    assert len(events(calendar(client))) == 5
    named = calendar(client, platform="snapchat")
    assert str(named["X-WR-CALNAME"]) == "Online Safety Act tracker: Snapchat"


def test_an_unknown_or_draft_filter_is_not_found(client):
    make_platform("Draft platform", slug="draft-platform")

    assert client.get(CALENDAR, {"platform": "draft-platform"}).status_code == 404
    assert client.get(CALENDAR, {"topic": "no-such-topic"}).status_code == 404


def test_drafts_are_in_neither_feed(client):
    make_milestone(title="Published date")
    draft = make_milestone(title="Draft date", status="draft")
    draft_commitment = make_commitment(summary="Draft promise", status="draft")
    draft_commitment.record_update(on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.DELIVERED)

    assert set(events(calendar(client))) == {"Published date"}
    titles = " ".join(entry.title for entry in changes(client).entries)
    assert "Published date" in titles
    assert draft.title not in titles and "Draft promise" not in titles


def test_the_atom_feed_lists_new_records_moved_dates_and_status_updates(client):
    milestone = make_milestone(title="Children's codes in force")
    milestone.move_to(dt.date(2025, 7, 25), reason="Ofcom set the date.")
    commitment = make_commitment(summary="Snapchat will warn teens about strangers.")
    commitment.record_update(
        on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED, note="Launched."
    )

    feed = changes(client)

    titles = [entry.title for entry in feed.entries]
    assert f"Milestone added: {milestone}" in titles
    assert "Date moved: Children's codes in force (17 March 2025 → 25 July 2025)" in titles
    assert f"Status update (Delivered): {commitment}" in titles
    moved = next(e for e in feed.entries if e.title.startswith("Date moved"))
    assert moved.link == f"http://testserver{milestone.get_absolute_url()}"
    assert "Ofcom set the date." in moved.summary
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)
    assert feed.feed.title == "Online Safety Act tracker: what changed"


HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [a link](javascript:alert(3)) "
    '<a href="javascript:alert(4)">x</a> **still bold**'
)


def test_staff_text_in_the_atom_feed_is_sanitised_as_on_the_pages(client):
    milestone = make_milestone(title="Codes in force", description=HOSTILE)
    milestone.move_to(dt.date(2025, 7, 25), reason=HOSTILE)
    commitment = make_commitment(summary="Teen accounts by default")
    commitment.record_update(
        on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED, note=HOSTILE
    )

    response = client.get(CHANGES)

    # The summaries as a feed reader gets them: the XML read, its HTML unescaped once.
    atom = "{http://www.w3.org/2005/Atom}"
    entries = ElementTree.fromstring(response.content).iter(f"{atom}entry")
    summaries = [entry.findtext(f"{atom}summary") for entry in entries]
    summaries = [summary for summary in summaries if summary]  # the commitment has none
    assert len(summaries) == 3
    for summary in summaries:
        assert "<strong>still bold</strong>" in summary
        tags = TagsAndAttributes()
        tags.feed(summary)
        assert set(tags.names) <= {"p", "strong", "a"}
        assert not [name for name, _ in tags.attributes if name.startswith("on")]
        assert not [value for _, value in tags.attributes if "javascript" in (value or "")]


class TagsAndAttributes(HTMLParser):
    """The elements and attributes a browser would make of some HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.append(tag)
        self.attributes += attrs


def test_an_updated_record_is_a_new_entry_with_its_own_id(client):
    milestone = make_milestone(title="Codes in force")
    before = {entry.id for entry in changes(client).entries}

    Milestone.objects.filter(pk=milestone.pk).update(
        updated_at=milestone.created_at + dt.timedelta(days=2)
    )

    after = changes(client).entries
    assert after[0].title == f"Milestone updated: {milestone.key}: Codes in force"
    assert after[0].id not in before


@pytest.mark.parametrize("url", [CALENDAR, CHANGES])
def test_each_feed_answers_304_to_a_reader_that_is_up_to_date(
    client, url, django_assert_max_num_queries
):
    milestone = make_milestone(title="Codes in force")
    first = client.get(url)
    assert first["ETag"] and first["Last-Modified"]

    with django_assert_max_num_queries(2):
        by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    with django_assert_max_num_queries(2):
        by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_etag.status_code == by_date.status_code == 304

    milestone.move_to(dt.date(2025, 9, 1), reason="Moved.")
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_filtered_calendar_has_its_own_etag(client):
    make_platform("Snapchat", status="published", slug="snapchat")
    make_milestone(title="Codes in force")

    whole = client.get(CALENDAR)
    filtered = client.get(CALENDAR, {"platform": "snapchat"})

    assert whole["ETag"] != filtered["ETag"]
    assert (
        client.get(CALENDAR, {"platform": "snapchat"}, HTTP_IF_NONE_MATCH=whole["ETag"]).status_code
        == 200
    )


def test_the_seed_calendar_has_one_event_per_published_milestone(seeded, client):
    cal = calendar(client)

    uids = [str(event["UID"]) for event in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids)) == Milestone.objects.published().count()
    assert "M21@osa-tracker" in uids
    assert changes(client).entries
