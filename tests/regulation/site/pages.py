"""Helpers for reading the public site's pages as a visitor does."""

import re
from html.parser import HTMLParser

from django.test import Client

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
