"""sitemap.xml: every public page, and only public ones (drafts are never listed)."""

from django.contrib.sitemaps import Sitemap
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

# The pages that are not records (search results are not listed: they are queries).
STATIC_PAGES = [
    "regulation:home",
    "regulation:timeline",
    "regulation:instruments",
    "regulation:platforms",
    "regulation:commitments",
    "regulation:organisations",
    "regulation:sources",
    "regulation:topics",
    "regulation:statistics",
    "regulation:about",
]


class PageSitemap(Sitemap):
    """Pages that are not records, named by their URL names."""

    def __init__(self, pages: list[str] = STATIC_PAGES) -> None:
        self.pages = pages

    def items(self) -> list[str]:
        return self.pages

    def location(self, item: str) -> str:
        return reverse(item)


class RecordSitemap(Sitemap):
    """The published records of one model, with when each last changed."""

    def __init__(self, model) -> None:
        self.model = model

    def items(self):
        return self.model.objects.published().order_by("pk")

    def lastmod(self, record):
        return record.updated_at


class SourceSitemap(Sitemap):
    def items(self):
        return Source.objects.public().order_by("pk")

    def lastmod(self, source: Source):
        return source.updated_at


class TopicSitemap(Sitemap):
    def items(self):
        return Topic.objects.order_by("pk")


SITEMAPS = {
    "pages": PageSitemap(),
    **{
        model._meta.model_name: RecordSitemap(model)
        for model in (Milestone, Instrument, Measure, Platform, Commitment, Organisation)
    },
    "sources": SourceSitemap(),
    "topics": TopicSitemap(),
}
