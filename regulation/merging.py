"""Merging duplicates: the same source, promise or date entered twice becomes one record.

An editor picks the record to keep; everything that points at the duplicates is moved to it
(records citing a duplicate source, a duplicate commitment's status updates, a duplicate
milestone's date changes, subscriptions and reminders, the seed's memory of which record a
fact is), many-to-many links are joined without a link twice, the duplicates' public addresses
keep answering with a permanent redirect to the kept record, the merge is written in the kept
record's history with its reason, and the duplicates are deleted: all of it or nothing.

The relations are found from the models' own metadata, so a relation added later (in this
app or in another that points here) is moved too, without this module knowing of it.

Which types merge: sources (the same document entered twice, most often), and every public
record type a person can enter twice: organisations, platforms, instruments, measures,
milestones, commitments and indicators. Not observations: two sources giving different figures
for the same thing are kept as two observations on purpose, linked as disagreeing.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from simple_history.models import HistoricalChanges

from regulation.models import (
    Commitment,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    PublicRecord,
    SeedConflict,
    SeededRecord,
    SlugRedirect,
    Source,
    change_reason,
    save_as,
)

MERGEABLE: tuple[type[models.Model], ...] = (
    Source,
    Organisation,
    Platform,
    Instrument,
    Measure,
    Milestone,
    Commitment,
    Indicator,
)
NOT_ALLOWED_TO_MERGE = "Only an editor may merge duplicates."
# PostgreSQL's unique_violation: the kept record already has a row like the one being moved.
UNIQUE_VIOLATION = "23505"


class MergeRefused(ValidationError):
    """The merge cannot be done as asked; nothing was changed."""


def merge_permission(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.merge_{model._meta.model_name}"


def may_merge(model: type[models.Model], user) -> bool:
    """Whether the user may merge records of this type (None: a system path)."""
    return model in MERGEABLE and (user is None or user.has_perm(merge_permission(model)))


# --- What points at a record -------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """One way other rows point at a record: a foreign key, or either side of a many-to-many."""

    label: str
    field: models.Field
    kind: str  # "fk": rows of another table; "m2m": records linking to it; "own": its own links

    def rows(self, record: models.Model) -> models.QuerySet:
        if self.kind == "own":
            return getattr(record, self.field.name).all()
        return self.field.model._base_manager.filter(**{self.field.name: record})


def relations(model: type[models.Model]) -> Iterator[Relation]:
    """Everything that may point at a record of model, the history's own tables excepted (the
    duplicates' history stays theirs)."""
    for field in model._meta.get_fields(include_hidden=True):
        if field.many_to_many and field.concrete:
            # The record's own links (its sources, platforms, ...), joined into the kept one's.
            yield Relation(f"its {field.verbose_name}", field, "own")
        elif not field.auto_created or field.concrete:
            continue  # the record's own columns and foreign keys: the kept record's stay
        elif field.related_model._meta.auto_created:
            continue  # a many-to-many's own table: moved through its manager below
        elif issubclass(field.related_model, HistoricalChanges) or _is_history(field):
            continue
        elif field.many_to_many:
            remote = field.field
            if remote.model is model and remote.remote_field.symmetrical:
                continue  # the other side of a symmetrical link is the record's own links
            yield Relation(str(remote.model._meta.verbose_name_plural), remote, "m2m")
        elif field.one_to_many or field.one_to_one:
            remote, label = field.field, str(field.related_model._meta.verbose_name_plural)
            if remote.name != model._meta.model_name:
                label = f"{label} (as {remote.verbose_name})"
            yield Relation(label, remote, "fk")


def _is_history(field) -> bool:
    # simple-history's tables of a version's many-to-many links point at their version.
    return any(
        isinstance(f, models.ForeignKey) and issubclass(f.related_model, HistoricalChanges)
        for f in field.related_model._meta.concrete_fields
    )


@dataclass(frozen=True)
class Moving:
    """What a merge would move from one duplicate, for the confirmation page."""

    record: models.Model
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def merge_plan(kept: models.Model, duplicates: Sequence[models.Model]) -> list[Moving]:
    """What merging the duplicates into kept would move, duplicate by duplicate."""
    plan = []
    for duplicate in duplicates:
        counts = []
        for relation in relations(type(kept)):
            count = relation.rows(duplicate).count()
            if count:
                counts.append((relation.label, count))
        plan.append(Moving(duplicate, tuple(counts)))
    return plan


# --- The merge ---------------------------------------------------------------------------------


def merge(kept: models.Model, duplicates: Sequence[models.Model], *, reason: str, by=None):
    """Merge the duplicates into kept, in one transaction, and return what moved (merge_plan's
    figures). Refused (MergeRefused, nothing changed) without a reason, when kept is among the
    duplicates or of another type, when a duplicate is published and kept is not (its readers
    would lose the page), or when a moved row breaks a rule of the kept record; refused
    (PermissionDenied) to a user without the merge permission (by=None is a system path)."""
    model = type(kept)
    if not may_merge(model, by):
        raise PermissionDenied(NOT_ALLOWED_TO_MERGE)
    reason = reason.strip()
    if not reason:
        raise MergeRefused("Say why these records are duplicates: the history keeps it.")
    if not duplicates:
        raise MergeRefused("Choose at least one duplicate to merge into the kept record.")
    if any(type(d) is not model or d.pk == kept.pk for d in duplicates):
        raise MergeRefused("The duplicates must be other records of the same type.")
    with transaction.atomic():
        pks = [kept.pk, *(d.pk for d in duplicates)]
        locked = {r.pk: r for r in model._default_manager.select_for_update().filter(pk__in=pks)}
        if len(locked) != len(pks):
            raise MergeRefused("A record to merge no longer exists: reload the list.")
        kept, duplicates = locked[kept.pk], [locked[d.pk] for d in duplicates]
        _refuse_losing_the_public(kept, duplicates)
        _refuse_pointing_at_a_duplicate(kept, duplicates)
        plan = merge_plan(kept, duplicates)
        for duplicate in duplicates:
            _move(duplicate, kept)
        names = ", ".join(_name(d) for d in duplicates)
        try:
            with transaction.atomic():
                if isinstance(kept, Commitment):
                    # The status follows the latest update, moved ones included (its own
                    # history entry, before the merge's: the merge is the latest change).
                    kept.refresh_delivery_status(by=by)
                with change_reason(kept, f"Merged {names} into this record: {reason}"):
                    save_as(kept, by)
        except IntegrityError as error:
            raise MergeRefused(f"{_name(kept)} cannot take what was moved: {error}") from error
        for duplicate in duplicates:
            duplicate._history_user = by
            with change_reason(duplicate, f"Merged into {_name(kept)}: {reason}"):
                duplicate.delete()
    return plan


def _name(record: models.Model) -> str:
    return getattr(record, "key", None) or f"#{record.pk}"


def _refuse_losing_the_public(kept: models.Model, duplicates: Sequence[models.Model]) -> None:
    if not isinstance(kept, PublicRecord) or kept.is_published:
        return
    published = [_name(d) for d in duplicates if d.is_published]
    if published:
        raise MergeRefused(
            f"{', '.join(published)} is published and {_name(kept)} is a draft: keep the "
            "published record, or publish the one to keep first, so no reader loses the page."
        )


def _refuse_pointing_at_a_duplicate(kept: models.Model, duplicates) -> None:
    """An instrument kept in place of its own parent would be its own parent: refused."""
    pks = {d.pk for d in duplicates}
    for field in type(kept)._meta.concrete_fields:
        points_at = field.is_relation and field.related_model is type(kept)
        if points_at and getattr(kept, field.attname) in pks:
            raise MergeRefused(
                f"{_name(kept)} points at a duplicate ({field.verbose_name}): change that "
                "first, or keep the other record."
            )


def _move(duplicate: models.Model, kept: models.Model) -> None:
    model = type(kept)
    for relation in relations(model):
        if relation.kind == "own":
            # Joined, not replaced; a link of the duplicate to the kept record is not a link
            # of the kept record to itself.
            linked = relation.rows(duplicate)
            if relation.field.related_model is model:
                linked = linked.exclude(pk=kept.pk)
            getattr(kept, relation.field.name).add(*linked)
        elif relation.kind == "m2m":
            # The kept record is linked before the duplicate is unlinked, so a published record
            # citing the duplicate source never passes through citing none. add() leaves a
            # link that is already there alone: no link twice.
            for owner in relation.rows(duplicate).exclude(pk=kept.pk):
                manager = getattr(owner, relation.field.name)
                manager.add(kept)
                manager.remove(duplicate)
        else:
            _move_rows(relation, duplicate, kept)
    _move_addresses(duplicate, kept)


def _move_rows(relation: Relation, duplicate: models.Model, kept: models.Model) -> None:
    """Point the rows at kept, one by one. A row the kept record already has its own copy of
    (a reminder already planned for it, say) is the same row twice: the duplicate's goes. Any
    other rule the moved row would break refuses the merge."""
    field = relation.field
    rows = relation.rows(duplicate)
    if field.related_model is type(kept):
        rows = rows.exclude(pk=kept.pk)
    for pk in rows.values_list("pk", flat=True):
        one = field.model._base_manager.filter(pk=pk)
        try:
            with transaction.atomic():
                one.update(**{field.name: kept})
        except IntegrityError as error:
            if getattr(error.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
                raise MergeRefused(
                    f"A {field.model._meta.verbose_name} of {_name(duplicate)} cannot move to "
                    f"{_name(kept)}: {error}"
                ) from error
            one.delete()


def _move_addresses(duplicate: models.Model, kept: models.Model) -> None:
    """The duplicate's address, and every address that led to it, now lead to kept; the seed's
    memory of which record a fact is follows too."""
    label = kept._meta.label_lower
    old = duplicate.slug if isinstance(duplicate, PublicRecord) else getattr(duplicate, "ref", "")
    SlugRedirect.objects.filter(model=label, object_pk=duplicate.pk).update(object_pk=kept.pk)
    if old:
        SlugRedirect.objects.update_or_create(
            model=label, old_slug=old, defaults={"object_pk": kept.pk}
        )
    SeededRecord.objects.filter(model=label, object_pk=duplicate.pk).update(object_pk=kept.pk)
    SeedConflict.objects.filter(model=label, object_pk=duplicate.pk).update(object_pk=kept.pk)
