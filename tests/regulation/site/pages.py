"""Helpers for reading the public site's pages as a visitor does."""

import re
from collections.abc import Callable
from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

from regulation.models import (
    Commitment,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    Source,
    Topic,
)

# Pages other branches build beside this site; a crawl does not follow them.
ELSEWHERE = ("/statistics/", "/search/", "/admin/", "/static/", "/feeds/")


class PageOutline(HTMLParser):
    """The parts of a page the checks read: its title, its headings and its internal links."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.headings: list[str] = []
        self.links: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/"):
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def outline(html: str) -> PageOutline:
    parser = PageOutline()
    parser.feed(html)
    return parser


def get_page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def text(html: str) -> str:
    """The page's text without tags, with runs of white space as one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def crawl(client: Client, start: str = "/") -> dict[str, str]:
    """Every page of this site reachable from start by its links: {url: html}."""
    pages: dict[str, str] = {}
    queue = [start]
    while queue:
        url = queue.pop()
        if url in pages or url.startswith(ELSEWHERE):
            continue
        html = get_page(client, url)
        pages[url] = html
        queue.extend(link.split("#")[0] for link in outline(html).links if link.split("#")[0])
    return pages


# Every public page type, by name, with how to find its address on the seed: the browser tests
# and the HTML validation read the same list.
def a_milestone_with_date_changes() -> str:
    """A published milestone whose date moved: its page has the most to show."""
    milestones = Milestone.objects.published().order_by("key")
    return (
        milestones.filter(date_changes__isnull=False).first() or milestones.first()
    ).get_absolute_url()


def first_published(model) -> Callable[[], str]:
    return lambda: model.objects.published().order_by("key", "pk").first().get_absolute_url()


def a_cited_source() -> str:
    return Source.objects.public().order_by("key").first().get_absolute_url()


PAGE_TYPES: dict[str, Callable[[], str]] = {
    "home": lambda: reverse("regulation:home"),
    "timeline": lambda: reverse("regulation:timeline"),
    "timeline-filtered": lambda: reverse("regulation:timeline") + "?platform=snapchat&when=past",
    "milestone": a_milestone_with_date_changes,
    "instruments": lambda: reverse("regulation:instruments"),
    "instrument": first_published(Instrument),
    "measure": first_published(Measure),
    "platforms": lambda: reverse("regulation:platforms"),
    "platform": lambda: Platform.objects.get(slug="snapchat").get_absolute_url(),
    "commitments": lambda: reverse("regulation:commitments"),
    "commitment": first_published(Commitment),
    "organisation": first_published(Organisation),
    "sources": lambda: reverse("regulation:sources"),
    "source": a_cited_source,
    "topic": lambda: Topic.objects.order_by("slug").first().get_absolute_url(),
    "statistics": lambda: reverse("regulation:statistics"),
    "search": lambda: reverse("regulation:search") + "?q=grooming",
    "about": lambda: reverse("regulation:about"),
    "subscribe": lambda: reverse("reminders:subscribe"),
}
