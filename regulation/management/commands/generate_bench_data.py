"""Copies of the seed's published records, for measuring the site at many times its size.

    manage.py load_seed
    manage.py generate_bench_data --times 100

Each copy of the published milestones, measures, commitments and statistics keeps the
original's shape (dates, precisions, kinds, statuses, platforms, instruments, topics, sources)
under a new key and slug ("M21-b7"), and is published with the original's sources, as the
publishing rule requires. Never run it on a database that serves readers: the copies are
indistinguishable from real records on the site.
"""

import copy

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from regulation.models import (
    Commitment,
    Measure,
    Milestone,
    Observation,
    PublicRecord,
    Status,
)

# Each model with the many-to-many fields its copies keep.
SHAPES: list[tuple[type[PublicRecord], tuple[str, ...]]] = [
    (Milestone, ("sources", "instruments", "platforms", "topics", "measures")),
    (Measure, ("sources", "topics")),
    (Commitment, ("sources", "platforms", "topics", "measures", "milestones")),
    (Observation, ("sources", "platforms")),
]


def copy_records(
    model: type[PublicRecord], relations: tuple[str, ...], originals: list, number: int
) -> int:
    """Create one copy of each original (as drafts, in bulk), give the copies the originals'
    relations, then publish them: they cite the originals' sources."""
    copies = []
    for original in originals:
        record = copy.copy(original)
        record._prefetched_objects_cache = {}
        record.pk = None
        record.id = None
        record._state.adding = True
        record.key = f"{original.key or original.pk}-b{number}"[:20]
        record.slug = f"{original.slug[:70]}-b{number}"
        record.status = Status.DRAFT
        copies.append(record)
    model.objects.bulk_create(copies)
    for name in relations:
        field = model._meta.get_field(name)
        through = field.remote_field.through
        own, other = field.m2m_field_name(), field.m2m_reverse_field_name()
        through.objects.bulk_create(
            through(**{f"{own}_id": made.pk, f"{other}_id": related.pk})
            for original, made in zip(originals, copies, strict=True)
            for related in getattr(original, name).all()
        )
    return model.objects.filter(pk__in=[c.pk for c in copies]).update(status=Status.PUBLISHED)


class Command(BaseCommand):
    help = (
        "Add --times copies of the seed's published milestones, measures, commitments and "
        "statistics, each published with its sources, for make bench."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--times", type=int, default=100, help="How many copies (100).")

    def handle(self, *args, times: int, **options) -> None:
        made = 0
        for model, relations in SHAPES:
            originals = list(
                model.objects.published()
                .exclude(key__contains="-b")
                .prefetch_related(*relations)
                .order_by("pk")
            )
            for number in range(1, times + 1):
                with transaction.atomic():
                    made += copy_records(model, relations, originals, number)
        self.stdout.write(f"Published {made} copies of the seed's records.")
