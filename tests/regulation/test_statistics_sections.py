"""Every published indicator has its own section on the statistics page, and every published
figure its own row, at the addresses Indicator and Observation give as their URLs."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from regulation.models import Indicator, Observation
from tests.factories import make_indicator, make_observation, make_source

pytestmark = pytest.mark.django_db
URL = reverse("regulation:statistics")


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def element_ids(html: str) -> Counter:
    return Counter(re.findall(r'\sid="([^"]+)"', html))


def section(html: str, slug: str) -> str:
    start = html.index(f'<section class="statistic" id="{slug}"')
    return html[start : html.index("</section>", start)]


def row(html: str, slug: str) -> str:
    start = html.index(f'<tr id="{slug}"')
    return html[start : html.index("</tr>", start)]


def test_every_published_observation_has_a_row_with_its_slug_as_id(seeded, client):
    ids = element_ids(page(client))

    slugs = list(Observation.objects.published().values_list("slug", flat=True))
    assert len(slugs) > 30  # the seed's figures beyond the two charted series
    assert [slug for slug in slugs if ids[slug] != 1] == []


def test_every_indicator_and_observation_url_resolves_to_an_element_on_the_page(seeded, client):
    ids = element_ids(page(client))
    records = [*Indicator.objects.published(), *Observation.objects.published()]

    unresolved = []
    for record in records:
        path, _, anchor = record.get_absolute_url().partition("#")
        if path != URL or ids[anchor] != 1:
            unresolved.append(record.get_absolute_url())
    assert unresolved == []


def test_element_ids_on_the_page_are_unique(seeded, client):
    duplicates = [i for i, n in element_ids(page(client)).items() if n > 1]
    assert duplicates == []


def test_an_uncharted_indicator_shows_its_method_note_and_every_figure_as_published(client):
    source = make_source(title="Annual report 2024", key="SX1")
    indicator = make_indicator(
        name="Reports of child sexual abuse imagery",
        slug="iwf-reports",
        method_note="Counted by **analysts**.",
        publisher_name="Internet Watch Foundation",
        status="published",
    )
    make_observation(
        indicator=indicator,
        slug="iwf-reports-2024",
        metric="Reports confirmed",
        value_text="291,273",
        value=None,
        period_label="2024",
        coverage="Worldwide",
        notes="Including duplicates.",
        sources=[source],
        status="published",
    )

    html = section(page(client), "iwf-reports")

    assert "<h2 " in html and "Reports of child sexual abuse imagery</h2>" in html
    assert "<strong>analysts</strong>" in html  # the method note through the markdown filter
    assert "<caption" in html and 'scope="col"' in html
    figure = re.sub(r"\s+", " ", row(html, "iwf-reports-2024"))
    assert '<th scope="row">2024</th>' in figure
    for shown in ("291,273", "Worldwide", "Internet Watch Foundation", "Including duplicates."):
        assert shown in figure
    assert f'<a href="{source.get_absolute_url()}">Annual report 2024</a> (SX1)' in figure


def test_uncharted_figures_run_in_time_order(client):
    indicator = make_indicator(slug="ofcom-research", status="published")
    for label in ("2025", "2022", "2023/24"):
        make_observation(indicator=indicator, period_label=label, status="published")

    html = section(page(client), "ofcom-research")

    periods = re.findall(r'<th scope="row">([^<]+)</th>', html)
    assert periods == ["2022", "2023/24", "2025"]


def test_drafts_never_appear(client):
    published = make_indicator(slug="published-figures", status="published")
    make_observation(indicator=published, slug="a-published-figure", status="published")
    make_observation(indicator=published, slug="a-draft-figure", value_text="12,345")
    draft = make_indicator(slug="a-draft-indicator", name="Draft indicator name")
    make_observation(indicator=draft, slug="figure-of-a-draft-indicator", status="published")

    html = page(client)

    assert 'id="published-figures"' in html and 'id="a-published-figure"' in html
    for absent in ("a-draft-figure", "12,345", "a-draft-indicator", "Draft indicator name"):
        assert absent not in html
    assert "figure-of-a-draft-indicator" not in html
