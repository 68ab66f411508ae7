"""Release manifests in a temporary folder: the real first release, plus small synthetic later
releases in the format of the facts' updates (new records and `corrections`)."""

import copy
import json
import shutil
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[2] / "fixtures"
FIRST = {"name": "0001_first_facts", "facts": "osa-facts.json", "curation": "curation.json"}


def first_facts() -> dict:
    return json.loads((FIXTURES / "osa-facts.json").read_text())


def update_facts() -> dict:
    """The November 2026 update (release 2) as the project keeps it."""
    return json.loads((FIXTURES / "osa-facts-update-2026-11.json").read_text())


def corrected_first_facts() -> dict:
    """The first facts as they stand after the November 2026 update's corrections: what the
    seed's release-1 records must equal once both releases are loaded."""
    facts = first_facts()
    by_id = {e["id"]: e for section in facts.values() for e in section if isinstance(e, dict)}
    for correction in update_facts()["corrections"]:
        by_id[correction["id"]][correction["field"]] = correction["new"]
    return facts


def write_manifest(folder: Path, *releases: dict, facts: dict | None = None) -> Path:
    """A manifest of the first release (its facts replaced when given) and later ones, each a
    dict with name, facts and curation (the file contents, not names)."""
    shutil.copy(FIXTURES / "curation.json", folder / "curation.json")
    (folder / "osa-facts.json").write_text(json.dumps(facts or first_facts()))
    entries = [FIRST]
    for n, release in enumerate(releases, 2):
        names = {
            "name": release.get("name", f"000{n}_update"),
            "facts": f"update-{n}.json",
            "curation": f"update-{n}-curation.json",
        }
        (folder / names["facts"]).write_text(json.dumps(release["facts"]))
        (folder / names["curation"]).write_text(json.dumps(release.get("curation", {})))
        entries.append(names)
    path = folder / "releases.json"
    path.write_text(json.dumps({"releases": entries}))
    return path


def update(**changes: Any) -> dict:
    """A small update in the format of osa-facts-update-2026-11.json."""
    facts: dict[str, Any] = {
        "milestones": [
            {
                "id": "M61",
                "date": "2025-03-17",
                "precision": "day",
                "event": "Ofcom opens an enforcement programme (synthetic test entry).",
                "phase": "Enforcement",
                "responsible": "Ofcom",
                "source_ids": ["S113"],
                "status": "confirmed",
                "notes": "",
                "season": None,
                "label": None,
            }
        ],
        "sources": [
            {
                "id": "S113",
                "publisher": "Ofcom",
                "title": "Enforcement programme (synthetic test source)",
                "date": "2025-03-03",
                "url": "https://www.ofcom.org.uk/test-enforcement-programme",
                "type": "primary",
            },
            {
                "id": "S114",
                "publisher": "CMS",
                "title": "Law-firm note (synthetic test source)",
                "date": "2025-03",
                "url": "https://cms.law/test-note",
                "type": "secondary",
            },
        ],
        "commitments": [
            {
                "id": "PC23",
                "platform": "Snapchat",
                "owner": "Snap Inc.",
                "date": "2025-07-17",
                "precision": "day",
                "commitment": "A synthetic test commitment.",
                "source_ids": ["S114"],
                "status": "confirmed",
                "notes": "",
            }
        ],
        "statistics": [],
        "corrections": [
            {
                "id": "M29",
                "field": "date",
                "old": "2025-03-05",
                "new": "2025-03-03",
                "source_ids": ["S113", "S114"],
                "evidence": "Ofcom's page is dated 3 March 2025.",
            },
            {
                "id": "M29",
                "field": "event",
                "old": "(reported date) ...",
                "new": "Ofcom opens its risk-assessment enforcement programme.",
                "source_ids": ["S113"],
                "evidence": "The date is now confirmed.",
            },
            {
                "id": "M57",
                "field": "status",
                "old": "unverified",
                "new": "confirmed",
                "source_ids": ["S113"],
                "evidence": "A test source confirms it.",
            },
            {
                "id": "M57",
                "field": "source_ids",
                "old": [],
                "new": ["S113"],
                "source_ids": ["S113"],
                "evidence": "As above.",
            },
            {
                "id": "M44",
                "field": "notes",
                "old": "",
                "new": "A note the release adds.",
                "source_ids": ["S114"],
                "evidence": "A test source says so.",
            },
        ],
    }
    facts.update(changes)
    return {
        "facts": facts,
        "curation": {
            "milestones": {"M61": {"kind": "enforcement", "topics": ["online-grooming"]}},
            "commitments": {"PC23": {"platforms": ["snapchat"]}},
        },
    }


def corrupted(change) -> dict:
    """A copy of the first release's facts with change(facts) applied."""
    facts = copy.deepcopy(first_facts())
    change(facts)
    return facts
