"""Apply a planned release: create what is new, adopt what an older install already has,
leave alone what staff deleted, and correct only fields staff have not changed since."""

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from regulation.models import (
    Commitment,
    CommitmentUpdate,
    FactRelease,
    PublicRecord,
    SeedConflict,
    SeededRecord,
    Source,
    Status,
    next_key_in_series,
)
from regulation.seed.plan import Correction, Release, SeedError, Spec, StatusUpdate

SEED_REASON = "Loaded from the seed data"


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    adopted: Counter = field(default_factory=Counter)
    applied: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        names = list(dict.fromkeys([*self.created, *self.kept, *self.adopted]))
        counts = [
            f"{name}: {self.created[name]} created, {self.kept[name]} already present (kept)"
            + (f", {self.adopted[name]} adopted" if self.adopted[name] else "")
            for name in names
        ]
        return [
            *counts,
            *(f"Corrected: {line}" for line in self.corrected),
            *(f"Skipped: {line}" for line in self.skipped),
            *(f"Kept the staff's edit: {line}" for line in self.conflicts),
        ]

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def plural(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural).capitalize()


def serialise(value: Any) -> Any:
    """A field value as the memory stores it (JSON), so current and remembered values compare."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Memory:
    """What the seed loaded before, read once per model."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, SeededRecord]] = {}
        self._objects: dict[str, dict[int, models.Model]] = {}
        self._by_match: dict[tuple[str, str], dict[str, models.Model]] = {}
        self._deleted: dict[str, set[str]] = {}
        self.new: list[SeededRecord] = []

    def record(self, model: type[models.Model], fact_id: str) -> SeededRecord | None:
        key = label(model)
        if key not in self._records:
            rows = SeededRecord.objects.filter(model=key)
            self._records[key] = {row.fact_id: row for row in rows}
        return self._records[key].get(fact_id)

    def object(self, model: type[models.Model], pk: int) -> models.Model | None:
        key = label(model)
        if key not in self._objects:
            pks = [row.object_pk for row in self._records.get(key, {}).values()]
            self._objects[key] = model._default_manager.in_bulk(pks)
        if pk not in self._objects[key]:
            found = model._default_manager.filter(pk=pk).first()
            if found is not None:
                self._objects[key][pk] = found
        return self._objects[key].get(pk)

    def unremembered(self, model: type[models.Model], match_field: str, value: str):
        """A record loaded before the seed had a memory, found by its key or slug."""
        cache_key = (label(model), match_field)
        if cache_key not in self._by_match:
            self._by_match[cache_key] = model._default_manager.in_bulk(field_name=match_field)
        return self._by_match[cache_key].get(value)

    def deleted_before(self, model: type[models.Model], match_field: str, value: str) -> bool:
        """Deleted by staff before the seed had a memory: its history still has the key."""
        history = getattr(model, "history", None)
        if history is None:
            return False
        key = label(model)
        if key not in self._deleted:
            rows = history.filter(history_type="-").values_list(match_field, flat=True)
            self._deleted[key] = {row for row in rows if row}
        return value in self._deleted[key]

    def remember(
        self, release: FactRelease, spec: Spec, record: models.Model, values: dict, adopted: bool
    ) -> None:
        self.remember_record(release, spec.model, spec.fact_id, record, values, adopted=adopted)

    def remember_record(
        self,
        release: FactRelease,
        model: type[models.Model],
        fact_id: str,
        record: models.Model,
        values: dict,
        *,
        adopted: bool = False,
    ) -> None:
        row = SeededRecord(
            release=release,
            model=label(model),
            fact_id=fact_id,
            object_pk=record.pk,
            values=values,
            adopted=adopted,
        )
        self._records.setdefault(label(model), {})[fact_id] = row
        self._objects.setdefault(label(model), {})[record.pk] = record
        self.new.append(row)

    def flush(self) -> None:
        SeededRecord.objects.bulk_create(self.new)
        self.new = []


class ReleaseApplier:
    """Applies one release. `adopting`: this is the first release the database has seen, so a
    record it names that the seed does not remember was loaded before releases existed, and is
    found by its key or slug. After that, every record a release made is remembered, and a
    record holding a release's key is one staff created (keys continue the series)."""

    def __init__(
        self,
        release: Release,
        record: FactRelease,
        memory: Memory,
        report: SeedReport,
        *,
        adopting: bool,
    ):
        self.release, self.record, self.memory, self.report = release, record, memory, report
        self.adopting = adopting
        self.counts: Counter = Counter()
        self.new_sources: list[tuple[Source, Spec]] = []

    def apply(self) -> None:
        for spec in self.release.specs:
            self._ensure(spec)
        self._link_source_publishers()
        self._link_conflicting_figures()
        self.memory.flush()
        for correction in self.release.corrections:
            self._correct(correction)
        for update in self.release.status_updates:
            self._record_status_update(update)
        self.memory.flush()
        self.record.counts = dict(self.counts)
        self.record.save(update_fields=["counts"])

    # Creating and matching.

    def resolve(self, ref: tuple[type[models.Model], str] | None) -> models.Model | None:
        if ref is None:
            return None
        row = self.memory.record(*ref)
        return self.memory.object(ref[0], row.object_pk) if row else None

    def _ensure(self, spec: Spec) -> models.Model | None:
        name = plural(spec.model)
        row = self.memory.record(spec.model, spec.fact_id)
        if row is not None:
            record = self.memory.object(spec.model, row.object_pk)
            if record is None:
                self._skip_deleted(spec)
            else:
                self.report.kept[name] += 1
            return record
        existing = self.memory.unremembered(spec.model, spec.match_field, spec.fact_id)
        if existing is not None and spec.match_field == "key" and not self.adopting:
            return self._create_beside(spec, existing)
        if existing is not None:
            # Loaded before releases existed: remember it as this release's, change nothing.
            self.memory.remember(self.record, spec, existing, self._values(spec), adopted=True)
            self.report.kept[name] += 1
            self.report.adopted[name] += 1
            self.counts[f"{name} adopted"] += 1
            return existing
        if self.adopting and self.memory.deleted_before(spec.model, spec.match_field, spec.fact_id):
            self._skip_deleted(spec)
            return None
        missing = self._missing_required_refs(spec)
        if missing:
            self.report.skipped.append(
                f"{spec.fact_id} ({spec.model._meta.verbose_name}): "
                f"its {missing} was deleted by staff"
            )
            self.counts["skipped (needs a deleted record)"] += 1
            return None
        record = self._create(spec)
        self.memory.remember(self.record, spec, record, self._values(spec), adopted=False)
        self.report.created[name] += 1
        self.counts[f"{name} created"] += 1
        return record

    def _create_beside(self, spec: Spec, holder: models.Model) -> models.Model:
        """The release's record when staff gave its key to a record of their own: the staff
        record keeps the key (its address may be cited already), the release's record takes the
        next key of the series, and an editor is told (a SeedConflict on the key) rather than
        the two being taken for one."""
        record = self._create(spec, key=self._free_key(spec.model))
        self.memory.remember(self.record, spec, record, self._values(spec), adopted=False)
        name = plural(spec.model)
        self.report.created[name] += 1
        self.counts[f"{name} created"] += 1
        SeedConflict.objects.create(
            release=self.record,
            model=label(spec.model),
            fact_id=spec.fact_id,
            object_pk=record.pk,
            field="key",
            staff_value=record.key,
            release_value=spec.fact_id,
            reason=(
                f"The key {spec.fact_id} was already held by a record staff created "
                f"({holder.pk}: {holder}), so this release's record was given {record.key}. "
                "An editor may swap the keys."
            ),
        )
        self.report.conflicts.append(
            f"{spec.fact_id} ({spec.model._meta.verbose_name}): key {spec.fact_id} is held by a "
            f"record staff created; the release's record is {record.key}"
        )
        self.counts["keys held by staff records"] += 1
        return record

    def _free_key(self, model: type[models.Model]) -> str:
        """The next key of the model's series above every key in use and every key this
        release itself gives (so that none of its later records finds its key taken)."""
        series = model.key_series
        numbers = [
            int(spec.fact_id[len(series) :])
            for spec in self.release.specs
            if spec.model is model and re.fullmatch(rf"{series}[0-9]+", spec.fact_id)
        ]
        following = int(next_key_in_series(model, series)[len(series) :])
        return f"{series}{max([following, *(n + 1 for n in numbers)])}"

    def _missing_required_refs(self, spec: Spec) -> str:
        for name, ref in spec.refs.items():
            required = ref is not None and not spec.model._meta.get_field(name).null
            if required and self.resolve(ref) is None:
                return name
        return ""

    def _skip_deleted(self, spec: Spec) -> None:
        self.report.skipped.append(
            f"{spec.fact_id} ({spec.model._meta.verbose_name}): deleted by staff"
        )
        self.counts["skipped (deleted by staff)"] += 1

    def _values(self, spec: Spec) -> dict[str, Any]:
        values = {name: serialise(value) for name, value in spec.fields.items()}
        if issubclass(spec.model, PublicRecord):
            values["sources"] = sorted(self._sources(spec.sources))
            values["status"] = spec.status
        return values

    def _sources(self, source_ids: list[str]) -> list[int]:
        found = [self.resolve((Source, sid)) for sid in source_ids]
        return [source.pk for source in found if source is not None]

    def _create(self, spec: Spec, **overrides: Any) -> models.Model:
        """The release's record; `overrides` replace its fields (key=None: the next key)."""
        refs = {name: self.resolve(ref) for name, ref in spec.refs.items()}
        if spec.model is Source:
            refs = {}  # the publisher is linked once organisations exist
        record = spec.model(**{**spec.fields, **overrides}, **refs)
        record._change_reason = SEED_REASON
        record.save()
        if spec.model is Source:
            self.new_sources.append((record, spec))
        for name, refs_list in spec.m2m.items():
            if name == "conflicts_with":
                continue
            targets = [t for t in (self.resolve(ref) for ref in refs_list) if t is not None]
            getattr(record, name).add(*targets)
        if isinstance(record, PublicRecord) and spec.sources:
            # Drafts first, then sources, then publish: the one path the publishing rule guards.
            # The publishing entry in the history lists the sources, so adding them to the new
            # draft needs no history entry of its own.
            record.skip_history_when_saving = True
            try:
                record.sources.add(*self._sources(spec.sources))
            finally:
                del record.skip_history_when_saving
            record.publish()
        return record

    def _link_source_publishers(self) -> None:
        for source, spec in self.new_sources:
            publisher = self.resolve(spec.refs.get("publisher"))
            if publisher is not None:
                source.publisher = publisher
                source.save(update_fields=["publisher"])

    def _link_conflicting_figures(self) -> None:
        for spec in self.release.specs:
            refs = spec.m2m.get("conflicts_with")
            row = self.memory.record(spec.model, spec.fact_id)
            if not refs or row is None or row.release_id != self.record.pk or row.adopted:
                continue
            record = self.memory.object(spec.model, row.object_pk)
            others = [o for o in (self.resolve(ref) for ref in refs) if o is not None]
            if record is not None:
                record.conflicts_with.add(*others)

    # Corrections.

    def _correct(self, correction: Correction) -> None:
        where = f"{correction.fact_id} {correction.field}"
        row = self.memory.record(correction.model, correction.fact_id)
        record = self.memory.object(correction.model, row.object_pk) if row else None
        if record is None:
            self.report.skipped.append(f"correction {where}: the record was deleted by staff")
            self.counts["corrections skipped (record deleted)"] += 1
            return
        fields = correction.model_fields
        current = {name: self._current(record, name) for name in fields}
        remembered = {name: self._remembered(row, correction, name) for name in fields}
        new = self._new_values(correction)
        if correction.field == "date":
            new["certainty"] = current[
                "certainty"
            ]  # a correction moves the date, not its certainty
        if current == new:
            # Already as the release says (staff made the same change): nothing to record, but
            # remember the value, so the next release compares with it.
            row.values.update(new)
            row.save(update_fields=["values"])
            return
        if current != remembered:
            self._conflict(correction, row, record, current, new)
            return
        self._write(correction, record, new)
        row.values.update(new)
        self._publish_if_now_cited(record, row)
        row.save(update_fields=["values"])
        self.report.corrected.append(f"{where} ({self.release.name}, {correction.label})")
        self.counts["corrections applied"] += 1

    def _current(self, record: models.Model, name: str) -> Any:
        model_field = record._meta.get_field(name)
        if model_field.many_to_many:
            return sorted(getattr(record, name).values_list("pk", flat=True))
        if model_field.many_to_one:
            return getattr(record, model_field.attname)
        return serialise(getattr(record, name))

    def _remembered(self, row: SeededRecord, correction: Correction, name: str) -> Any:
        """What the release that loaded the record gave this field. The memory holds plain
        fields; a field it does not hold (a link, or a field a later model added) is taken as the
        curation's 'old' value, which the curation states as that release's."""
        if name in row.values:
            return row.values[name]
        if correction.curated:
            return self._as_stored(correction.model, name, correction.old)
        return None

    def _new_values(self, correction: Correction) -> dict[str, Any]:
        if correction.field == "date" and not correction.curated:
            return {name: serialise(value) for name, value in correction.new.items()}
        [name] = correction.model_fields
        return {name: self._as_stored(correction.model, name, correction.new)}

    def _as_stored(self, model: type[models.Model], name: str, value: Any) -> Any:
        """A value as the release writes it (ids) turned into what _current() reads (pks)."""
        model_field = model._meta.get_field(name)
        if model_field.many_to_many:
            found = [self.resolve((model_field.related_model, key)) for key in value or []]
            return sorted(target.pk for target in found if target is not None)
        if model_field.many_to_one:
            target = self.resolve((model_field.related_model, value)) if value else None
            return target.pk if target is not None else None
        return serialise(value)

    def _reason(self, correction: Correction) -> str:
        release = f"Release {self.release.name}, {correction.label}"
        sources = ", ".join(correction.source_ids) or "no source"
        text = f"{release} ({correction.fact_id} {correction.field}): {sources}"
        # simple-history keeps a change reason of up to 100 characters: the record and field
        # are the history's own, so they go first when it is too long.
        if len(text) > 100:
            text = f"{release}: {sources}"
        return text if len(text) <= 100 else text[:99] + "…"

    def _write(self, correction: Correction, record: models.Model, new: dict[str, Any]) -> None:
        record._change_reason = self._reason(correction)
        if correction.field == "date":
            fields = correction.new
            record.move_to(
                fields["date"],
                precision=fields["date_precision"],
                reason=correction.evidence,
                source=self.resolve((Source, correction.source_ids[0])),
            )
            if record.date_label != fields["date_label"]:
                record.date_label = fields["date_label"]
                record.save(update_fields=["date_label", "updated_at"])
            return
        [name] = correction.model_fields
        model_field = record._meta.get_field(name)
        if model_field.many_to_many:
            getattr(record, name).set(new[name])
            if name != "sources":
                # The history tracks sources only: other links get an entry carrying the reason.
                record.save(update_fields=["updated_at"])
            return
        setattr(record, model_field.attname, new[name])
        try:
            record.full_clean(validate_unique=False)
        except ValidationError as error:
            raise SeedError(
                [
                    f"{correction.file}: {correction.fact_id}: {correction.field}: {m}"
                    for m in error.messages
                ]
            ) from error
        record.save(update_fields=[name, "updated_at"])

    # Status updates.

    def _record_status_update(self, update: StatusUpdate) -> None:
        """Record a commitment's delivery through record_update(), once: the update joins the
        release's memory, so a later run never records it again."""
        if self.memory.record(CommitmentUpdate, update.fact_id) is not None:
            return
        commitment = self.resolve((Commitment, update.commitment))
        if commitment is None:
            self.report.skipped.append(
                f"status update {update.commitment} {update.on}: "
                "the commitment was deleted by staff"
            )
            self.counts["status updates skipped (commitment deleted)"] += 1
            return
        recorded = commitment.record_update(
            on=update.on,
            on_precision=update.precision,
            delivery_status=update.delivery_status,
            note=update.note,
            evidence=self.resolve((Source, update.evidence)),
        )
        values = {"on": update.on.isoformat(), "delivery_status": update.delivery_status}
        self.memory.remember_record(self.record, CommitmentUpdate, update.fact_id, recorded, values)
        self.report.created[plural(CommitmentUpdate)] += 1
        self.counts[f"{plural(CommitmentUpdate)} created"] += 1

    def _publish_if_now_cited(self, record: models.Model, row: SeededRecord) -> None:
        """A record the seed kept as a draft only for want of a source is published once a
        correction gives it one, unless staff changed its status since."""
        if (
            record.status == Status.DRAFT
            and row.values.get("status") == Status.DRAFT
            and record.sources.exists()
        ):
            record.publish()
            row.values["status"] = Status.PUBLISHED

    def _conflict(
        self,
        correction: Correction,
        row: SeededRecord,
        record: models.Model,
        current: dict[str, Any],
        new: dict[str, Any],
    ) -> None:
        staff, release = _shown(current), _shown(new)
        SeedConflict.objects.create(
            release=self.record,
            model=row.model,
            fact_id=correction.fact_id,
            object_pk=record.pk,
            field=correction.field,
            staff_value=staff,
            release_value=release,
            reason=f"{correction.evidence} (sources: {', '.join(correction.source_ids)})",
        )
        self.report.conflicts.append(
            f"{correction.fact_id} {correction.field}: staff value {staff!r}, "
            f"release value {release!r}"
        )
        self.counts["corrections skipped (staff edit kept)"] += 1


def _shown(values: dict[str, Any]) -> str:
    if list(values) == ["sources"]:
        keys = Source.objects.filter(pk__in=values["sources"]).values_list("key", flat=True)
        return ", ".join(sorted(k or "?" for k in keys))
    if "date" in values:
        return f"{values['date']} ({values['date_precision']}, {values['certainty']})"
    return str(next(iter(values.values())))
