"""The public site on the real seed data: every page answers, reads well and links the others."""

import datetime as dt
import io
from collections import Counter
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from regulation.models import (
    Commitment,
    DeliveryStatus,
    Instrument,
    Milestone,
    Observation,
    Platform,
    Source,
)
from tests.regulation.site.pages import crawl, get_page, main, outline, text

LONDON = ZoneInfo("Europe/London")
NOVEMBER_2026 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=LONDON)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def site(seeded, django_db_blocker) -> dict[str, str]:
    """Every page reachable from the home page, crawled once for the module."""
    from django.test import Client

    with django_db_blocker.unblock(), time_machine.travel(NOVEMBER_2026, tick=False):
        return crawl(Client())


def test_every_published_record_has_a_page_the_site_links_to(seeded, site):
    expected = [
        record.get_absolute_url()
        for model in (Milestone, Instrument, Platform, Commitment)
        for record in model.objects.published()
    ]

    assert not [url for url in expected if url not in site]
    assert any(url.startswith("/measures/") for url in site)
    assert any(url.startswith("/organisations/") for url in site)
    assert any(url.startswith("/sources/S") for url in site)
    assert any(url.startswith("/topics/") for url in site)


def test_every_page_has_one_h1_and_a_title_without_a_closing_full_stop(site):
    for url, html in site.items():
        page = outline(html)
        assert page.headings.count("h1") == 1, url
        assert not page.title.strip().endswith("."), (url, page.title)
        assert page.title.strip().endswith("Online Safety Act tracker") or url == "/", url


def test_headings_never_skip_a_level(site):
    for url, html in site.items():
        levels = [int(h[1]) for h in outline(main(html)).headings]
        assert levels[0] == 1, url
        assert all(b <= a + 1 for a, b in pairwise(levels)), (url, levels)


def test_every_page_has_the_layout_a_reader_needs(site):
    for url, html in site.items():
        assert 'class="skip-link" href="#content"' in html, url
        assert '<main id="content"' in html, url
        assert '<nav aria-label="Sections">' in html, url
        assert '<meta name="description" content="' in html, url
        assert 'for="site-search-q"' in html, url
        assert "style=" not in html and "<script" not in html, url


def test_detail_pages_carry_breadcrumbs_and_lists_do_not(site):
    assert 'aria-label="Breadcrumb"' in site[Milestone.objects.get(key="M21").get_absolute_url()]
    assert (
        'aria-label="Breadcrumb"' in site[Platform.objects.get(slug="snapchat").get_absolute_url()]
    )
    assert 'aria-label="Breadcrumb"' not in site[reverse("regulation:timeline")]


def test_the_footer_says_when_the_data_was_last_updated(site):
    assert "Data last updated" in site["/"]


def test_a_record_title_loses_its_full_stop_in_the_page_title(seeded, site):
    ending = Milestone.objects.published().filter(title__endswith=".").first()
    assert ending is not None, "the seed has a milestone title ending in a full stop"

    html = site[ending.get_absolute_url()]

    assert f"<title>{ending.title.rstrip('.')} – Online Safety Act tracker</title>" in html.replace(
        "&#x27;", "'"
    )


def test_the_home_page_shows_the_key_statistic_from_the_database(site):
    home = text(site["/"])

    assert "7,062" in home and "2023/24" in home
    assert "+89%" in home
    latest = Observation.objects.get(key="ST22")
    assert f"The latest year the data holds: {latest.value_text} in {latest.period_label}" in home
    assert 'href="/sources/S54/"' in site["/"]


def test_the_home_page_counts_commitments_by_status(site):
    counts = Counter(Commitment.objects.published().values_list("delivery_status", flat=True))
    home = text(site["/"])

    assert len(counts) > 1  # the releases record deliveries as well as announcements
    for status, count in counts.items():
        assert f"{DeliveryStatus(status).label} {count}" in home


def test_the_home_page_counts_down_to_the_next_compliance_deadline(seeded, client):
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, 0, tzinfo=LONDON), tick=False):
        home = text(get_page(client, "/"))

    deadline = home[home.index("Next compliance deadline") :]
    assert "16 March 2025" in deadline.split("Next deadlines")[0]
    assert "in 15 days" in deadline


def test_the_timeline_groups_every_published_milestone_by_year_and_month(seeded, site):
    timeline = site[reverse("regulation:timeline")]

    for milestone in Milestone.objects.published():
        assert milestone.get_absolute_url() in timeline
    assert '<h2 id="year-2025">2025</h2>' in timeline
    assert "<h3>March 2025</h3>" in timeline
    assert timeline.index("<h3>March 2025</h3>") < timeline.index("<h3>April 2025</h3>")


def test_the_timeline_marks_today_between_the_past_and_the_next_dates(seeded, site):
    timeline = site[reverse("regulation:timeline")]
    today = timeline.index('id="today"')
    after = Milestone.objects.published().upcoming(at=NOVEMBER_2026).first()
    before = Milestone.objects.published().past(at=NOVEMBER_2026).first()

    assert "Today: 29 November 2026" in timeline
    assert (
        timeline.index(before.get_absolute_url()) < today < timeline.index(after.get_absolute_url())
    )


def test_a_less_precise_date_is_listed_at_the_end_of_its_period(seeded, site):
    timeline = site[reverse("regulation:timeline")]

    assert "2027, month not known" in timeline
    assert timeline.index("Expected: mid-2027") > timeline.index("2027, month not known")


@pytest.mark.parametrize(
    ("query", "included", "excluded"),
    [
        ("?kind=compliance_deadline", "M21", "M01"),
        ("?when=upcoming", "M106", "M21"),
        ("?when=past", "M21", None),
        ("?platform=snapchat", None, "M01"),
        ("?topic=online-grooming", None, None),
        ("?phase=Phase+1+%E2%80%93+illegal+harms", "M21", "M01"),
        ("?instrument=online-safety-act-2023", None, None),
    ],
)
def test_each_timeline_filter_selects_through_its_queryset(
    seeded, client, query, included, excluded
):
    with time_machine.travel(NOVEMBER_2026, tick=False):
        html = get_page(client, reverse("regulation:timeline") + query)

    assert "Not recognised" not in html
    for key, present in ((included, True), (excluded, False)):
        if key and Milestone.objects.filter(key=key, status="published").exists():
            url = Milestone.objects.get(key=key).get_absolute_url()
            assert (url in html) is present, (query, key)


def test_the_filters_show_what_they_selected_so_the_url_can_be_shared(seeded, client):
    html = get_page(client, reverse("regulation:timeline") + "?kind=compliance_deadline")

    assert '<option value="compliance_deadline" selected>' in html
    assert "Clear the filters" in html


@pytest.mark.parametrize(
    "query", ["?kind=bogus", "?platform=no-such-platform", "?when=yesterday", "?topic=%00"]
)
def test_a_bad_filter_value_is_ignored_with_a_message_never_an_error(seeded, client, query):
    response = client.get(reverse("regulation:timeline") + query)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not recognised, so ignored" in html
    assert Milestone.objects.get(key="M21").get_absolute_url() in html


def test_a_platform_page_shows_its_scorecard_and_the_measures_against_its_commitments(site):
    snapchat = Platform.objects.get(slug="snapchat")
    html = text(site[snapchat.get_absolute_url()])

    for group in ("Delivered", "In progress", "Overdue", "Not delivered", "Unverified"):
        assert group in html
    assert "Grooming-relevant code measures" in html
    assert "No link recorded yet" in html
    assert "48%" in html  # ST04: the share of offences involving Snapchat


def test_a_note_naming_a_source_links_to_it(seeded, site):
    noted = next(
        m
        for m in Milestone.objects.published()
        if "S" in m.notes and any(c.isdigit() for c in m.notes)
    )
    html = site[noted.get_absolute_url()]

    assert 'class="notes"' in html
    assert '<a href="/sources/S' in html[html.index('class="notes"') :]


def test_a_source_page_lists_what_cites_it(seeded, site):
    source = Source.objects.get(key="S13")
    html = site[source.get_absolute_url()]

    for milestone in Milestone.objects.published().filter(sources=source):
        assert milestone.get_absolute_url() in html


def test_the_method_page_explains_the_labels_and_the_data(site):
    about = text(site[reverse("regulation:about")])

    for term in ("Confirmed", "Unverified", "Expected", "Primary source", "Secondary source"):
        assert term in about
    assert "Conflicting figures" in about
    assert "Fact releases loaded" in about
    assert "How to report an error" in about
    assert "A published record last changed on" in about


def test_robots_points_to_the_sitemap_and_the_sitemap_lists_the_pages(seeded, client, site):
    robots = client.get("/robots.txt").content.decode()
    sitemap = client.get("/sitemap.xml").content.decode()

    assert "Sitemap: http://testserver/sitemap.xml" in robots
    for url in site:
        if "?" not in url:
            assert f"<loc>http://testserver{url}</loc>" in sitemap, url


def test_the_favicon_is_a_static_file_the_layout_links(site):
    assert 'rel="icon" href="/static/regulation/favicon.' in site["/"]


def test_the_bench_data_copies_the_seeds_shapes_published_with_sources(seeded, client):
    from django.core.management import call_command

    milestones = Milestone.objects.published().count()
    snapchat = Platform.objects.get(slug="snapchat")
    snapchat_commitments = Commitment.objects.published().for_platform(snapchat).count()

    call_command("generate_bench_data", times=2, stdout=io.StringIO())

    assert Milestone.objects.published().count() == 3 * milestones
    assert Commitment.objects.published().for_platform(snapchat).count() == 3 * snapchat_commitments
    copy = Milestone.objects.get(key="M21-b2")
    assert copy.sources.exists() and copy.date == Milestone.objects.get(key="M21").date
    assert client.get(copy.get_absolute_url()).status_code == 200
