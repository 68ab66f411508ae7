"""Bulk import and export in the admin (django-import-export).

Sources, commitments and milestones are imported from CSV or JSON with a preview; every list of
public records is exported. The rules, each for a reason staff would give:

- All or nothing. One bad row imports nothing, and the page names the row and the reason, at the
  preview and again at the confirmation (the file is read afresh then, and the records may have
  changed since the preview).
- A row is matched by its key (S12, M21, PC18): a blank key adds a new record, which gets no key
  from the file (keys follow their own series); a key that matches nothing is refused rather
  than added under a key nobody assigned.
- Imported records are drafts: the status column is exported, never imported, and an import
  changes no published record (unpublish it first, or edit it on its page), so nothing reaches
  the public without an editor publishing it with its sources.
- A milestone's date is set when the milestone is added; an import never moves a saved date,
  because a move must say why: use the date-change fields on the milestone's page.
- Related records are named by their keys: sources by key (S12), organisations by key (OR08),
  milestones by key, platforms, instruments and topics by slug (snapchat). One unknown name
  refuses the row and says which.
- A file that cannot be read cleanly is refused as a whole, naming the line or the column: a
  quote left open in a CSV, or a column named twice (the reader would keep one value, silently).
- Dates are YYYY-MM-DD with a precision column; a date known to the month is its first day.
- Importing needs the add permission on the model, and a row that changes a saved record the
  change permission too. Exporting needs the view permission (settings: IMPORT_EXPORT_*).
"""

import csv
import datetime as dt
import io
import json
import re
import tempfile
import time
from pathlib import Path
from typing import IO, Any
from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.fields import Field
from import_export.formats.base_formats import CSV, JSON
from import_export.forms import ExportForm
from import_export.resources import ModelResource, Resource
from import_export.tmp_storages import TempFolderStorage
from import_export.widgets import CharWidget, DateWidget, ForeignKeyWidget, ManyToManyWidget

from regulation.dates import Precision, period_start
from regulation.models import (
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
)
from regulation.spreadsheets import inert

ISO_DATE = "%Y-%m-%d"
PUBLISHED_NOT_IMPORTED = (
    "{record} is published: an import changes drafts only. Edit it on its own page, or "
    "unpublish it first."
)
DATE_NOT_MOVED_BY_IMPORT = (
    "This would move the date of {record} from {old} to {new}. An import never moves a saved "
    "date: use the date-change form on the milestone's page, which records why it moved."
)
UNKNOWN_KEY = "No {model} has the key {key}. Leave the key blank to add a new one."
UPLOAD_AGAIN = "Upload the file again to preview and confirm it."
FORMAT_NOT_OFFERED = "the confirmation names a file format that is not a format this page offers."
RESOURCE_NOT_OFFERED = (
    "the confirmation names a kind of record that is not a kind of record this page imports."
)
FILE_GONE = (
    "the file to import is no longer here: it was imported already, or its preview is older "
    "than a day."
)
NO_CHANGE_PERMISSION = "You may add {models} but not change them, and this row changes {record}."


# --- Widgets: values as staff write them, errors that say what to write -----------------------


class IsoDateWidget(DateWidget):
    """Dates as YYYY-MM-DD only: "03/04/2025" means a different day to a British and an American
    reader, and Django's default input formats read it the American way."""

    def __init__(self) -> None:
        super().__init__(format=ISO_DATE)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> dt.date | None:
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                f"“{value}” is not a date: write it as YYYY-MM-DD, e.g. 2025-04-01 (for a date "
                "known only to the month or the year, its first day, with the precision column)."
            ) from None


class KeyWidget(ForeignKeyWidget):
    """A related record named by its key or slug; an unknown one is an error, not a blank."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> models.Model | None:
        name = str(value or "").strip()
        if not name:
            return None
        try:
            return self.get_queryset(name, row).get(**{self.field: name})
        except self.model.DoesNotExist:
            raise ValueError(
                f"No {self.model._meta.verbose_name} has the {self.field} {name}."
            ) from None


class KeysWidget(ManyToManyWidget):
    """Related records named by their keys or slugs: "S12, S13" in CSV, a list or that text in
    JSON. Every name must exist; the error names those that do not."""

    def __init__(self, model: type[models.Model], field: str) -> None:
        super().__init__(model, separator=",", field=field)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> models.QuerySet:
        names = value if isinstance(value, list) else str(value or "").split(self.separator)
        names = [str(name).strip() for name in names if str(name).strip()]
        found = self.model.objects.filter(**{f"{self.field}__in": names})
        missing = sorted(set(names) - {str(getattr(record, self.field)) for record in found})
        if missing:
            plural = self.model._meta.verbose_name_plural
            raise ValueError(f"No {plural} with the {self.field} {', '.join(missing)}.")
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return ", ".join(str(getattr(record, self.field)) for record in value.all())


def column(name: str, widget: Any = None, *, readonly: bool = False) -> Field:
    return Field(attribute=name, column_name=name, widget=widget or CharWidget(), readonly=readonly)


def date_column(name: str) -> Field:
    return column(name, IsoDateWidget())


def keys_column(name: str, model: type[models.Model], field: str = "key") -> Field:
    return column(name, KeysWidget(model, field))


def key_column(name: str, model: type[models.Model], field: str = "key") -> Field:
    return column(name, KeyWidget(model, field))


# --- Resources ----------------------------------------------------------------------------------


class RecordResource(ModelResource):
    """Shared rules for the imported models (see the module's docstring)."""

    key = column("key", readonly=True)

    class Meta:
        import_id_fields = ("key",)
        skip_unchanged = True  # re-importing an export changes nothing and needs no permission
        report_skipped = True
        clean_model_instances = True  # every row through full_clean: lengths, choices, URLs
        use_transactions = True

    def get_import_order(self) -> tuple[str, ...]:
        return tuple(self._meta.fields)  # the columns in the order each Meta lists them

    def get_export_order(self) -> tuple[str, ...]:
        return tuple(self._meta.fields)

    def get_instance(self, instance_loader: Any, row: dict) -> models.Model | None:
        key = str(row.get("key") or "").strip()
        if not key:
            return None
        try:
            return self.get_queryset().get(key=key)
        except self._meta.model.DoesNotExist:
            model = self._meta.model._meta.verbose_name
            raise ValidationError({"key": UNKNOWN_KEY.format(model=model, key=key)}) from None

    def import_instance(self, instance: models.Model, row: dict, **kwargs: Any) -> None:
        """The row's own fields, and its related records checked before anything is saved
        (django-import-export only looks them up after saving, and ignores unknown ones)."""
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self.get_import_fields():
            if isinstance(field.widget, ManyToManyWidget) and field.column_name in row:
                try:
                    related = field.clean(row)
                except ValueError as error:
                    errors[field.attribute] = [str(error)]
                    continue
                required = not instance._meta.get_field(field.attribute).blank
                if required and not related and instance.pk is None:
                    errors[field.attribute] = ["Name at least one."]
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance: models.Model, row: dict, **kwargs: Any) -> None:
        if instance.pk is not None:
            self.check_update(instance, kwargs.get("user"))
        instance._change_reason = f"Imported from {kwargs.get('file_name') or 'a file'}"

    def check_update(self, instance: models.Model, user: Any) -> None:
        """A row that changes a saved record: refused where the rules above say so."""
        opts = instance._meta
        if user is not None and not user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
            message = NO_CHANGE_PERMISSION.format(
                models=opts.verbose_name_plural, record=f"“{instance}”"
            )
            raise ValidationError(message)
        if isinstance(instance, PublicRecord) and instance.status == Status.PUBLISHED:
            raise ValidationError(PUBLISHED_NOT_IMPORTED.format(record=f"“{instance}”"))

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        # ModelResource resets the table's id sequence here, for files that carry ids. Ours never
        # do, and a reset while another transaction is inserting would hand out its ids again.
        Resource.after_import(self, dataset, result, **kwargs)


class SourceResource(RecordResource):
    title = column("title")
    url = column("url")
    publisher = key_column("publisher", Organisation)
    publisher_name = column("publisher_name")
    published_on = date_column("published_on")
    published_precision = column("published_precision")
    date_note = column("date_note")
    kind = column("kind")
    origin = column("origin")
    archived_url = column("archived_url")
    quote = column("quote")

    class Meta(RecordResource.Meta):
        model = Source
        name = "Sources"
        fields = (
            "key",
            "title",
            "url",
            "publisher",
            "publisher_name",
            "published_on",
            "published_precision",
            "date_note",
            "kind",
            "origin",
            "archived_url",
            "quote",
        )


class PublicRecordResource(RecordResource):
    status = column("status", readonly=True)  # exported; imported records are drafts
    verification = column("verification")
    notes = column("notes")
    sources = keys_column("sources", Source)


class CommitmentResource(PublicRecordResource):
    summary = column("summary")
    quote = column("quote")
    platforms = keys_column("platforms", Platform, "slug")
    platform_label = column("platform_label")
    made_by_organisation = key_column("made_by_organisation", Organisation)
    made_by = column("made_by")
    made_on = date_column("made_on")
    made_on_precision = column("made_on_precision")
    due_on = date_column("due_on")
    due_precision = column("due_precision")
    review_on = date_column("review_on")
    # Follows the status updates and their evidence, so it is exported, not imported.
    delivery_status = column("delivery_status", readonly=True)
    milestones = keys_column("milestones", Milestone)
    topics = keys_column("topics", Topic, "slug")

    class Meta(RecordResource.Meta):
        model = Commitment
        name = "Commitments"
        fields = (
            "key",
            "summary",
            "quote",
            "platforms",
            "platform_label",
            "made_by_organisation",
            "made_by",
            "made_on",
            "made_on_precision",
            "due_on",
            "due_precision",
            "review_on",
            "delivery_status",
            "milestones",
            "topics",
            "status",
            "verification",
            "notes",
            "sources",
        )


class MilestoneResource(PublicRecordResource):
    title = column("title")
    kind = column("kind")
    description = column("description")
    phase = column("phase")
    who_must_act = column("who_must_act")
    date = date_column("date")
    date_precision = column("date_precision")
    certainty = column("certainty")
    date_label = column("date_label")
    instruments = keys_column("instruments", Instrument, "slug")
    platforms = keys_column("platforms", Platform, "slug")
    topics = keys_column("topics", Topic, "slug")

    class Meta(RecordResource.Meta):
        model = Milestone
        name = "Milestones"
        fields = (
            "key",
            "title",
            "kind",
            "description",
            "phase",
            "who_must_act",
            "date",
            "date_precision",
            "certainty",
            "date_label",
            "instruments",
            "platforms",
            "topics",
            "status",
            "verification",
            "notes",
            "sources",
        )

    def import_instance(self, instance: Milestone, row: dict, **kwargs: Any) -> None:
        # Checked before the model's own validation, which would otherwise report a moved date
        # as a broken database constraint (the period's end is worked out only on saving).
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if instance.pk is not None and not {"date", "date_precision", "certainty"} & set(errors):
            saved = Milestone.objects.get(pk=instance.pk)
            if moves_date(saved, instance):
                errors["date"] = [
                    DATE_NOT_MOVED_BY_IMPORT.format(
                        record=f"“{saved}”",
                        old=saved.date_display,
                        new=Milestone(
                            date=instance.date,
                            date_precision=instance.date_precision,
                            certainty=instance.certainty,
                        ).date_display,
                    )
                ]
        if errors:
            raise ValidationError(errors)


def moves_date(saved: Milestone, imported: Milestone) -> bool:
    """Whether the imported date, as it would be stored, differs from the saved one. Another day
    in the same month of a month-precision date is the same date, as in the admin form."""
    if imported.date is None or imported.date_precision not in Precision.values:
        return False  # the field's own error is reported
    stored = (period_start(imported.date, imported.date_precision), imported.date_precision)
    return (*stored, imported.certainty) != (saved.date, saved.date_precision, saved.certainty)


# Export only: the other public lists, with related records named as in the imports.


class OrganisationResource(PublicRecordResource):
    class Meta:
        model = Organisation
        name = "Organisations"
        fields = ("key", "name", "kind", "kind_label", "website", "description", "status")
        fields += ("verification", "notes", "sources")


class PlatformResource(PublicRecordResource):
    owner = key_column("owner", Organisation)

    class Meta:
        model = Platform
        name = "Platforms"
        fields = ("key", "slug", "name", "owner", "kind", "website", "status", "verification")
        fields += ("notes", "sources")


class InstrumentResource(PublicRecordResource):
    issuer = key_column("issuer", Organisation)
    parent = key_column("parent", Instrument, "slug")
    topics = keys_column("topics", Topic, "slug")

    class Meta:
        model = Instrument
        name = "Instruments"
        fields = ("key", "slug", "title", "short_name", "kind", "stage", "issuer", "parent")
        fields += ("official_url", "summary", "topics", "status", "verification", "notes")
        fields += ("sources",)


class MeasureResource(PublicRecordResource):
    instrument = key_column("instrument", Instrument, "slug")
    topics = keys_column("topics", Topic, "slug")

    class Meta:
        model = Measure
        name = "Measures"
        fields = ("key", "instrument", "instrument_reference", "reference", "title", "summary")
        fields += ("applies_to", "relevance", "topics", "status", "verification", "notes")
        fields += ("sources",)


class IndicatorResource(PublicRecordResource):
    publisher = key_column("publisher", Organisation)
    topics = keys_column("topics", Topic, "slug")

    class Meta:
        model = Indicator
        name = "Indicators"
        fields = ("key", "slug", "name", "unit", "publisher", "publisher_name", "method_note")
        fields += ("topics", "status", "verification", "notes", "sources")


class ObservationResource(PublicRecordResource):
    indicator = key_column("indicator", Indicator, "slug")
    platforms = keys_column("platforms", Platform, "slug")
    period_start = date_column("period_start")
    period_end = date_column("period_end")

    class Meta:
        model = Observation
        name = "Observations"
        fields = ("key", "indicator", "metric", "value_text", "value", "unit", "period_label")
        fields += ("period_start", "period_end", "coverage", "publisher_name", "platforms")
        fields += ("status", "verification", "notes", "sources")


RESOURCES: dict[type[models.Model], type[ModelResource]] = {
    resource._meta.model: resource
    for resource in (
        SourceResource,
        CommitmentResource,
        MilestoneResource,
        OrganisationResource,
        PlatformResource,
        InstrumentResource,
        MeasureResource,
        IndicatorResource,
        ObservationResource,
    )
}


# --- The uploaded file between the preview and the confirmation -------------------------------


class ImportFileStorage(TempFolderStorage):
    """Keeps an uploaded file from the preview to the confirmation, in a folder of its own under
    a name made here. The confirmation names the file in a form field: with the default storage
    any file in the temp folder could be named, shown back row by row and then deleted."""

    NAME = re.compile(r"[0-9a-f]{32}\Z")
    # A preview nobody confirms leaves its file behind; a day is ample time to confirm one.
    KEPT_FOR = dt.timedelta(days=1)

    @staticmethod
    def folder() -> Path:
        return Path(tempfile.gettempdir()) / "osa-tracker-imports"

    def get_full_path(self) -> str:
        if not self.NAME.match(self.name or ""):
            raise SuspiciousOperation("An import named a file it did not upload.")
        return str(self.folder() / self.name)

    def save(self, data: bytes) -> None:
        self.prune()
        with self._open(mode="wb") as file:
            file.write(data)

    def exists(self) -> bool:
        return Path(self.get_full_path()).is_file()

    @classmethod
    def prune(cls) -> None:
        """Remove the files of previews older than KEPT_FOR (each new preview does this, so the
        folder holds at most a day's uploads without a task of its own)."""
        oldest = time.time() - cls.KEPT_FOR.total_seconds()
        for path in cls.folder().glob("*"):
            try:
                if cls.NAME.match(path.name) and path.stat().st_mtime < oldest:
                    path.unlink()
            except FileNotFoundError:
                pass  # confirmed, or pruned by another request, meanwhile

    def _open(self, mode: str = "r") -> IO:
        if not self.name:
            self.name = uuid4().hex
            self.folder().mkdir(mode=0o700, exist_ok=True)
        encoding = None if "b" in mode else self.encoding
        return open(self.get_full_path(), mode, encoding=encoding)


# --- Admin mixins -------------------------------------------------------------------------------


class SpreadsheetCSV(CSV):
    """CSV whose cells a spreadsheet will not run as formulas (regulation/spreadsheets.py)."""

    def export_data(self, dataset, **kwargs):
        safe = dataset.__class__(headers=dataset.headers)
        for row in dataset:
            safe.append([inert(value) if isinstance(value, str) else value for value in row])
        return super().export_data(safe, **kwargs)


class UnreadableFile(ValueError):
    """An uploaded file that cannot be read as rows; its message tells staff what to fix."""


DUPLICATE_COLUMN = (
    "The file names the column “{name}” twice: keep one, so it is clear which value to import."
)
UNBALANCED_QUOTE = (
    "The CSV file could not be read: a quote opened on line {line} is never closed (an "
    "unbalanced quote, or a malformed row). Check that line, then upload the file again."
)
MALFORMED_CSV = (
    "The CSV file could not be read: the row on line {line} is malformed ({problem}). Check "
    "that line, then upload the file again."
)
MALFORMED_JSON = "The JSON file could not be read: {problem} at line {line} column {column}."


def as_text(in_stream: str | bytes, encoding: str | None) -> str:
    return in_stream.decode(encoding or "utf-8") if isinstance(in_stream, bytes) else in_stream


def refuse_duplicates(names: list[str]) -> None:
    # The readers keep only the last of two columns of one name, silently.
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UnreadableFile(DUPLICATE_COLUMN.format(name=name))
        seen.add(name)


class ImportCSV(CSV):
    """CSV read strictly first: a quote left open would otherwise swallow the rest of the file
    into one cell, and the page would blame a column of a row the editor never wrote."""

    def create_dataset(self, in_stream: str | bytes, **kwargs: Any) -> Any:
        text = as_text(in_stream, self.encoding)
        reader = csv.reader(io.StringIO(text), strict=True)
        header: list[str] | None = None
        line = 1  # where the row being read begins
        try:
            for row in reader:
                header = row if header is None else header
                line = reader.line_num + 1
        except csv.Error as error:
            template = UNBALANCED_QUOTE if "end of data" in str(error) else MALFORMED_CSV
            raise UnreadableFile(template.format(line=line, problem=error)) from None
        refuse_duplicates([name.strip() for name in header or []])
        return super().create_dataset(text, **kwargs)


class ImportJSON(JSON):
    """JSON whose rows may not name a column twice (json keeps the last value, silently)."""

    def create_dataset(self, in_stream: str | bytes, **kwargs: Any) -> Any:
        text = as_text(in_stream, self.encoding)
        try:
            json.loads(text, object_pairs_hook=self._row)
        except json.JSONDecodeError as error:
            message = MALFORMED_JSON.format(
                problem=error.msg, line=error.lineno, column=error.colno
            )
            raise UnreadableFile(message) from None
        return super().create_dataset(text, **kwargs)

    @staticmethod
    def _row(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        refuse_duplicates([name for name, _ in pairs])
        return dict(pairs)


class ExportAdmin(ExportMixin):
    """An "Export" button on the list: the rows the list shows (its search and filters
    applied), as CSV or JSON, with the model's resource."""

    export_form_class = ExportForm  # the field-picking form needs inline script, which CSP forbids

    @property
    def formats(self) -> list:
        return [CSV, JSON]

    @property
    def export_formats(self) -> list:
        return [SpreadsheetCSV, JSON]

    def get_resource_classes(self, request: HttpRequest) -> list[type[ModelResource]]:
        return [RESOURCES[self.model]]

    def get_export_queryset(self, request: HttpRequest) -> models.QuerySet:
        """The list's rows with the records each names, fetched together rather than once per
        row and column."""
        fields = RESOURCES[self.model]().get_export_fields()
        related = [f.attribute for f in fields if isinstance(f.widget, KeyWidget)]
        many = [f.attribute for f in fields if isinstance(f.widget, KeysWidget)]
        queryset = super().get_export_queryset(request)
        return queryset.select_related(*related).prefetch_related(*many)


class ImportAdmin(ImportExportMixin, ExportAdmin):
    """Import from CSV or JSON, previewed, all or nothing (see the module's docstring)."""

    @property
    def import_formats(self) -> list:
        return [ImportCSV, ImportJSON]

    def add_data_read_fail_error_to_form(self, form: Any, error: Exception) -> None:
        if isinstance(error, UnreadableFile):
            form.add_error("import_file", str(error))
        else:
            super().add_data_read_fail_error_to_form(form, error)

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # django-import-export rolls back on a row's validation error only when asked to;
        # otherwise the confirmation would save the good rows and drop the bad ones.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The confirmation's hidden fields come back from the browser: check them before
        django-import-export uses them as list indexes and a file name."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_confirm_form(request)
        problem = form.is_valid() and self.confirmation_problem(request, form.cleaned_data)
        if problem:
            messages.error(request, f"Nothing was imported: {problem}")
            return self.import_page(request, status=400)
        return super().process_import(request, **kwargs)

    def confirmation_problem(self, request: HttpRequest, data: dict[str, Any]) -> str:
        if not is_index(data["format"], self.get_import_formats()):
            return f"{FORMAT_NOT_OFFERED} {UPLOAD_AGAIN}"
        resource = data.get("resource") or "0"
        if not is_index(resource, self.get_import_resource_classes(request)):
            return f"{RESOURCE_NOT_OFFERED} {UPLOAD_AGAIN}"
        # A malformed name is refused as suspicious (400) by the storage itself.
        if not ImportFileStorage(name=data["import_file_name"]).exists():
            return f"{FILE_GONE} {UPLOAD_AGAIN}"
        return ""

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        # The confirmation found a bad row (the records changed since the preview, or the
        # request was built by hand): nothing was imported. Show why, as the preview does.
        return self.import_page(request, result=result)

    def import_page(self, request: HttpRequest, result: Any = None, status: int = 200):
        """The import page with a fresh upload form, and the result of a refused import."""
        form = self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "result": result,
            "import_error_display": self.import_error_display,
            "fields_list": [],
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context, status=status)


def is_index(value: Any, options: list) -> bool:
    """Whether a form's value is the position of one of the options ("-1" is not)."""
    return re.fullmatch(r"[0-9]+", str(value)) is not None and int(value) < len(options)
