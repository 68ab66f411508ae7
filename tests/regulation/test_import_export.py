"""Bulk import and export in the admin, through the real views: upload, preview, confirm.

An import is all or nothing and creates drafts; one bad row imports nothing and the page names
the row and the reason. Every public list exports its rows.
"""

import csv
import datetime as dt
import io
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from regulation.admin_io import ImportFileStorage
from regulation.models import Commitment, Milestone, Source, Status, Topic
from tests.factories import make_commitment, make_milestone, make_platform, make_source

pytestmark = pytest.mark.django_db

CSV_FORMAT, JSON_FORMAT = "0", "1"


@pytest.fixture(autouse=True)
def upload_folder(tmp_path, monkeypatch) -> Path:
    """Previews that are never confirmed leave their file behind: keep them out of /tmp."""
    folder = tmp_path / "imports"
    monkeypatch.setattr(ImportFileStorage, "folder", staticmethod(lambda: folder))
    return folder


# --- Who imports ----------------------------------------------------------------------------


def staff(username: str, *codenames: str) -> Client:
    user = User.objects.create_user(username, f"{username}@example.org", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


# --- Files and the admin's import pages -----------------------------------------------------


def csv_file(rows: list[dict], name: str = "records.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def json_file(rows: list[dict], name: str = "records.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(rows).encode(), content_type="application/json")


def preview(client: Client, model: str, upload: SimpleUploadedFile, fmt: str = CSV_FORMAT):
    url = reverse(f"admin:regulation_{model}_import")
    return client.post(url, {"import_file": upload, "format": fmt, "resource": "0"})


def confirm(client: Client, model: str, previewed):
    """Press "Confirm import" on the preview page: post its hidden form as rendered."""
    form = previewed.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(reverse(f"admin:regulation_{model}_process_import"), data)


def import_file(client: Client, model: str, upload: SimpleUploadedFile, fmt: str = CSV_FORMAT):
    previewed = preview(client, model, upload, fmt)
    assert previewed.status_code == 200
    assert previewed.context.get("confirm_form") is not None, row_errors(previewed)
    return confirm(client, model, previewed)


def row_errors(response) -> dict[int, list[str]]:
    """The rows the page reports as invalid, each with its messages."""
    result = response.context["result"]
    return {
        row.number: [message for messages in row.error_dict.values() for message in messages]
        for row in result.invalid_rows
    }


# --- Test data ------------------------------------------------------------------------------


@pytest.fixture
def editor_client() -> Client:
    models = ("source", "milestone", "commitment")
    actions = ("add", "change", "view")
    return staff("importer", *(f"{action}_{model}" for action in actions for model in models))


@pytest.fixture
def snapchat():
    return make_platform("Snapchat", slug="snapchat")


@pytest.fixture
def s12() -> Source:
    return make_source(key="S12")


def milestone_row(**fields) -> dict:
    row = {
        "key": "",
        "title": "Ofcom publishes its fees statement",
        "kind": "publication",
        "date": "2026-03-01",
        "date_precision": "month",
        "certainty": "expected",
        "sources": "S12",
        "notes": "",
    }
    return {**row, **fields}


def _day(milestone: Milestone) -> dict:
    """The row's date precision and certainty as the milestone has them."""
    return {"date_precision": milestone.date_precision, "certainty": milestone.certainty}


# --- Importing creates drafts ---------------------------------------------------------------


def test_a_csv_of_sources_is_previewed_then_imported(editor_client):
    upload = csv_file(
        [
            {
                "key": "",
                "title": "Ofcom roadmap to regulation",
                "url": "https://www.ofcom.org.uk/roadmap",
                "publisher_name": "Ofcom",
                "published_on": "2024-10-17",
                "published_precision": "day",
                "kind": "regulator",
                "origin": "primary",
            },
            {
                "key": "",
                "title": "NSPCC press release",
                "url": "https://www.nspcc.org.uk/press",
                "publisher_name": "NSPCC",
                "published_on": "2024-11-01",
                "published_precision": "month",
                "kind": "press_release",
                "origin": "secondary",
            },
        ],
        name="sources.csv",
    )

    previewed = preview(editor_client, "source", upload)

    assert previewed.context["confirm_form"] is not None
    assert "Ofcom roadmap to regulation" in previewed.content.decode()
    assert not Source.objects.exists()  # a preview writes nothing

    response = confirm(editor_client, "source", previewed)

    assert response.status_code == 302
    roadmap = Source.objects.get(title="Ofcom roadmap to regulation")
    # A new record gets the next key of its series, never one from the file.
    assert roadmap.key is not None and roadmap.key.startswith("S")
    assert roadmap.published_on == dt.date(2024, 10, 17)
    assert roadmap.history.latest().history_change_reason == "Imported from sources.csv"
    assert roadmap.history.latest().history_user.username == "importer"
    assert Source.objects.count() == 2


def test_a_json_file_of_commitments_creates_drafts_even_when_it_says_published(
    editor_client, snapchat, s12
):
    make_source(key="S13")
    Topic.objects.create(name="Grooming", slug="grooming")
    upload = json_file(
        [
            {
                "key": "",
                "summary": "Teen accounts hidden from strangers' search",
                "platforms": ["snapchat"],
                "made_on": "2025-04-01",
                "made_on_precision": "month",
                "due_on": "2026-01-01",
                "due_precision": "quarter",
                "topics": "grooming",
                "status": "published",
                "verification": "confirmed",
                "sources": "S12, S13",
            }
        ]
    )

    response = import_file(editor_client, "commitment", upload, JSON_FORMAT)

    assert response.status_code == 302
    commitment = Commitment.objects.get()
    assert commitment.status == Status.DRAFT
    assert commitment.verification == "confirmed"
    assert [p.slug for p in commitment.platforms.all()] == ["snapchat"]
    assert sorted(s.key for s in commitment.sources.all()) == ["S12", "S13"]
    assert commitment.due_end == dt.date(2026, 3, 31)
    assert [t.slug for t in commitment.topics.all()] == ["grooming"]


def test_a_new_milestone_takes_its_date_at_its_precision(editor_client, s12):
    upload = csv_file([milestone_row(date="2026-03-17", date_precision="month")])

    import_file(editor_client, "milestone", upload)

    milestone = Milestone.objects.get()
    assert (milestone.date, milestone.date_end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert milestone.date_display == "Expected: March 2026"
    assert milestone.status == Status.DRAFT
    assert not milestone.date_changes.exists()


# --- One bad row imports nothing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ({"date": "17/03/2026"}, "date", "is not a date: write it as YYYY-MM-DD"),
        ({"sources": "S12, S999"}, "sources", "No sources with the key S999."),
        ({"title": "x" * 501}, "title", "at most 500 characters (it has 501)"),
        ({"kind": "rumour"}, "kind", "Value 'rumour' is not a valid choice."),
        ({"date_precision": "fortnight"}, "date_precision", "is not a valid choice"),
        ({"key": "M404"}, "key", "No milestone has the key M404."),
        ({"title": ""}, "title", "This field cannot be blank."),
    ],
)
def test_one_bad_row_imports_nothing_and_the_page_names_the_row_and_reason(
    editor_client, s12, bad, field, reason
):
    upload = csv_file(
        [
            milestone_row(title="Good row one"),
            milestone_row(title="Good row two"),
            milestone_row(**bad),
        ]
    )

    response = preview(editor_client, "milestone", upload)

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None  # nothing to confirm
    errors = row_errors(response)
    assert list(errors) == [3]
    assert any(reason in message for message in errors[3]), errors
    page = response.content.decode()
    assert "<td>3 </td>" in page
    assert field in page
    assert not Milestone.objects.exists()


def test_a_row_that_fails_at_confirmation_imports_nothing_and_says_why(editor_client, s12):
    """Records may change between the preview and the confirmation: the confirmation checks
    every row again and imports nothing if one fails, instead of the rows that still pass."""
    draft = make_milestone(key="M9", status=Status.DRAFT, sources=[s12])
    upload = csv_file(
        [
            milestone_row(title="A new milestone"),
            milestone_row(key="M9", title="A corrected title", date="2025-03-17", **_day(draft)),
        ]
    )
    previewed = preview(editor_client, "milestone", upload)
    assert previewed.context["confirm_form"] is not None
    draft.publish()  # an editor publishes M9 meanwhile

    response = confirm(editor_client, "milestone", previewed)

    assert response.status_code == 200
    errors = row_errors(response)
    assert list(errors) == [2]
    assert "is published: an import changes drafts only" in " ".join(errors[2])
    assert "<td>2 </td>" in response.content.decode()
    assert not Milestone.objects.filter(title="A new milestone").exists()
    draft.refresh_from_db()
    assert draft.title != "A corrected title"


# --- Updates --------------------------------------------------------------------------------


def file_errors(response) -> list[str]:
    """What the upload form says about the file itself."""
    return response.context["form"].errors.get("import_file", [])


HEADER = "key,title,kind,date,date_precision,certainty,sources"


@pytest.mark.parametrize(
    ("upload", "fmt"),
    [
        (
            SimpleUploadedFile(
                "m.csv",
                f"{HEADER},title\n,Fees,publication,2026-03-01,month,expected,S12,B\n".encode(),
            ),
            CSV_FORMAT,
        ),
        (
            SimpleUploadedFile(
                "m.json",
                b'[{"key": "", "title": "Fees", "kind": "publication", "date": "2026-03-01", '
                b'"date_precision": "month", "certainty": "expected", "sources": "S12", '
                b'"title": "B"}]',
            ),
            JSON_FORMAT,
        ),
    ],
    ids=["csv", "json"],
)
def test_a_file_naming_a_column_twice_is_refused_naming_the_column(editor_client, s12, upload, fmt):
    response = preview(editor_client, "milestone", upload, fmt)

    assert response.context.get("confirm_form") is None
    assert file_errors(response) == [
        "The file names the column “title” twice: keep one, so it is clear which value to import."
    ]
    assert not Milestone.objects.exists()


def test_a_csv_with_an_unbalanced_quote_is_refused_naming_the_line(editor_client, s12):
    rows = [
        HEADER,
        ",Fees statement,publication,2026-03-01,month,expected,S12",
        ',"Codes of practice,publication,2026-04-01,month,expected,S12',
        ",Transparency notices,publication,2026-05-01,month,expected,S12",
    ]
    upload = SimpleUploadedFile("m.csv", "\n".join(rows).encode())

    response = preview(editor_client, "milestone", upload)

    assert response.context.get("confirm_form") is None
    assert file_errors(response) == [
        "The CSV file could not be read: a quote opened on line 3 is never closed (an "
        "unbalanced quote, or a malformed row). Check that line, then upload the file again."
    ]
    assert not Milestone.objects.exists()


def test_a_row_with_a_drafts_key_updates_that_draft(editor_client, s12):
    draft = make_milestone(key="M9", status=Status.DRAFT, sources=[s12])
    upload = csv_file(
        [milestone_row(key="M9", title="A corrected title", date="2025-03-17", **_day(draft))]
    )

    import_file(editor_client, "milestone", upload)

    draft.refresh_from_db()
    assert draft.title == "A corrected title"
    assert Milestone.objects.count() == 1


def test_an_import_never_moves_a_saved_date(editor_client, s12):
    draft = make_milestone(key="M9", status=Status.DRAFT, sources=[s12])
    upload = csv_file([milestone_row(key="M9", date="2025-09-01", **_day(draft))])

    response = preview(editor_client, "milestone", upload)

    [message] = row_errors(response)[1]
    assert "from 17 March 2025 to 1 September 2025" in message
    assert "use the date-change form" in message
    draft.refresh_from_db()
    assert draft.date == dt.date(2025, 3, 17)


def test_another_day_in_the_same_month_is_not_a_move(editor_client, s12):
    draft = make_milestone(
        key="M9", date=dt.date(2026, 7, 1), date_precision="month", status=Status.DRAFT
    )
    upload = csv_file(
        [milestone_row(key="M9", date="2026-07-15", date_precision="month", certainty="confirmed")]
    )

    response = import_file(editor_client, "milestone", upload)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.date == dt.date(2026, 7, 1)
    assert not draft.date_changes.exists()


def test_an_import_does_not_change_a_published_record(editor_client, s12):
    published = make_milestone(key="M21", sources=[s12])
    upload = csv_file(
        [milestone_row(key="M21", title="Rewritten", date="2025-03-17", **_day(published))]
    )

    response = preview(editor_client, "milestone", upload)

    assert "is published: an import changes drafts only" in row_errors(response)[1][0]
    published.refresh_from_db()
    assert published.title != "Rewritten"


def test_re_importing_an_export_changes_nothing(editor_client, s12, snapchat):
    make_milestone(key="M21", sources=[s12], platforms=[snapchat])
    make_milestone(key="M22", status=Status.DRAFT, sources=[s12])
    exported = export(editor_client, "milestone")

    upload = SimpleUploadedFile("milestones.csv", exported.encode(), content_type="text/csv")
    previewed = preview(editor_client, "milestone", upload)

    assert previewed.context["confirm_form"] is not None
    assert {row.import_type for row in previewed.context["result"].rows} == {"skip"}


# --- Permissions ----------------------------------------------------------------------------


def test_importing_needs_the_add_permission():
    viewer = staff("viewer", "view_milestone", "change_milestone")
    url = reverse("admin:regulation_milestone_import")

    assert viewer.get(url).status_code == 403
    upload = csv_file([milestone_row()])
    assert viewer.post(url, {"import_file": upload, "format": CSV_FORMAT}).status_code == 403
    process = reverse("admin:regulation_milestone_process_import")
    hand_built = {"import_file_name": "x", "original_file_name": "x.csv", "format": CSV_FORMAT}
    assert viewer.post(process, hand_built).status_code == 403
    assert not Milestone.objects.exists()


def test_a_confirmation_cannot_name_a_file_it_did_not_upload(editor_client, s12):
    """The confirmation names the uploaded file in a hidden field; another file in the temp
    folder must not be read (and shown row by row), imported or deleted through it."""
    other = Path(tempfile.gettempdir()) / f"not-an-upload-{uuid.uuid4().hex}.csv"
    other.write_text(
        "key,title,kind,date,date_precision,certainty\n,Secret,other,2026-01-01,day,confirmed\n"
    )
    process = reverse("admin:regulation_milestone_process_import")
    try:
        for name in (other.name, str(other), f"../{other.name}"):
            data = {"import_file_name": name, "original_file_name": "x.csv", "format": CSV_FORMAT}

            response = editor_client.post(process, data)

            assert response.status_code == 400
            assert other.exists()
        assert not Milestone.objects.exists()
    finally:
        other.unlink()


@pytest.mark.parametrize(
    ("hidden", "message"),
    [
        ({"import_file_name": uuid.uuid4().hex}, "the file to import is no longer here"),
        ({"format": "7"}, "not a format this page offers"),
        ({"format": "-1"}, "not a format this page offers"),
        ({"format": "csv"}, "not a format this page offers"),
        ({"resource": "9"}, "not a kind of record this page imports"),
        ({"resource": "-1"}, "not a kind of record this page imports"),
    ],
    ids=["unknown file", "format 7", "format -1", "format csv", "resource 9", "resource -1"],
)
def test_a_confirmation_with_a_tampered_hidden_field_is_refused_and_imports_nothing(
    editor_client, s12, hidden, message
):
    previewed = preview(editor_client, "milestone", csv_file([milestone_row()]))
    form = previewed.context["confirm_form"]
    data = {**{name: form[name].value() for name in form.fields}, **hidden}

    response = editor_client.post(reverse("admin:regulation_milestone_process_import"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Milestone.objects.exists()


def test_a_preview_never_confirmed_is_removed_after_a_day(editor_client, s12, upload_folder):
    upload_folder.mkdir()
    stale, recent = upload_folder / uuid.uuid4().hex, upload_folder / uuid.uuid4().hex
    for path, age in ((stale, dt.timedelta(hours=25)), (recent, dt.timedelta(hours=23))):
        path.write_text("key,title\n")
        then = (dt.datetime.now(tz=dt.UTC) - age).timestamp()
        os.utime(path, (then, then))

    previewed = preview(editor_client, "milestone", csv_file([milestone_row()]))

    assert previewed.context["confirm_form"] is not None
    assert not stale.exists()
    assert recent.exists()
    assert len(list(upload_folder.iterdir())) == 2  # the recent one and the new preview


def test_a_row_changing_a_saved_record_needs_the_change_permission(s12):
    adder = staff("adder", "add_milestone", "view_milestone")
    draft = make_milestone(key="M9", status=Status.DRAFT, sources=[s12])
    upload = csv_file(
        [
            milestone_row(title="A new milestone"),
            milestone_row(key="M9", title="A corrected title", date="2025-03-17", **_day(draft)),
        ]
    )

    response = preview(adder, "milestone", upload)

    [message] = row_errors(response)[2]
    assert "You may add milestones but not change them" in message
    assert response.context.get("confirm_form") is None


def test_the_list_offers_import_and_export_only_to_those_allowed(editor_client):
    page = editor_client.get(reverse("admin:regulation_milestone_changelist")).content.decode()
    assert reverse("admin:regulation_milestone_import") in page
    assert reverse("admin:regulation_milestone_export") in page

    viewer = staff("viewer", "view_milestone")
    page = viewer.get(reverse("admin:regulation_milestone_changelist")).content.decode()
    assert reverse("admin:regulation_milestone_import") not in page
    assert reverse("admin:regulation_milestone_export") in page


def test_exporting_needs_the_view_permission():
    outsider = staff("outsider", "view_source")

    response = outsider.post(reverse("admin:regulation_milestone_export"), {"format": "0"})

    assert response.status_code == 403


# --- Export ---------------------------------------------------------------------------------


def export(client: Client, model: str, query: str = "") -> str:
    url = reverse(f"admin:regulation_{model}_export") + query
    response = client.post(url, {"format": CSV_FORMAT, "resource": "0"})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode("utf-8-sig")


def test_a_list_exports_its_rows_as_csv_with_its_filters(editor_client, s12, snapchat):
    s13 = make_source(key="S13")
    make_milestone(
        key="M21",
        title="Children's codes in force",
        date=dt.date(2025, 7, 25),
        sources=[s12, s13],
        platforms=[snapchat],
    )
    make_milestone(key="M22", title="A draft", status=Status.DRAFT, sources=[s12])

    rows = list(
        csv.DictReader(io.StringIO(export(editor_client, "milestone", "?status__exact=draft")))
    )
    assert [row["key"] for row in rows] == ["M22"]

    rows = list(csv.DictReader(io.StringIO(export(editor_client, "milestone"))))
    m21 = next(row for row in rows if row["key"] == "M21")
    assert m21["title"] == "Children's codes in force"
    assert m21["date"] == "2025-07-25"
    assert m21["date_precision"] == "day"
    assert m21["status"] == "published"
    assert m21["sources"] == "S12, S13"
    assert m21["platforms"] == "snapchat"


FORMULAS = ['=HYPERLINK("https://attacker.example")', "+SUM(A1)", "-2+3", "@cmd", "\tTab"]


def test_no_exported_cell_runs_as_a_formula_in_a_spreadsheet(editor_client, s12):
    for text in FORMULAS:
        make_milestone(title=text.strip(), description=text, sources=[s12])

    admin_rows = list(csv.DictReader(io.StringIO(export(editor_client, "milestone"))))
    api_csv = editor_client.get("/api/v1/export/milestones.csv").content.decode()
    api_rows = list(csv.DictReader(io.StringIO(api_csv)))

    for rows in (admin_rows, api_rows):
        cells = [value for row in rows for value in row.values() if value]
        assert not [value for value in cells if value.startswith(("=", "+", "-", "@", "\t"))]
        assert {row["title"] for row in rows} >= {"'" + text for text in FORMULAS[:4]}


def test_an_export_costs_the_same_queries_for_2_or_10_records(editor_client, s12, snapchat):
    def queries_to_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            export(editor_client, "commitment")
        return len(queries)

    for _ in range(2):
        make_commitment(platforms=[snapchat], sources=[s12])
    with_two = queries_to_export()
    for _ in range(8):
        make_commitment(platforms=[snapchat], sources=[s12])

    assert queries_to_export() == with_two


@pytest.mark.parametrize(
    "model",
    [
        "organisation",
        "platform",
        "source",
        "instrument",
        "measure",
        "milestone",
        "commitment",
        "indicator",
        "observation",
    ],
)
def test_every_public_list_exports(model):
    superuser = User.objects.create_superuser("root", "root@example.org", password=None)
    client = Client()
    client.force_login(superuser)
    make_commitment(key="PC1", platforms=[make_platform("Snapchat", slug="snapchat")])

    header = export(client, model).splitlines()[0]

    assert header.startswith("key,")


def test_the_import_and_export_pages_need_no_inline_script_or_style(editor_client):
    for url in (
        reverse("admin:regulation_milestone_import"),
        reverse("admin:regulation_milestone_export"),
    ):
        response = editor_client.get(url)

        assert response.status_code == 200
        page = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=", page) == []
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
