"""Eight ways round the models' own methods that could leave a published record citing no
source (PATHS), and four changes that must still work (STILL_ALLOWED): each is a function given
a published milestone citing one source and a draft milestone citing none. Shared by
test_publishing_paths (in the suite's database) and sqlite_uncited.py (a child process on the
embedded SQLite default, with real commits)."""

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.db.models import Value

from regulation.models import Milestone, Status, public_models
from tests.factories import make_source


def delete_the_citations_through_the_through_table(cited: Milestone, draft: Milestone) -> None:
    Milestone.sources.through.objects.filter(milestone=cited).delete()


def update_the_status(cited: Milestone, draft: Milestone) -> None:
    # As an expression: PublicQuerySet.update() reads only a plain value.
    Milestone.objects.filter(pk=draft.pk).update(status=Value(Status.PUBLISHED))


def update_the_status_through_the_base_manager(cited: Milestone, draft: Milestone) -> None:
    Milestone._base_manager.filter(pk=draft.pk).update(status=Status.PUBLISHED)


def bulk_update(cited: Milestone, draft: Milestone) -> None:
    draft.status = Status.PUBLISHED
    Milestone.objects.bulk_update([draft], ["status"])


def set_the_status_and_save(cited: Milestone, draft: Milestone) -> None:
    draft.status = Status.PUBLISHED
    draft.save()


def update_or_create(cited: Milestone, draft: Milestone) -> None:
    Milestone.objects.update_or_create(pk=draft.pk, defaults={"status": Status.PUBLISHED})


def load_a_published_platform(sources: list[int]) -> None:
    fixture = [
        {
            "model": "regulation.platform",
            "fields": {
                "name": "Snapchat",
                "slug": "snapchat",
                "status": "published",
                "created_at": "2025-07-25T09:00:00Z",
                "updated_at": "2025-07-25T09:00:00Z",
                "sources": sources,
            },
        }
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "platform.json"
        path.write_text(json.dumps(fixture))
        call_command("loaddata", str(path), verbosity=0)


def loaddata(cited: Milestone, draft: Milestone) -> None:
    load_a_published_platform(sources=[])


def raw_sql(cited: Milestone, draft: Milestone) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Milestone._meta.db_table} SET status = 'published' WHERE id = %s",
            [draft.pk],
        )


PATHS: dict[str, Callable[[Milestone, Milestone], None]] = {
    path.__name__: path
    for path in (
        delete_the_citations_through_the_through_table,
        update_the_status,
        update_the_status_through_the_base_manager,
        bulk_update,
        set_the_status_and_save,
        update_or_create,
        loaddata,
        raw_sql,
    )
}


# What must still work, though an immediate check at each statement would refuse it: each passes
# through a published record citing nothing, or a record's citations gone before the record.


def replace_every_source_through_a_form(cited: Milestone, draft: Milestone) -> None:
    Milestone._meta.get_field("sources").save_form_data(cited, [make_source()])


def delete_a_published_record(cited: Milestone, draft: Milestone) -> None:
    cited.delete()


def loaddata_a_published_record_with_its_source(cited: Milestone, draft: Milestone) -> None:
    load_a_published_platform(sources=list(cited.sources.values_list("pk", flat=True)))


def publish_a_draft_once_it_cites_a_source(cited: Milestone, draft: Milestone) -> None:
    draft.sources.add(*cited.sources.all())
    draft.publish()


STILL_ALLOWED: dict[str, Callable[[Milestone, Milestone], None]] = {
    path.__name__: path
    for path in (
        replace_every_source_through_a_form,
        delete_a_published_record,
        loaddata_a_published_record_with_its_source,
        publish_a_draft_once_it_cites_a_source,
    )
}


def published_uncited() -> list[str]:
    """Every published record, of any public model, that cites no source."""
    return [
        f"{model.__name__} {record.pk}"
        for model in public_models()
        for record in model._base_manager.filter(status=Status.PUBLISHED, sources__isnull=True)
    ]
