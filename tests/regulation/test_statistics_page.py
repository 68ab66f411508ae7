"""The statistics page draws the NSPCC's national series and the platform shares as SVG,
each beside its data table, and shows disagreeing figures side by side."""

import re

import pytest
from django.urls import reverse

from regulation.models import Indicator, Observation

pytestmark = pytest.mark.django_db
URL = reverse("regulation:statistics")


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.sub(r"\s+", " ", row) for row in body.split("</tr>")[:-1]]


def test_it_charts_the_national_series_in_time_order_with_its_table(seeded, client):
    national = section(page(client), "scwc-offences-national-heading")

    chart = national[national.index("<svg") : national.index("</svg>")]
    labels = re.findall(r'class="chart-label"[^>]*>([^<]+)<', chart)
    assert labels[0].startswith("2017/18") and labels[-1].startswith("2024/25")
    assert labels.index("2018/19 (year to Apr 2019)") < labels.index("2020/21")
    # One bar per published figure given as a number: ST17 ("not found") is a draft.
    assert (
        chart.count("<rect")
        == Observation.objects.published()
        .filter(indicator__slug="scwc-offences-national", value__isnull=False)
        .count()
    )
    table = rows(national)
    latest = next(row for row in table if "2023/24" in row)
    assert "7,062" in latest and "45 UK police forces" in latest
    assert "NSPCC (FOI data from police forces)" in latest  # its publisher
    assert "<td>not found</td>" not in national  # ST17, a draft


def test_it_charts_each_platforms_share_largest_first(seeded, client):
    shares = section(page(client), "scwc-platform-share-heading")

    chart = shares[shares.index("<svg") : shares.index("</svg>")]
    values = re.findall(r'class="chart-value"[^>]*>([^<]+)<', chart)
    assert values[0] == "48%"  # Snapchat
    assert "6%" in values and "5%" in values
    assert "&#x27;over a quarter&#x27;" not in chart  # words, not a number: in the table only
    assert any("&#x27;over a quarter&#x27;" in row for row in rows(shares))
    assert '<th scope="row">Snapchat (2023/24)</th>' in shares


def test_tables_are_captioned_with_header_cells_scoped(seeded, client):
    html = page(client)

    # One table per published indicator: the two charted series and every other one.
    indicators = Indicator.objects.published().count()
    assert indicators > 2
    assert html.count("<caption id=") == indicators
    assert html.count("<table") == indicators
    assert 'scope="col"' in html and 'scope="row"' in html


def test_disagreeing_figures_are_shown_side_by_side_with_their_publishers(seeded, client):
    pa_copy = Observation.objects.get(key="ST07")
    pa_copy.publisher_name = "Press Association reporting of NSPCC data"
    pa_copy.save()

    conflicts = section(page(client), "conflicts-heading")

    group = conflicts[conflicts.index('class="conflict-group"') :]
    nspcc, pa = group.split('class="conflict-figure"')[1:3]
    assert "10%" in nspcc and "NSPCC (FOI data from police forces)" in nspcc
    assert "12%" in pa and "Press Association reporting of NSPCC data" in pa
    shares = section(page(client), "scwc-platform-share-heading")
    assert shares.count("chart-bar-conflict") == 2  # both bars drawn, neither hidden


def test_no_inline_style_or_script(seeded, client):
    html = page(client)

    assert "style=" not in html and "<style" not in html
    assert "<script" not in html


def test_drafts_appear_nowhere_on_the_page(seeded, client):
    Observation.objects.get(key="ST05").unpublish()  # WhatsApp's 12%
    Observation.objects.get(key="ST09").platforms.get().unpublish()  # Kik

    shares = section(page(client), "scwc-platform-share-heading")

    chart = shares[shares.index("<svg") : shares.index("</svg>")]
    labels = re.findall(r'class="chart-label"[^>]*>([^<]+)<', chart)
    assert "WhatsApp" not in labels and "Snapchat" in labels
    assert '<th scope="row">WhatsApp (2023/24)</th>' not in shares
    # The figure stays, under its own metric's words; the draft platform is not named.
    assert "Kik" not in labels and '<th scope="row">Kik (2023/24)</th>' not in shares
    assert "<td>5%</td>" in shares


def test_the_page_answers_304_when_nothing_changed(seeded, client, django_assert_max_num_queries):
    first = client.get(URL)

    with django_assert_max_num_queries(2):
        again = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    with django_assert_max_num_queries(2):
        since = client.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304

    Observation.objects.get(key="ST04").unpublish()
    assert client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
