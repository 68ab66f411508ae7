"""Turn a release's files into a plan of records, checking every entry before anything is
written. Each problem becomes one line naming the file, the entry's id, the field and what is
wrong; all of them are collected, not just the first.
"""

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models

from regulation.dates import Precision, period_end, period_start
from regulation.models import (
    Commitment,
    DeliveryStatus,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
    Topic,
    Verification,
)
from regulation.seed.parsing import (
    EntryError,
    commitment_date,
    milestone_date,
    parse_period,
    parse_value,
    source_date,
)

Ref = tuple[type[models.Model], str]

REQUIRED = {
    "sources": ("id", "publisher", "title", "date", "url", "type"),
    "organisations": ("id", "name", "type", "role", "source_ids", "status"),
    "milestones": (
        "id",
        "date",
        "precision",
        "event",
        "phase",
        "responsible",
        "source_ids",
        "status",
    ),
    "code_measures": (
        "id",
        "measure_id",
        "title",
        "code",
        "description",
        "applies_to",
        "grooming_relevance",
        "source_ids",
        "status",
    ),
    "statistics": (
        "id",
        "metric",
        "value",
        "period",
        "coverage",
        "data_publisher",
        "source_ids",
        "status",
    ),
    "commitments": (
        "id",
        "platform",
        "owner",
        "date",
        "precision",
        "commitment",
        "source_ids",
        "status",
    ),
    "corrections": ("id", "field", "old", "new", "source_ids", "evidence"),
}
SECTION_MODELS = {
    "sources": Source,
    "organisations": Organisation,
    "milestones": Milestone,
    "code_measures": Measure,
    "statistics": Observation,
    "commitments": Commitment,
}
# The facts' names for model fields, so an error names the field the file's author wrote.
FACT_FIELD_NAMES = {
    "title": "event",
    "who_must_act": "responsible",
    "verification": "status",
    "summary": "description",
    "reference": "measure_id",
    "instrument_reference": "code",
    "relevance": "grooming_relevance",
    "value_text": "value",
    "period_label": "period",
    "publisher_name": "publisher",
    "origin": "type",
    "kind_label": "type",
    "description": "role",
}
# What a correction may change, per record type, and the model fields behind each facts field.
CORRECTABLE = {
    Milestone: {"date", "event", "notes", "status", "source_ids"},
    Measure: {"measure_id", "notes", "status", "source_ids"},
    Commitment: {"notes", "status", "source_ids"},
    Observation: {"notes", "status", "source_ids"},
    Organisation: {"notes", "status", "source_ids"},
}
# The curation's names for the records its corrections change.
CURATED_MODELS = {
    "milestone": Milestone,
    "measure": Measure,
    "commitment": Commitment,
    "observation": Observation,
    "organisation": Organisation,
    "platform": Platform,
    "instrument": Instrument,
    "indicator": Indicator,
}
# Fields a curation correction may not change: identity, publishing (the publishing rule owns
# it) and a milestone's date (a date moves through move_to(), by a facts correction).
NOT_CORRECTABLE = {
    "id",
    "key",
    "slug",
    "status",
    "created_at",
    "updated_at",
    "date",
    "date_precision",
    "date_end",
    "certainty",
    "date_label",
}
CURATION_CORRECTION_KEYS = ("record", "model", "field", "new", "source_ids", "reason")
STATUS_UPDATE_KEYS = ("commitment", "on", "precision", "delivery_status", "evidence", "note")
CORRECTION_FIELDS = {
    "date": ("date", "date_precision", "certainty", "date_label"),
    "event": ("title",),
    "notes": ("notes",),
    "status": ("verification",),
    "source_ids": ("sources",),
    "measure_id": ("reference",),
}


class SeedError(Exception):
    """The seed data is inconsistent; nothing was loaded. Its lines say what and where."""

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


@dataclass
class Spec:
    """One record a release creates: its plain fields, references and citations."""

    model: type[models.Model]
    fact_id: str
    file: str
    fields: dict[str, Any]
    sources: list[str] = field(default_factory=list)
    refs: dict[str, Ref | None] = field(default_factory=dict)
    m2m: dict[str, list[Ref]] = field(default_factory=dict)
    # Records seeded before the seed had a memory are found once by this field, then adopted.
    match_field: str = "key"

    @property
    def status(self) -> str:
        return Status.PUBLISHED if self.sources else Status.DRAFT


@dataclass
class Correction:
    """One change a release makes to a record an earlier release loaded.

    The facts' corrections name a facts field (`field`, e.g. 'event'); the curation's name the
    model field itself and may remove a value (None) or change a reference or a set of links.
    """

    number: int
    file: str
    model: type[models.Model]
    fact_id: str
    field: str
    new: Any
    source_ids: list[str]
    evidence: str
    curated: bool = False
    # The value the release that loaded the record gave it, as the curation states it: compared
    # with the record where the seed's memory does not hold that field (added by a later release).
    old: Any = None

    @property
    def model_fields(self) -> tuple[str, ...]:
        return (self.field,) if self.curated else CORRECTION_FIELDS[self.field]

    @property
    def label(self) -> str:
        return f"curation correction {self.number}" if self.curated else f"correction {self.number}"


@dataclass
class StatusUpdate:
    """News of a commitment's delivery the curation found in a source (record_update())."""

    file: str
    commitment: str
    on: dt.date
    precision: str
    delivery_status: str
    evidence: str
    note: str

    @property
    def fact_id(self) -> str:
        return f"{self.commitment}@{self.on.isoformat()}:{self.delivery_status}"


@dataclass
class Release:
    name: str
    facts_path: Path
    curation_path: Path
    specs: list[Spec] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    status_updates: list[StatusUpdate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SeedError(f"{path.name}: cannot read the file ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise SeedError(f"{path.name}: not UTF-8 text ({error.reason})") from error
    if not text.strip():
        raise SeedError(f"{path.name}: the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # A file cut short in a copy is the usual cause; the position helps find the damage.
        raise SeedError(
            f"{path.name}: unreadable JSON (cut short or damaged?): {error.msg} "
            f"at line {error.lineno} column {error.colno}"
        ) from error


JSON_KINDS = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
}


def json_kind(value: Any) -> str:
    return "null" if value is None else JSON_KINDS.get(type(value), type(value).__name__)


def read_manifest(path: Path) -> list[Release]:
    """The ordered releases a manifest lists (see fixtures/releases.json)."""
    data = read_json(path)
    entries = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SeedError(f"{path.name}: no 'releases' list")
    releases, names = [], set()
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not {"name", "facts", "curation"} <= set(entry):
            raise SeedError(f"{path.name}: release {n}: needs name, facts and curation")
        if entry["name"] in names:
            raise SeedError(f"{path.name}: {entry['name']}: name: listed twice")
        names.add(entry["name"])
        releases.append(
            Release(entry["name"], path.parent / entry["facts"], path.parent / entry["curation"])
        )
    return releases


class Planner:
    """Plans the releases in order; what earlier releases define (sources, organisations,
    platforms, ...) may be referred to by later ones."""

    def __init__(self) -> None:
        self.known: set[Ref] = set()
        self.organisation_facts: dict[str, dict] = {}
        self.indicator_publishers: dict[str, str] = {}
        self.curation: dict[str, Any] = {}

    def plan(self, release: Release, facts: dict | None = None, curation: dict | None = None):
        facts = facts if facts is not None else self._read(release, release.facts_path)
        curation = curation if curation is not None else self._read(release, release.curation_path)
        if release.errors:
            return
        _ReleasePlan(self, release, facts, curation).build()

    @staticmethod
    def _read(release: Release, path: Path) -> dict:
        try:
            data = read_json(path)
        except SeedError as error:
            release.errors.extend(error.lines)
            return {}
        if not isinstance(data, dict):
            release.errors.append(
                f"{path.name}: expected a JSON object at the top level, not {json_kind(data)}"
            )
            return {}
        return data


class _ReleasePlan:
    def __init__(self, planner: Planner, release: Release, facts: dict, curation: dict) -> None:
        self.planner, self.release = planner, release
        self.facts, self.own_curation = facts, curation
        self.file = release.facts_path.name
        self.curation_file = release.curation_path.name
        self.sections: dict[str, list[dict]] = {}
        self.cited: list[tuple[str, str, str, str]] = []  # file, id, field, source id
        self.referred: list[tuple[str, str, str, Ref]] = []  # file, id, field, target

    # The release as a whole.

    def build(self) -> None:
        self._read_sections()
        self._merge_curation()
        self._plan_sources()
        self._plan_organisations()
        self._plan_curated()
        self._plan_measures()
        self._plan_milestones()
        self._plan_commitments()
        self._plan_statistics()
        self._plan_corrections()
        self._plan_curation_corrections()
        self._plan_status_updates()
        self._check_references()
        for spec in self.release.specs:
            self._full_clean(spec)

    def error(self, fact_id: Any, field_name: str, problem: str, file: str | None = None) -> None:
        self.release.errors.append(f"{file or self.file}: {fact_id}: {field_name}: {problem}")

    def _read_sections(self) -> None:
        for name in self.facts:
            if name not in REQUIRED:
                self.error("-", name, "unknown section")
        seen = set()
        for name, required in REQUIRED.items():
            entries = self.facts.get(name, [])
            if not isinstance(entries, list):
                self.error("-", name, "must be a list of entries")
                entries = []
            good = []
            for n, entry in enumerate(entries, 1):
                fact_id = entry.get("id") if isinstance(entry, dict) else None
                if not isinstance(fact_id, str) or not fact_id:
                    self.error(f"{name}[{n}]", "id", "missing")
                    continue
                missing = [key for key in required if key not in entry]
                for key in missing:
                    self.error(fact_id, key, "missing")
                if name == "corrections":
                    good.append(entry)
                    continue
                if fact_id in seen or (SECTION_MODELS[name], fact_id) in self.planner.known:
                    self.error(fact_id, "id", "duplicate id")
                    continue
                seen.add(fact_id)
                self.planner.known.add((SECTION_MODELS[name], fact_id))
                if not missing and self._texts_are_text(entry, name):
                    good.append(entry)
            self.sections[name] = good
        for entry in self.sections["organisations"]:
            self.planner.organisation_facts[entry["id"]] = entry

    def _texts_are_text(self, entry: dict, section: str) -> bool:
        ok = True
        for key, value in entry.items():
            expected = list if key in ("source_ids",) else (str, type(None))
            if key in ("relationships",) or section == "corrections":
                continue
            if not isinstance(value, expected):
                self.error(entry["id"], key, f"has the wrong type ({type(value).__name__})")
                ok = False
        return ok

    def _merge_curation(self) -> None:
        """Each release's curation adds to what earlier ones classified."""
        merged = self.planner.curation
        for key, value in self.own_curation.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)

    def cur(self, section: str) -> Any:
        return self.planner.curation.get(section, {})

    def own(self, section: str) -> list:
        return self.own_curation.get(section, [])

    def classified(self, section: str, fact_id: str) -> dict | None:
        extra = self.cur(section).get(fact_id)
        if extra is None:
            self.error(fact_id, "-", f"not classified in the curation's {section!r}")
        return extra

    def verification(self, entry: dict) -> str:
        status = entry["status"]
        if status not in Verification.values:
            self.error(entry["id"], "status", f"{status!r} is not confirmed or unverified")
        return status

    def cite(self, spec: Spec, file: str | None = None, field_name: str = "source_ids") -> Spec:
        for sid in spec.sources:
            self.cited.append((file or self.file, spec.fact_id, field_name, sid))
        for name, ref in spec.refs.items():
            if ref is not None:
                self.referred.append((file or self.file, spec.fact_id, name, ref))
        for name, refs in spec.m2m.items():
            for ref in refs:
                self.referred.append((file or self.file, spec.fact_id, name, ref))
        self.release.specs.append(spec)
        return spec

    def parsed(self, fact_id: str, field_name: str, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except EntryError as error:
            self.error(fact_id, field_name, str(error))
            return None

    # Sections.

    def _plan_sources(self) -> None:
        kinds = {sid: kind for kind, ids in self.cur("source_kinds").items() for sid in ids}
        publishers = self.cur("source_publishers")
        for entry in self.sections["sources"]:
            parsed = self.parsed(entry["id"], "date", lambda e=entry: source_date(e["date"]))
            if parsed is None:
                continue
            published_on, precision, note = parsed
            publisher = publishers.get(entry["id"])
            self.cite(
                Spec(
                    Source,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "title": entry["title"],
                        "url": entry["url"],
                        "publisher_name": entry["publisher"],
                        "published_on": published_on,
                        "published_precision": precision,
                        "date_note": note,
                        "origin": entry["type"],
                        "kind": kinds.get(entry["id"], Source.Kind.OTHER),
                    },
                    refs={"publisher": (Organisation, publisher) if publisher else None},
                )
            )

    def _plan_organisations(self) -> None:
        for entry in self.sections["organisations"]:
            extra = self.classified("organisations", entry["id"])
            if extra is None:
                continue
            self.cite(
                Spec(
                    Organisation,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "slug": extra["slug"],
                        "name": entry["name"],
                        "kind": extra["kind"],
                        "kind_label": entry["type"],
                        "description": entry["role"],
                        "relationships": entry.get("relationships") or {},
                        "verification": self.verification(entry),
                        "notes": entry.get("notes") or "",
                    },
                    sources=entry["source_ids"],
                )
            )

    def _plan_curated(self) -> None:
        """Topics, platforms and instruments: named by the curation, matched by its slug."""
        for entry in self.own("topics"):
            self.planner.known.add((Topic, entry["slug"]))
            self.cite(
                Spec(
                    Topic,
                    entry["slug"],
                    self.curation_file,
                    {"slug": entry["slug"], "name": entry["name"]},
                    match_field="slug",
                ),
                self.curation_file,
            )
        for entry in self.own("platforms"):
            self.planner.known.add((Platform, entry["slug"]))
            self._plan_platform(entry)
        for entry in self.own("instruments"):
            self.planner.known.add((Instrument, entry["slug"]))
            self.cite(
                Spec(
                    Instrument,
                    entry["slug"],
                    self.curation_file,
                    {
                        "slug": entry["slug"],
                        "title": entry["title"],
                        "short_name": entry["short_name"],
                        "kind": entry["kind"],
                        "stage": entry["stage"],
                        "official_url": entry["official_url"],
                        "verification": entry.get("verification", Verification.CONFIRMED),
                        "notes": entry.get("notes", ""),
                    },
                    sources=entry["source_ids"],
                    refs={
                        "issuer": (Organisation, entry["issuer"]) if entry["issuer"] else None,
                        "parent": (Instrument, entry["parent"]) if entry["parent"] else None,
                    },
                    m2m={"topics": [(Topic, t) for t in entry.get("topics", [])]},
                    match_field="slug",
                ),
                self.curation_file,
            )

    def _plan_platform(self, entry: dict) -> None:
        """A platform rests on its own sources where the curation gives them; otherwise it
        claims its name and its owner, so it rests on the owner's sources."""
        owner_id = entry.get("owner")
        owner = self.planner.organisation_facts.get(owner_id) if owner_id else None
        if owner_id and owner is None:
            self.error(entry["slug"], "owner", f"unknown organisation {owner_id!r}")
            return
        if "source_ids" in entry:
            sources, verification = entry["source_ids"], entry.get("verification", "")
        elif owner is not None:
            sources, verification = owner["source_ids"], owner["status"]
        else:
            self.error(entry["slug"], "source_ids", "a platform without an owner needs sources")
            return
        if verification not in Verification.values:
            self.error(entry["slug"], "verification", f"{verification!r} is not a verification")
            return
        self.cite(
            Spec(
                Platform,
                entry["slug"],
                self.curation_file,
                {
                    "slug": entry["slug"],
                    "name": entry["name"],
                    "kind": entry["kind"],
                    "verification": verification,
                },
                sources=sources,
                refs={"owner": (Organisation, owner_id) if owner_id else None},
                match_field="slug",
            ),
            self.curation_file,
            "source_ids" if "source_ids" in entry else "owner",
        )

    def _plan_measures(self) -> None:
        for entry in self.sections["code_measures"]:
            extra = self.classified("measures", entry["id"])
            if extra is None:
                continue
            instrument = extra.get("instrument")
            self.cite(
                Spec(
                    Measure,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "reference": entry["measure_id"],
                        "title": entry["title"],
                        "instrument_reference": entry["code"],
                        "summary": entry["description"],
                        "applies_to": entry["applies_to"],
                        "relevance": entry["grooming_relevance"],
                        "verification": self.verification(entry),
                        "notes": entry.get("notes") or "",
                    },
                    sources=entry["source_ids"],
                    refs={"instrument": (Instrument, instrument) if instrument else None},
                    m2m={"topics": [(Topic, t) for t in extra.get("topics", [])]},
                )
            )

    def _plan_milestones(self) -> None:
        for entry in self.sections["milestones"]:
            extra = self.classified("milestones", entry["id"])
            date_fields = self.parsed(
                entry["id"],
                "date",
                lambda e=entry: milestone_date(
                    e["date"], e["precision"], e.get("season"), e.get("label")
                ),
            )
            if extra is None or date_fields is None:
                continue
            self.cite(
                Spec(
                    Milestone,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "title": entry["event"],
                        "kind": extra["kind"],
                        "phase": entry["phase"],
                        "who_must_act": entry["responsible"],
                        "verification": self.verification(entry),
                        "notes": entry.get("notes") or "",
                        **date_fields,
                    },
                    sources=entry["source_ids"],
                    m2m={
                        "instruments": [(Instrument, s) for s in extra.get("instruments", [])],
                        "platforms": [(Platform, s) for s in extra.get("platforms", [])],
                        "topics": [(Topic, s) for s in extra.get("topics", [])],
                    },
                )
            )

    def _plan_commitments(self) -> None:
        owners = self.cur("commitment_owners")
        for entry in self.sections["commitments"]:
            extra = self.classified("commitments", entry["id"])
            made = self.parsed(
                entry["id"], "date", lambda e=entry: commitment_date(e["date"], e["precision"])
            )
            if entry["owner"] not in owners:
                self.error(entry["id"], "owner", f"{entry['owner']!r} is not a known owner")
                continue
            if extra is None or made is None:
                continue
            # The facts list platforms' commitments against grooming.
            topics = ["online-grooming", *extra.get("topics", [])]
            self.cite(
                Spec(
                    Commitment,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "summary": entry["commitment"],
                        "platform_label": entry["platform"],
                        "made_on": made[0],
                        "made_on_precision": made[1],
                        "verification": self.verification(entry),
                        "notes": entry.get("notes") or "",
                    },
                    sources=entry["source_ids"],
                    refs={"made_by_organisation": (Organisation, owners[entry["owner"]])},
                    m2m={
                        "platforms": [(Platform, s) for s in extra.get("platforms", [])],
                        "topics": [(Topic, t) for t in topics],
                        "milestones": [(Milestone, m) for m in extra.get("milestones", [])],
                    },
                )
            )

    def _plan_statistics(self) -> None:
        groups = {m: g for g in self.cur("indicator_groups") for m in g["members"]}
        # Later releases add figures to indicators an earlier release made.
        for slug, members in self.own_curation.get("indicator_group_members", {}).items():
            groups.update({m: {"slug": slug} for m in members})
        extras = self.cur("statistics")
        by_id = {entry["id"]: entry for entry in self.sections["statistics"]}
        indicators: dict[str, Spec] = {}
        for entry in self.sections["statistics"]:
            group = groups.get(entry["id"]) or self._own_group(entry)
            # A group named only by a later release's indicator_group_members has no members
            # list: it must be an indicator an earlier release made (else reported just below).
            defined = "members" in group
            if (
                defined
                and group["slug"] not in indicators
                and (Indicator, group["slug"]) not in (self.planner.known)
            ):
                indicators[group["slug"]] = self._indicator(entry, group, by_id)
            if (Indicator, group["slug"]) not in self.planner.known:
                self.error(entry["id"], "indicator", f"unknown indicator {group['slug']!r}")
                continue
            indicator_publisher = self.planner.indicator_publishers.get(group["slug"])
            value, unit = parse_value(entry["value"])
            start, end = parse_period(entry["period"])
            extra = extras.get(entry["id"], {})
            self.cite(
                Spec(
                    Observation,
                    entry["id"],
                    self.file,
                    {
                        "key": entry["id"],
                        "metric": entry["metric"],
                        "value_text": entry["value"],
                        "value": value,
                        "unit": unit,
                        "period_label": entry["period"],
                        "period_start": start,
                        "period_end": end,
                        "coverage": entry["coverage"],
                        # Its own publisher only where it differs from its indicator's (ST07).
                        "publisher_name": ""
                        if entry["data_publisher"] == indicator_publisher
                        else entry["data_publisher"],
                        "verification": self.verification(entry),
                        "notes": entry.get("notes") or "",
                    },
                    sources=entry["source_ids"],
                    refs={"indicator": (Indicator, group["slug"])},
                    m2m={
                        "platforms": [(Platform, s) for s in extra.get("platforms", [])],
                        "conflicts_with": [
                            (Observation, k) for k in extra.get("conflicts_with", [])
                        ],
                    },
                )
            )

    @staticmethod
    def _own_group(entry: dict) -> dict:
        return {
            "slug": entry["id"].lower(),
            "name": entry["metric"],
            "unit": parse_value(entry["value"])[1],
            "members": [entry["id"]],
            "method_note": "",
        }

    def _indicator(self, entry: dict, group: dict, by_id: dict[str, dict]) -> Spec:
        self.planner.known.add((Indicator, group["slug"]))
        self.planner.indicator_publishers[group["slug"]] = entry["data_publisher"]
        members = [by_id[m] for m in group["members"] if m in by_id]
        sources = list(dict.fromkeys(sid for m in members for sid in m["source_ids"]))
        confirmed = any(m["status"] == Verification.CONFIRMED for m in members)
        publisher = self.cur("data_publishers").get(entry["data_publisher"])
        spec = Spec(
            Indicator,
            group["slug"],
            self.curation_file,
            {
                "slug": group["slug"],
                "name": group["name"],
                "unit": group["unit"],
                "publisher_name": entry["data_publisher"],
                "method_note": group["method_note"],
                "verification": Verification.CONFIRMED if confirmed else Verification.UNVERIFIED,
            },
            sources=sources,
            refs={"publisher": (Organisation, publisher) if publisher else None},
            match_field="slug",
        )
        # Cited before its observations, so it is created first.
        self.release.specs.append(spec)
        if publisher:
            self.referred.append(
                (self.curation_file, spec.fact_id, "publisher", spec.refs["publisher"])
            )
        return spec

    def _plan_corrections(self) -> None:
        for number, entry in enumerate(self.facts.get("corrections", []), 1):
            if not isinstance(entry, dict) or any(k not in entry for k in REQUIRED["corrections"]):
                continue  # reported as missing keys
            model = self._model_of(entry["id"])
            if model is None:
                self.error(entry["id"], "id", "a correction to an unknown record")
                continue
            if entry["field"] not in CORRECTABLE.get(model, set()):
                self.error(entry["id"], entry["field"], "cannot be corrected by a release")
                continue
            new = self._corrected_value(entry, model)
            if new is None:
                continue
            for sid in entry["source_ids"]:
                self.cited.append((self.file, entry["id"], "correction source_ids", sid))
            if not entry["source_ids"]:
                self.error(entry["id"], "source_ids", "a correction needs a source")
                continue
            self.release.corrections.append(
                Correction(
                    number,
                    self.file,
                    model,
                    entry["id"],
                    entry["field"],
                    new,
                    entry["source_ids"],
                    entry["evidence"],
                )
            )

    def _model_of(self, fact_id: str) -> type[models.Model] | None:
        for model in CORRECTABLE:
            if (model, fact_id) in self.planner.known:
                return model
        return None

    def _corrected_value(self, entry: dict, model: type[models.Model]) -> Any:
        new, field_name = entry["new"], entry["field"]
        if field_name == "source_ids":
            if not isinstance(new, list):
                self.error(entry["id"], field_name, "must be a list of source ids")
                return None
            for sid in new:
                self.cited.append((self.file, entry["id"], "source_ids", sid))
            return new
        if not isinstance(new, str):
            self.error(entry["id"], field_name, "must be text")
            return None
        if field_name == "status" and new not in Verification.values:
            self.error(entry["id"], field_name, f"{new!r} is not confirmed or unverified")
            return None
        if field_name == "date":
            return self.parsed(entry["id"], "new", lambda: _corrected_date(new))
        model_field = model._meta.get_field(CORRECTION_FIELDS[field_name][0])
        try:
            model_field.clean(new, None)
        except ValidationError as error:
            for message in error.messages:
                self.error(entry["id"], field_name, message)
            return None
        return new

    def _plan_curation_corrections(self) -> None:
        for number, entry in enumerate(self.own("corrections"), 1):
            where = (
                entry.get("record", f"corrections[{number}]") if isinstance(entry, dict) else "-"
            )
            missing = [
                k for k in CURATION_CORRECTION_KEYS if not isinstance(entry, dict) or k not in entry
            ]
            if missing:
                self.error(where, ", ".join(missing), "missing", self.curation_file)
                continue
            model = CURATED_MODELS.get(entry["model"])
            if model is None or (model, entry["record"]) not in self.planner.known:
                self.error(where, "record", "a correction to an unknown record", self.curation_file)
                continue
            new = self._curated_value(entry, model)
            if new is _INVALID:
                continue
            for sid in entry["source_ids"]:
                self.cited.append((self.curation_file, where, "correction source_ids", sid))
            self.release.corrections.append(
                Correction(
                    number,
                    self.curation_file,
                    model,
                    entry["record"],
                    entry["field"],
                    new,
                    list(entry["source_ids"]),
                    entry["reason"],
                    curated=True,
                    old=entry.get("old"),
                )
            )

    def _curated_value(self, entry: dict, model: type[models.Model]) -> Any:
        """The corrected value, checked like the record's own field; _INVALID if it is not."""
        where, name, new = entry["record"], entry["field"], entry["new"]
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if model_field is None or name in NOT_CORRECTABLE or not model_field.concrete:
            self.error(where, name, "cannot be corrected by a release", self.curation_file)
            return _INVALID
        if model_field.many_to_many:
            if not isinstance(new, list) or not all(isinstance(i, str) for i in new):
                self.error(where, name, "must be a list of ids", self.curation_file)
                return _INVALID
            for target in new:
                self._refer_to(where, name, model_field.related_model, target)
            return new
        if model_field.many_to_one:
            if new is not None and not isinstance(new, str):
                self.error(where, name, "must be an id or null", self.curation_file)
                return _INVALID
            if new is None and not model_field.null:
                self.error(where, name, "cannot be removed", self.curation_file)
                return _INVALID
            if new is not None:
                self._refer_to(where, name, model_field.related_model, new)
            return new
        try:
            value = model_field.to_python(new)
            if value is None and not model_field.null:
                raise ValidationError("This field cannot be removed.")
            if value is not None:
                model_field.clean(value, None)
        except ValidationError as error:
            for message in error.messages:
                self.error(where, name, message, self.curation_file)
            return _INVALID
        return value

    def _refer_to(self, where: str, name: str, target: type[models.Model], key: str) -> None:
        if target is Source:
            self.cited.append((self.curation_file, where, name, key))
        else:
            self.referred.append((self.curation_file, where, name, (target, key)))

    def _plan_status_updates(self) -> None:
        for number, entry in enumerate(self.own("status_updates"), 1):
            where = (
                entry.get("commitment", f"status_updates[{number}]")
                if isinstance(entry, dict)
                else "-"
            )
            missing = [
                k for k in STATUS_UPDATE_KEYS if not isinstance(entry, dict) or k not in entry
            ]
            if missing:
                self.error(where, ", ".join(missing), "missing", self.curation_file)
                continue
            on = self.parsed(where, "on", lambda e=entry: _update_date(e["on"], e["precision"]))
            if entry["delivery_status"] not in DeliveryStatus.values:
                self.error(
                    where,
                    "delivery_status",
                    f"unknown status {entry['delivery_status']!r}",
                    self.curation_file,
                )
                continue
            if on is None:
                continue
            self.referred.append((self.curation_file, where, "commitment", (Commitment, where)))
            self.cited.append((self.curation_file, where, "evidence", entry["evidence"]))
            self.release.status_updates.append(
                StatusUpdate(
                    self.curation_file,
                    where,
                    on,
                    entry["precision"],
                    entry["delivery_status"],
                    entry["evidence"],
                    entry["note"],
                )
            )

    # Checks across entries.

    def _check_references(self) -> None:
        known = self.planner.known
        for file, fact_id, field_name, sid in self.cited:
            if (Source, sid) not in known:
                self.error(fact_id, field_name, f"cites {sid}, which is not a known source", file)
        for file, fact_id, field_name, (model, target) in self.referred:
            if (model, target) not in known:
                name = model._meta.verbose_name
                self.error(fact_id, field_name, f"refers to an unknown {name} {target!r}", file)

    def _full_clean(self, spec: Spec) -> None:
        """The model's own validation (lengths, choices, URLs, constraints) on every record,
        before anything is written. References are checked above, by id."""
        instance = spec.model(**spec.fields)
        if isinstance(instance, Milestone) and instance.date and instance.date_precision:
            # An unknown precision is reported by its own field below.
            with contextlib.suppress(ValueError):
                instance.date_end = period_end(instance.date, instance.date_precision)
        exclude = [f.name for f in spec.model._meta.get_fields() if f.is_relation]
        if spec.match_field == "key":
            exclude.append("slug")  # made from the title when the record is saved
        errors: dict[str, list[str]] = {}
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            errors = error.message_dict
        for constraint in spec.model._meta.constraints:
            # Each check is a database query: a field's choices check repeats what its own
            # validation just said, so only the others run (as full_clean would, skipping fields
            # already in error).
            if constraint.name.endswith("_in_choices"):
                continue
            try:
                constraint.validate(spec.model, instance, exclude={*exclude, *errors})
            except ValidationError as error:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(error.messages)
        if errors:
            for name, messages in errors.items():
                for message in messages:
                    label = FACT_FIELD_NAMES.get(name, name)
                    if name == NON_FIELD_ERRORS:
                        label = _constraint_fields(spec.model, message)
                    self.error(spec.fact_id, label, message, spec.file)


def _constraint_fields(model: type[models.Model], message: str) -> str:
    """The facts' fields a failed check constraint is about, e.g. 'value' for a percentage."""
    facts_keys = {key for keys in REQUIRED.values() for key in keys}
    for constraint in model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        if condition is None or constraint.get_violation_error_message() != message:
            continue
        names = {FACT_FIELD_NAMES.get(f, f) for f in condition.referenced_base_fields}
        return ", ".join(sorted(names & facts_keys)) or "-"
    return "-"


_INVALID = object()


def _update_date(text: str, precision: str) -> dt.date:
    """A status update's date: the first day of its period, at a day, month or year."""
    if precision not in (Precision.DAY, Precision.MONTH, Precision.YEAR):
        raise EntryError(f"unknown precision {precision!r} (day, month or year)")
    try:
        on = dt.date.fromisoformat(text)
    except (TypeError, ValueError) as error:
        raise EntryError(f"{text!r} is not a date (YYYY-MM-DD)") from error
    if period_start(on, precision) != on:
        raise EntryError(f"date {text!r} does not match its precision {precision!r}")
    return on


def _corrected_date(text: str) -> dict[str, Any]:
    """A correction's new date, at the precision it is written to; its certainty is kept."""
    fields = milestone_date(text, "expected")
    del fields["certainty"]
    return fields
