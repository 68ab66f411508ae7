"""What staff should look at next: the follow-up dashboard on the admin index.

Each item is a question answered by the models' querysets, counted, and linked to the admin list
filtered to exactly those records (the list filters ask the same querysets).
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from regulation.models import Commitment, Milestone, PublicRecord, public_models

logger = logging.getLogger(__name__)

DEADLINE_DAYS = 30


@dataclass(frozen=True)
class Link:
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Item:
    title: str
    explanation: str
    links: list[Link] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(link.count for link in self.links)


def changelist(model: type[PublicRecord], **query: str) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return url + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def per_model(title: str, explanation: str, records, param: str, value: str) -> Item:
    """One link per public model with any records the question finds."""
    links = []
    for model in public_models():
        count = records(model._default_manager.all()).count()
        if count:
            label = str(model._meta.verbose_name_plural)
            links.append(Link(label, count, changelist(model, **{param: value})))
    return Item(title, explanation, links)


def one(title: str, explanation: str, model, records: QuerySet, param: str, value: str) -> Item:
    count = records.count()
    label = str(model._meta.verbose_name_plural)
    return Item(title, explanation, [Link(label, count, changelist(model, **{param: value}))])


def follow_up(at: dt.datetime | dt.date | None = None) -> list[Item]:
    """The dashboard's items at the reference time (now, in Europe/London, when None)."""
    quiet_days = settings.FOLLOW_UP_QUIET_DAYS
    commitments, milestones = Commitment.objects.all(), Milestone.objects.all()
    return [
        one(
            f"Deadlines in the next {DEADLINE_DAYS} days",
            "Published milestones due from today.",
            Milestone,
            milestones.published().deadlines_within(DEADLINE_DAYS, at),
            "follow_up",
            "next_30_days",
        ),
        one(
            "Overdue commitments",
            "Still open after the date they were due.",
            Commitment,
            commitments.overdue(at),
            "follow_up",
            "overdue",
        ),
        one(
            "Review date reached",
            "Commitments whose review date has come: check them for news.",
            Commitment,
            commitments.review_date_reached(at),
            "follow_up",
            "review_date",
        ),
        one(
            f"No news for {quiet_days} days",
            "Open commitments with no review date whose last news is older than that.",
            Commitment,
            commitments.quiet(at),
            "follow_up",
            "quiet",
        ),
        per_model(
            "Drafts waiting for review",
            "Submitted by a contributor: publish them or send them back with a note.",
            lambda qs: qs.waiting_for_review(),
            "publishing",
            "waiting",
        ),
        one(
            "Expected dates passed unconfirmed",
            "Milestones still marked expected after their whole period is over.",
            Milestone,
            milestones.passed_unconfirmed(at),
            "follow_up",
            "passed_unconfirmed",
        ),
        per_model(
            "Unverified published records",
            "Public, but no cited source confirms them yet.",
            lambda qs: qs.published().unverified(),
            "publishing",
            "unverified",
        ),
        per_model(
            "Published without a source",
            "Should never happen: every path refuses it. Checked here and every hour.",
            lambda qs: qs.published().without_source(),
            "publishing",
            "uncited",
        ),
    ]


def check_published_sources() -> list[str]:
    """The scheduled check that no published record cites no source (the database cannot
    enforce a many-to-many rule everywhere). Logs each at ERROR; returns their names."""
    found = [
        f"{model._meta.verbose_name} {record.pk} “{record}”"
        for model in public_models()
        for record in model._default_manager.published().without_source()
    ]
    for name in found:
        logger.error("Published without a source: %s", name)
    return found
