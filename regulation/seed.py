"""Load the seed data: the facts (fixtures/osa-facts.json) with the project's editorial
classification of them (fixtures/curation.json).

The loader only creates what is missing, matched by each record's stable key (the fact id, e.g.
M21) or slug, so it can run again at any time: a second run changes nothing, and a record that
staff have edited since keeps their edits. Everything happens in one transaction: bad seed data
is reported and nothing is written.
"""

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from regulation.dates import Precision
from regulation.models import (
    Certainty,
    Commitment,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    PublicRecord,
    Source,
    Status,
    Topic,
    Unit,
    Verification,
)

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
SEED_REASON = "Loaded from the seed data"


class SeedError(Exception):
    """The seed data is inconsistent; nothing was loaded."""


# --- Reading the facts' formats ---------------------------------------------------------------

_FUZZY_DATE = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2}))?(?:-(?P<day>\d{2}))?(?P<rest>.*)")


def parse_fuzzy_date(text: str) -> tuple[dt.date | None, str, str]:
    """'2024-12-16' / '2024-12' / '2024' / '2020-03 (site updated 2023)' / 'undated (...)'.

    Returns (first day of the period, precision, what qualifies the date in words).
    """
    match = _FUZZY_DATE.fullmatch(text.strip())
    if not match:
        return None, Precision.DAY, text.strip()
    year, month, day = match["year"], match["month"], match["day"]
    rest = match["rest"].strip()
    if day:
        return dt.date(int(year), int(month), int(day)), Precision.DAY, rest
    if month:
        return dt.date(int(year), int(month), 1), Precision.MONTH, rest
    return dt.date(int(year), 1, 1), Precision.YEAR, rest


def milestone_date(text: str, precision: str) -> dict[str, Any]:
    """A milestone's date fields. The facts' precision 'expected' is a certainty, not a precision:
    the precision then follows from how much of the date is given."""
    value, parsed_precision, rest = parse_fuzzy_date(text)
    if value is None:
        raise SeedError(f"unreadable milestone date {text!r}")
    if precision not in ("expected", parsed_precision):
        raise SeedError(f"date {text!r} does not match its precision {precision!r}")
    label = ""
    if rest:
        if rest != "(mid)":
            raise SeedError(f"unreadable qualifier {rest!r} in milestone date {text!r}")
        label = f"mid-{value.year}"
    return {
        "date": value,
        "date_precision": parsed_precision,
        "certainty": Certainty.EXPECTED if precision == "expected" else Certainty.CONFIRMED,
        "date_label": label,
    }


_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})*)(?:\s*\([^()]*\))?")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
_PERCENT_CHANGE = re.compile(r"([+-]\d+(?:\.\d+)?)%")


def parse_value(text: str) -> tuple[Decimal | None, str]:
    """A figure as published -> (number, unit) where it is one plain number; else words.

    A count may carry a qualifier in brackets ("7,263 (record)"): the words stay in the
    published text, the number feeds charts.
    """
    text = text.strip()
    if match := _COUNT.fullmatch(text):
        return Decimal(match[1].replace(",", "")), Unit.COUNT
    if match := _PERCENT.fullmatch(text):
        return Decimal(match[1]), Unit.PERCENT
    if match := _PERCENT_CHANGE.fullmatch(text):
        return Decimal(match[1]), Unit.PERCENT_CHANGE
    return None, Unit.TEXT


_FINANCIAL_YEARS = re.compile(
    r"\d{4}/\d{2}(?:\s*(?:→|,)\s*\d{4}/\d{2})*(?:\s*\((?:annual|year to Mar (\d{4}))\))?"
)
_CALENDAR_YEARS = re.compile(r"(\d{4})(?:–(\d{4}))?")
_HALF_YEAR = re.compile(r"H([12]) (\d{4})")


def parse_period(label: str) -> tuple[dt.date | None, dt.date | None]:
    """Start and end of a statistic's period where its label states one unambiguously.

    Police-recorded crime is counted in financial years: '2023/24' runs from 1 April 2023 to
    31 March 2024. Labels in other forms ('to Jun 2024', '2023 research') keep no dates.
    """
    label = label.strip()
    if match := _FINANCIAL_YEARS.fullmatch(label):
        years = [int(y) for y in re.findall(r"(\d{4})/\d{2}", label)]
        if match[1] and int(match[1]) != years[-1] + 1:
            return None, None
        return dt.date(years[0], 4, 1), dt.date(years[-1] + 1, 3, 31)
    if match := _CALENDAR_YEARS.fullmatch(label):
        first, last = int(match[1]), int(match[2] or match[1])
        return dt.date(first, 1, 1), dt.date(last, 12, 31)
    if match := _HALF_YEAR.fullmatch(label):
        half, year = int(match[1]), int(match[2])
        if half == 1:
            return dt.date(year, 1, 1), dt.date(year, 6, 30)
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return None, None


# --- Loading ----------------------------------------------------------------------------------


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        names = list(dict.fromkeys([*self.created, *self.kept]))
        return [
            f"{name}: {self.created[name]} created, {self.kept[name]} already present (kept)"
            for name in names
        ]

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def read_fixture(name: str) -> dict:
    path = FIXTURES_DIR / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SeedError(f"cannot read {path}: {error}") from error


def load_seed(facts: dict | None = None, curation: dict | None = None) -> SeedReport:
    facts = facts if facts is not None else read_fixture("osa-facts.json")
    curation = curation if curation is not None else read_fixture("curation.json")
    loader = _Loader(facts, curation)
    loader.check()
    with transaction.atomic():
        loader.run()
    return loader.report


class _Loader:
    def __init__(self, facts: dict, curation: dict) -> None:
        self.facts, self.curation = facts, curation
        self.report = SeedReport()
        self.sources: dict[str, Source] = {}
        self.organisations: dict[str, Organisation] = {}
        self.platforms: dict[str, Platform] = {}
        self.topics: dict[str, Topic] = {}
        self.instruments: dict[str, Instrument] = {}
        self.milestones: dict[str, Milestone] = {}
        self.indicators: dict[str, Indicator] = {}
        self._present: dict[tuple, dict] = {}

    # Consistency of the input, before anything is written.

    def check(self) -> None:
        for section in ("milestones", "code_measures", "statistics", "commitments"):
            if section not in self.facts:
                raise SeedError(f"the facts have no '{section}' section")
        source_ids = {s["id"] for s in self.facts.get("sources", [])}
        cited = [
            (entry["id"], sid)
            for section in (
                "milestones",
                "code_measures",
                "statistics",
                "commitments",
                "organisations",
            )
            for entry in self.facts.get(section, [])
            for sid in entry.get("source_ids", [])
        ]
        cited += [(i["slug"], sid) for i in self.curation["instruments"] for sid in i["source_ids"]]
        missing = sorted({f"{owner} cites {sid}" for owner, sid in cited if sid not in source_ids})
        if missing:
            raise SeedError("unknown sources: " + "; ".join(missing))
        for section, facts_section in (
            ("milestones", "milestones"),
            ("measures", "code_measures"),
            ("commitments", "commitments"),
        ):
            absent = {e["id"] for e in self.facts[facts_section]} - set(self.curation[section])
            if absent:
                raise SeedError(f"curation.json does not classify {section} {sorted(absent)}")

    def run(self) -> None:
        self.load_sources()
        self.load_organisations()
        self.link_source_publishers()
        self.load_topics()
        self.load_platforms()
        self.load_instruments()
        self.load_measures()
        self.load_milestones()
        self.load_commitments()
        self.load_statistics()

    # Helpers.

    def _existing(self, model, lookup: dict) -> Any:
        """The record already in the database, from one query per model and natural key."""
        [(field_name, value)] = lookup.items()
        cache_key = (model, field_name)
        if cache_key not in self._present:
            self._present[cache_key] = model._default_manager.in_bulk(field_name=field_name)
        return self._present[cache_key].get(value)

    def _create(self, model: type[PublicRecord], sources: list[str], **fields) -> Any:
        """Create a public record citing its sources; published only if it cites one.

        Created as a draft first: a record cannot cite sources before it exists, and
        publish() is the one way to publish (it checks the sources)."""
        record = model(status=Status.DRAFT, **fields)
        record._change_reason = SEED_REASON
        record.save()
        record.sources.add(*(self.sources[sid] for sid in sources))
        if sources:
            record.publish()
        return record

    def _get_or_create(self, model, lookup: dict, make) -> tuple[Any, bool]:
        name = model._meta.verbose_name_plural.capitalize()
        existing = self._existing(model, lookup)
        if existing is not None:
            self.report.kept[name] += 1
            return existing, False
        self.report.created[name] += 1
        return make(), True

    @staticmethod
    def _verification(entry: dict) -> str:
        status = entry.get("status")
        if status not in (Verification.CONFIRMED, Verification.UNVERIFIED):
            raise SeedError(f"{entry.get('id')}: status must be confirmed or unverified")
        return status

    # Sections.

    def load_sources(self) -> None:
        kinds = {sid: kind for kind, ids in self.curation["source_kinds"].items() for sid in ids}
        for entry in self.facts["sources"]:
            published_on, precision, note = parse_fuzzy_date(entry["date"])

            def make(entry=entry, published_on=published_on, precision=precision, note=note):
                source = Source(
                    key=entry["id"],
                    title=entry["title"],
                    url=entry["url"],
                    publisher_name=entry["publisher"],
                    published_on=published_on,
                    published_precision=precision,
                    date_note=note,
                    origin=entry["type"],
                    kind=kinds.get(entry["id"], Source.Kind.OTHER),
                )
                source._change_reason = SEED_REASON
                source.save()
                return source

            self.sources[entry["id"]], _ = self._get_or_create(Source, {"key": entry["id"]}, make)

    def load_organisations(self) -> None:
        for entry in self.facts["organisations"]:
            extra = self.curation["organisations"][entry["id"]]
            self.organisations[entry["id"]], _ = self._get_or_create(
                Organisation,
                {"key": entry["id"]},
                lambda entry=entry, extra=extra: self._create(
                    Organisation,
                    entry["source_ids"],
                    key=entry["id"],
                    slug=extra["slug"],
                    name=entry["name"],
                    kind=extra["kind"],
                    kind_label=entry["type"],
                    description=entry["role"],
                    relationships=entry.get("relationships") or {},
                    verification=self._verification(entry),
                    notes=entry.get("notes", ""),
                ),
            )

    def link_source_publishers(self) -> None:
        for source_id, org_key in self.curation["source_publishers"].items():
            source = self.sources[source_id]
            if source.publisher_id is None and source.history.count() == 1:
                # Only a source nobody has edited since it was seeded gets its publisher linked.
                source.publisher = self.organisations[org_key]
                source._change_reason = SEED_REASON
                source.save(update_fields=["publisher"])

    def load_topics(self) -> None:
        for entry in self.curation["topics"]:
            self.topics[entry["slug"]], _ = self._get_or_create(
                Topic,
                {"slug": entry["slug"]},
                lambda entry=entry: Topic.objects.create(slug=entry["slug"], name=entry["name"]),
            )

    def load_platforms(self) -> None:
        for entry in self.curation["platforms"]:
            owner = self.organisations[entry["owner"]]
            owner_facts = next(o for o in self.facts["organisations"] if o["id"] == entry["owner"])
            # A platform record claims its name and its owner: it rests on the owner's sources.
            self.platforms[entry["slug"]], _ = self._get_or_create(
                Platform,
                {"slug": entry["slug"]},
                lambda entry=entry, owner=owner, owner_facts=owner_facts: self._create(
                    Platform,
                    owner_facts["source_ids"],
                    slug=entry["slug"],
                    name=entry["name"],
                    owner=owner,
                    kind=entry["kind"],
                    verification=self._verification(owner_facts),
                ),
            )

    def load_instruments(self) -> None:
        for entry in self.curation["instruments"]:

            def make(entry=entry):
                instrument = self._create(
                    Instrument,
                    entry["source_ids"],
                    slug=entry["slug"],
                    title=entry["title"],
                    short_name=entry["short_name"],
                    kind=entry["kind"],
                    issuer=self.organisations.get(entry["issuer"]),
                    parent=self.instruments.get(entry["parent"]),
                    stage=entry["stage"],
                    official_url=entry["official_url"],
                    verification=Verification.CONFIRMED,
                    notes=entry.get("notes", ""),
                )
                instrument.topics.add(*[self.topics[t] for t in entry.get("topics", [])])
                return instrument

            self.instruments[entry["slug"]], _ = self._get_or_create(
                Instrument, {"slug": entry["slug"]}, make
            )

    def load_measures(self) -> None:
        for entry in self.facts["code_measures"]:
            extra = self.curation["measures"][entry["id"]]

            def make(entry=entry, extra=extra):
                measure = self._create(
                    Measure,
                    entry["source_ids"],
                    key=entry["id"],
                    reference=entry["measure_id"],
                    title=entry["title"],
                    instrument=self.instruments.get(extra["instrument"]),
                    instrument_reference=entry["code"],
                    summary=entry["description"],
                    applies_to=entry["applies_to"],
                    relevance=entry["grooming_relevance"],
                    verification=self._verification(entry),
                    notes=entry.get("notes", ""),
                )
                measure.topics.add(*[self.topics[t] for t in extra.get("topics", [])])
                return measure

            self._get_or_create(Measure, {"key": entry["id"]}, make)

    def load_milestones(self) -> None:
        for entry in self.facts["milestones"]:
            extra = self.curation["milestones"][entry["id"]]

            def make(entry=entry, extra=extra):
                milestone = self._create(
                    Milestone,
                    entry["source_ids"],
                    key=entry["id"],
                    title=entry["event"],
                    kind=extra["kind"],
                    phase=entry["phase"],
                    who_must_act=entry["responsible"],
                    verification=self._verification(entry),
                    notes=entry.get("notes", ""),
                    **milestone_date(entry["date"], entry["precision"]),
                )
                milestone.instruments.add(
                    *[self.instruments[s] for s in extra.get("instruments", [])]
                )
                milestone.platforms.add(*[self.platforms[s] for s in extra.get("platforms", [])])
                milestone.topics.add(*[self.topics[s] for s in extra.get("topics", [])])
                return milestone

            self.milestones[entry["id"]], _ = self._get_or_create(
                Milestone, {"key": entry["id"]}, make
            )

    def load_commitments(self) -> None:
        owners = self.curation["commitment_owners"]
        grooming = self.topics["online-grooming"]
        for entry in self.facts["commitments"]:
            extra = self.curation["commitments"][entry["id"]]
            made_on, precision, rest = parse_fuzzy_date(entry["date"])
            if made_on is None or rest or precision != entry["precision"]:
                raise SeedError(f"{entry['id']}: date {entry['date']!r} ≠ {entry['precision']}")

            def make(entry=entry, extra=extra, made_on=made_on, precision=precision):
                commitment = self._create(
                    Commitment,
                    entry["source_ids"],
                    key=entry["id"],
                    summary=entry["commitment"],
                    platform_label=entry["platform"],
                    made_by_organisation=self.organisations[owners[entry["owner"]]],
                    made_on=made_on,
                    made_on_precision=precision,
                    verification=self._verification(entry),
                    notes=entry.get("notes", ""),
                )
                commitment.platforms.add(*[self.platforms[s] for s in extra["platforms"]])
                # The facts list platforms' commitments against grooming.
                topics = [grooming, *(self.topics[t] for t in extra.get("topics", []))]
                commitment.topics.add(*topics)
                return commitment

            self._get_or_create(Commitment, {"key": entry["id"]}, make)

    def load_statistics(self) -> None:
        groups = {m: g for g in self.curation["indicator_groups"] for m in g["members"]}
        extras = self.curation["statistics"]
        created: dict[str, Observation] = {}
        for entry in self.facts["statistics"]:
            indicator = self._indicator_for(entry, groups.get(entry["id"]))
            value, unit = parse_value(entry["value"])
            start, end = parse_period(entry["period"])
            extra = extras.get(entry["id"], {})

            def make(
                entry=entry, indicator=indicator, value=value, unit=unit, start=start, end=end
            ):
                return self._create(
                    Observation,
                    entry["source_ids"],
                    key=entry["id"],
                    indicator=indicator,
                    metric=entry["metric"],
                    value_text=entry["value"],
                    value=value,
                    unit=unit,
                    period_label=entry["period"],
                    period_start=start,
                    period_end=end,
                    coverage=entry["coverage"],
                    verification=self._verification(entry),
                    notes=entry.get("notes", ""),
                )

            observation, is_new = self._get_or_create(Observation, {"key": entry["id"]}, make)
            if is_new:
                observation.platforms.add(*[self.platforms[s] for s in extra.get("platforms", [])])
                created[entry["id"]] = observation
        for key, observation in created.items():
            others = Observation.objects.filter(
                key__in=extras.get(key, {}).get("conflicts_with", [])
            )
            observation.conflicts_with.add(*others)

    def _indicator_for(self, entry: dict, group: dict | None) -> Indicator:
        """The indicator an observation belongs to: its curated group, or one of its own."""
        if group is None:
            value_unit = parse_value(entry["value"])[1]
            group = {
                "slug": entry["id"].lower(),
                "name": entry["metric"],
                "unit": value_unit,
                "members": [entry["id"]],
                "method_note": "",
            }
        if group["slug"] in self.indicators:
            return self.indicators[group["slug"]]
        members = [s for s in self.facts["statistics"] if s["id"] in group["members"]]
        sources = list(dict.fromkeys(sid for s in members for sid in s["source_ids"]))
        confirmed = any(s["status"] == Verification.CONFIRMED for s in members)
        publisher_key = self.curation["data_publishers"].get(entry["data_publisher"])
        indicator, _ = self._get_or_create(
            Indicator,
            {"slug": group["slug"]},
            lambda: self._create(
                Indicator,
                sources,
                slug=group["slug"],
                name=group["name"],
                unit=group["unit"],
                publisher=self.organisations.get(publisher_key),
                publisher_name=entry["data_publisher"],
                method_note=group["method_note"],
                verification=Verification.CONFIRMED if confirmed else Verification.UNVERIFIED,
            ),
        )
        self.indicators[group["slug"]] = indicator
        return indicator
