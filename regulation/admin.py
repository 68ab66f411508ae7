"""The admin for advocacy staff: log what platforms promised, record updates with evidence, publish.

The admin is a product surface. Every list shows what an editor needs to decide (dates at the
precision we know them, how many sources a record cites), searches and filters reach the records
quickly, and every change is kept in the record's history with the user who made it.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model

from regulation.admin_io import ExportAdmin, ImportAdmin
from regulation.dates import format_fuzzy, period_start
from regulation.follow_up import DEADLINE_DAYS
from regulation.merging import MERGEABLE, MergeRefused, may_merge, merge, merge_plan
from regulation.models import (
    PUBLISH_WITHOUT_SOURCE,
    Commitment,
    CommitmentUpdate,
    DateChange,
    FactRelease,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    PublicRecord,
    ReviewState,
    SeedConflict,
    Source,
    Status,
    Topic,
    UncitedRecordsError,
    change_reason,
    public_models,
    published_left_uncited,
)

PUBLISHING_FIELDSET = (
    "Publishing and evidence",
    {
        "fields": (
            "status",
            "verification",
            "sources",
            "notes",
            ("review_state", "review_note"),
            ("published_by", "published_at"),
        ),
        "description": "Publishing needs at least one source and an editor: a contributor "
        "submits the draft for review (the list's actions). Mark the record confirmed only "
        "when a cited source says what it says; say in the notes what is uncertain.",
    },
)
REVIEW_FIELDS = ("review_state", "review_note", "published_by", "published_at")
RECORD_FIELDSET = (
    "Record",
    {
        "fields": ("key", "slug", "created_at", "updated_at"),
        "classes": ("collapse",),
        "description": "Leave the key and the slug blank for new records: the slug is made "
        "from the title, and changing it later breaks public links.",
    },
)
TIMESTAMPS = ("created_at", "updated_at")
# An address typed without a scheme becomes https, Django 6's default. Without this, Django 5.2
# warns on every form with a URL field, and the test settings turn that warning into an error.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


# --- Every write needs its permission ----------------------------------------------------------


class ActionsNeedPermission:
    """Refuses (403) a list action the user may not run.

    Django leaves such an action out of the menu and, when it is posted anyway, shows the list
    again without a word; the refusal belongs on the request, like every other write's.
    """

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST":
            allowed = self.get_actions(request)
            if any(name and name not in allowed for name in request.POST.getlist("action")):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)


class HistoryAdmin(ActionsNeedPermission, SimpleHistoryAdmin):
    """The history pages of simple-history, where a revert is a change like any other.

    simple-history saves a revert after checking only that the user may view the record, and
    with the old version as the form's instance, so the form compares the posted values with
    that version rather than with the record as it is. Here a posted revert goes through the
    change form's own path instead: change permission checked, the posted values compared with
    the record as it is now, the form's rules (a source to publish, a reason to move a date)
    applied, read-only fields (a key once set, a status that follows its updates) left alone.
    The history page only fills the form with the old version's values.
    """

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        record_id = unquote(object_id)
        version = {self.opts.pk.attname: record_id, "history_id": version_id}
        get_object_or_404(get_history_model_for_model(self.model), **version)
        if not self.has_change_history_permission(request, self.get_object(request, record_id)):
            raise PermissionDenied
        # A record that no longer exists is not brought back: the change path reports it gone.
        return self.changeform_view(request, object_id, extra_context=extra_context)

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> Any:
        record = super().save_form(request, form, change)
        if is_revert(request):
            # The history says which version the record was put back to.
            record._change_reason = f"Reverted to version {request.resolver_match.args[1]}"
        return record

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        # A version holds the record's own fields only; its related rows are not reverted.
        if is_revert(request):
            return ()
        return super().get_inlines(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # The seed matches records by their key: editing it would orphan or duplicate a record.
        if obj is not None and obj.key:
            return (*fields, "key")
        return fields


def is_revert(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and (match.url_name or "").endswith("_simple_history")


# --- Shared behaviour for every public record ---------------------------------------------------


class PublicRecordForm(forms.ModelForm):
    """Refuses to save a record as published while it cites no source."""

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        if cleaned_data.get("status") == Status.PUBLISHED and not self._cites_a_source():
            # Attached to the sources field so the editor sees where to act.
            field = "sources" if "sources" in self.fields else None
            self.add_error(field, ValidationError(PUBLISH_WITHOUT_SOURCE, code="no_source"))
        return cleaned_data

    def _cites_a_source(self) -> bool:
        if "sources" in self.fields:
            return bool(self.cleaned_data.get("sources"))
        # Without the field on the form, only the saved sources can count.
        return self.instance.pk is not None and self.instance.sources.exists()


def plural(count: int, noun: str = "record") -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


class PublishingFilter(admin.SimpleListFilter):
    """Where each record stands on its way to the public (the dashboard links here)."""

    title = "review and publishing"
    parameter_name = "publishing"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [
            ("waiting", "Drafts waiting for review"),
            ("sent_back", "Drafts sent back"),
            ("unverified", "Published, unverified"),
            ("uncited", "Published without a source"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "waiting":
                return queryset.waiting_for_review()
            case "sent_back":
                return queryset.filter(status=Status.DRAFT, review_state=ReviewState.SENT_BACK)
            case "unverified":
                return queryset.published().unverified()
            case "uncited":
                return queryset.published().without_source()
        return queryset


class SendBackForm(forms.Form):
    note = forms.CharField(
        label="What should the contributor change?",
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class MergeForm(forms.Form):
    kept = forms.ModelChoiceField(
        queryset=None,
        label="Keep this record",
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="The others are merged into it and deleted; their addresses redirect to it.",
    )
    reason = forms.CharField(
        label="Why these are duplicates",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the history of the record you keep.",
    )

    def __init__(self, *args, records: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kept"].queryset = records


class MergeDuplicates:
    """The editors' "Merge duplicates" list action, for the types regulation.merging merges:
    a confirmation page in the admin's layout says what each duplicate would hand over, the
    editor chooses the record to keep and gives a reason, and merging.merge() does the rest.
    Refused (403) to anyone without the type's merge permission, POSTs built by hand included
    (ActionsNeedPermission), and by merge() itself."""

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if self.model not in MERGEABLE:
            actions.pop("merge_selected", None)
        return actions

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return may_merge(self.model, request.user)

    @admin.action(description="Merge selected duplicates into one", permissions=["merge"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        records = queryset.order_by("pk")
        if len(records) < 2:
            self.message_user(request, "Select two or more duplicates to merge.", messages.ERROR)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, records=records)
        error = None
        if form.is_valid():
            kept = form.cleaned_data["kept"]
            duplicates = [record for record in records if record.pk != kept.pk]
            try:
                merge(kept, duplicates, reason=form.cleaned_data["reason"], by=request.user)
            except MergeRefused as refused:
                error = refused.message
            else:
                names = "; ".join(str(d) for d in duplicates)
                message = f"Merged {plural(len(duplicates))} into {kept}: {names}."
                self.message_user(request, message, messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge duplicate {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "records": records,
            "plan": merge_plan(records[0], records),
            "form": form,
            "error": error,
            "action": "merge_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/regulation/merge.html", context)


class PublicRecordAdmin(MergeDuplicates, ExportAdmin, HistoryAdmin):
    """Base admin for PublicRecord subclasses: the publishing rule, the review, actions and
    source counts. Only a user with the model's publish permission (an editor) changes what
    the public sees: the status is read-only to others, and the publish, unpublish and send
    back actions need it; every path ends in the model's publish() / unpublish()."""

    form = PublicRecordForm
    formfield_overrides = URL_FIELDS
    readonly_fields = TIMESTAMPS
    actions = (
        "submit_for_review",
        "publish_selected",
        "send_back",
        "unpublish_selected",
        "merge_selected",
    )
    list_per_page = 50

    class Media:
        css = {"all": ("regulation/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One annotated query instead of a count per row in the list.
        return super().get_queryset(request).annotate(source_count=Count("sources", distinct=True))

    def get_list_filter(self, request: HttpRequest) -> tuple:
        return (PublishingFilter, *super().get_list_filter(request))

    @admin.display(description="sources", ordering="source_count")
    def source_count(self, obj: PublicRecord) -> int:
        return obj.source_count

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs):
        # A long title wraps on several lines instead of scrolling out of its box.
        if db_field.name == "title" and isinstance(db_field, models.CharField):
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def view_on_site(self, obj: PublicRecord) -> str | None:
        # Only a published record has a public page; a draft's link would be a 404. A type
        # whose public page is not built yet has no link rather than a broken one.
        if not obj.is_published:
            return None
        try:
            return obj.get_absolute_url()
        except NoReverseMatch:
            return None

    # --- Who may publish ---

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return self.model.may_publish(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = (*super().get_readonly_fields(request, obj), *REVIEW_FIELDS)
        if not self.has_publish_permission(request):
            return (*fields, "status")
        return fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published record is shown read-only (its inlines too) to a contributor.
        if obj is not None and not obj.may_change(request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A contributor may delete a draft of their own making, never what the public sees.
        if obj is not None and obj.is_published and not self.has_publish_permission(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request: HttpRequest):
        """Bulk delete: published records among them need the publish permission, so the
        admin names them on its "permission needed" page and refuses the POST."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not self.has_publish_permission(request) and any(o.is_published for o in objs):
            perms_needed = {*perms_needed, f"published {self.opts.verbose_name_plural}"}
        return deleted, model_count, perms_needed, protected

    # --- Saving through the model's rule ---

    def save_model(self, request: HttpRequest, obj: PublicRecord, form, change: bool) -> None:
        # The status changes only through publish() / unpublish(), which check the permission
        # and record who published and when. A new record cannot cite its sources before it
        # exists, so it is saved as a draft and published once its sources are (save_related).
        self.hold_status(obj, change)
        super().save_model(request, obj, form, change)

    def hold_status(self, obj: PublicRecord, change: bool) -> None:
        """Keep the status the record has in the database for now; save_related() moves it."""
        saved = Status.DRAFT
        if change:
            saved = type(obj)._default_manager.values_list("status", flat=True).get(pk=obj.pk)
        obj._status_wanted, obj.status = obj.status, saved

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        record = form.instance
        wanted = getattr(record, "_status_wanted", record.status)
        # Unpublish before the sources change and publish after: a draft may cite nothing, so
        # an editor may unpublish a record and remove all its sources in one save.
        if wanted == Status.DRAFT and record.status != Status.DRAFT:
            record.unpublish(by=request.user)
        super().save_related(request, form, formsets, change)
        if wanted == Status.PUBLISHED and record.status != Status.PUBLISHED:
            record.publish(by=request.user)

    # --- List actions ---

    @admin.action(description="Submit selected drafts for review", permissions=["change"])
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet) -> None:
        drafts = list(queryset.filter(status=Status.DRAFT))
        for record in drafts:
            record.submit_for_review(by=request.user)
        message = f"Submitted {plural(len(drafts))} for review."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Publish selected", permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        published, refused = [], []
        for record in queryset.exclude(status=Status.PUBLISHED):
            try:
                record.publish(by=request.user)
            except ValidationError:
                refused.append(str(record))
            else:
                published.append(record)
        if published:
            self.message_user(request, f"Published {plural(len(published))}.", messages.SUCCESS)
        if refused:
            names = "; ".join(refused)
            message = f"Not published, no source cited: {names}. {PUBLISH_WITHOUT_SOURCE}"
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Send selected drafts back (with a note)", permissions=["publish"])
    def send_back(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        """Asks for the note on a page of its own, then sends each selected draft back."""
        drafts = list(queryset.filter(status=Status.DRAFT))
        form = SendBackForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Send back for changes",
                "opts": self.opts,
                "records": drafts,
                "form": form,
                "action": "send_back",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/regulation/send_back.html", context)
        for record in drafts:
            record.send_back(form.cleaned_data["note"], by=request.user)
        self.message_user(request, f"Sent {plural(len(drafts))} back.", messages.SUCCESS)
        return None

    @admin.action(description="Unpublish selected (back to draft)", permissions=["publish"])
    def unpublish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        # One save per record, not queryset.update(), so each change lands in the history.
        records = list(queryset)
        for record in records:
            record.unpublish(by=request.user)
        self.message_user(request, f"Moved {plural(len(records))} back to draft.", messages.SUCCESS)


# --- Who ----------------------------------------------------------------------------------------


@admin.register(Organisation)
class OrganisationAdmin(PublicRecordAdmin):
    list_display = ("name", "kind", "status", "verification", "source_count", "updated_at")
    list_filter = ("status", "verification", "kind")
    search_fields = ("key", "name", "kind_label", "description")
    autocomplete_fields = ("sources",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "kind_label", "website", "description")}),
        ("Relationships", {"fields": ("relationships",), "classes": ("collapse",)}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )


@admin.register(Platform)
class PlatformAdmin(PublicRecordAdmin):
    list_display = ("name", "owner", "kind", "status", "verification", "source_count")
    list_filter = ("status", "verification", "kind")
    list_select_related = ("owner",)
    search_fields = ("key", "name", "owner__name")
    autocomplete_fields = ("owner", "sources")
    fieldsets = (
        (None, {"fields": ("name", "owner", "kind", "website")}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )


@admin.register(Source)
class SourceAdmin(MergeDuplicates, ImportAdmin, HistoryAdmin):
    list_display = ("__str__", "publisher_name", "date_display", "origin", "kind")
    actions = ("merge_selected",)
    list_filter = ("origin", "kind", "published_precision")
    search_fields = ("key", "title", "publisher_name", "url", "quote")
    autocomplete_fields = ("publisher",)
    date_hierarchy = "published_on"
    formfield_overrides = URL_FIELDS
    readonly_fields = TIMESTAMPS
    fieldsets = (
        (None, {"fields": ("title", "url", "publisher", "publisher_name", "kind", "origin")}),
        (
            "Date",
            {
                "fields": ("published_on", "published_precision", "date_note"),
                "description": "When the source gives only a month or a year, enter its first "
                "day and set the precision: the site never shows a day no source gives.",
            },
        ),
        ("Evidence", {"fields": ("quote", "archived_url")}),
        ("Record", {"fields": ("key", *TIMESTAMPS), "classes": ("collapse",)}),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A source published records cite is shown read-only to a contributor.
        if obj is not None and not obj.may_change(request.user):
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="date", ordering="published_on")
    def date_display(self, obj: Source) -> str:
        return obj.date_display

    def get_deleted_objects(self, objs, request: HttpRequest):
        """List the published records that cite only these sources as protected, so the admin
        shows its "cannot delete" page naming them (single and bulk delete alike)."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        source_ids = [source.pk for source in objs]
        uncited = [r for m in public_models() for r in published_left_uncited(m, source_ids)]
        protected = [
            *protected,
            *(
                f"{capfirst(r._meta.verbose_name)}: {r} (published, cites no other source)"
                for r in uncited
            ),
        ]
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Source) -> None:
        try:
            super().delete_model(request, obj)
        except UncitedRecordsError as error:
            self.message_user(request, error.message, messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            super().delete_queryset(request, queryset)
        except UncitedRecordsError as error:
            self.message_user(request, error.message, messages.ERROR)


@admin.register(Topic)
class TopicAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = TIMESTAMPS
    fields = ("name", "slug", "description", *TIMESTAMPS)


# --- What the law requires ----------------------------------------------------------------------


@admin.register(Instrument)
class InstrumentAdmin(PublicRecordAdmin):
    list_display = ("__str__", "kind", "stage", "issuer", "status", "verification", "source_count")
    list_filter = ("status", "verification", "kind", "stage", "issuer", "topics")
    list_select_related = ("issuer",)
    search_fields = ("key", "title", "short_name", "summary")
    autocomplete_fields = ("issuer", "parent", "topics", "sources")
    fieldsets = (
        (None, {"fields": ("title", "short_name", "kind", "stage", "issuer", "parent")}),
        ("About", {"fields": ("official_url", "summary", "topics")}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )


@admin.register(Measure)
class MeasureAdmin(PublicRecordAdmin):
    list_display = ("__str__", "instrument", "status", "verification", "source_count")
    list_filter = ("status", "verification", "instrument", "topics")
    list_select_related = ("instrument",)
    search_fields = ("key", "reference", "title", "summary", "applies_to")
    autocomplete_fields = ("instrument", "topics", "sources")
    fieldsets = (
        (None, {"fields": ("instrument", "instrument_reference", "reference", "title")}),
        ("What it requires", {"fields": ("summary", "applies_to", "relevance", "topics")}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )


# --- When ---------------------------------------------------------------------------------------


class DateChangeInline(admin.TabularInline):
    """The milestone's slippage history. Read-only: a move is recorded by changing the date
    above, so the date and its history can never disagree."""

    model = DateChange
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "__str__",
        "old_certainty",
        "new_certainty",
        "announced_on",
        "reason",
        "source",
        "created_by",
        "created_at",
    )
    verbose_name_plural = "date changes (so the site can show honestly how the date slipped)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("source", "created_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MilestoneForm(PublicRecordForm):
    """The milestone, plus why its date moved when an editor changes it."""

    DATE_FIELDS = ("date", "date_precision", "certainty")

    date_change_reason = forms.CharField(
        label="Why the date changed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when you change the date, its precision or its certainty: the "
        "site shows every change of date with its reason.",
    )
    date_change_source = forms.ModelChoiceField(
        label="Source for the change",
        queryset=Source.objects.all(),
        required=False,
        widget=AutocompleteSelect(DateChange._meta.get_field("source"), admin.site),
        help_text="The source that announced the new date.",
    )
    date_change_announced_on = forms.DateField(
        label="Change announced on",
        required=False,
        widget=AdminDateWidget,
        help_text="When the new date was announced, if known.",
    )

    def date_moved(self) -> bool:
        """Whether the date as it will be stored (the first day of its period), its precision
        or its certainty differ from the saved ones. Another day in the same month of a
        month-precision date is not a move, and move_to() would refuse it."""
        if self.instance.pk is None or not set(self.DATE_FIELDS) & set(self.changed_data):
            return False
        date, precision, certainty = (self.cleaned_data.get(name) for name in self.DATE_FIELDS)
        if not (date and precision and certainty):
            return False  # the field's own error stops the save
        saved = tuple(self.initial[name] for name in self.DATE_FIELDS)
        return (period_start(date, precision), precision, certainty) != saved

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        if self.date_moved() and not cleaned_data.get("date_change_reason", "").strip():
            self.add_error(
                "date_change_reason", "Say why the date changed: the site shows every move."
            )
        return cleaned_data


class MilestoneFollowUpFilter(admin.SimpleListFilter):
    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [
            ("next_30_days", f"Published, due in the next {DEADLINE_DAYS} days"),
            ("passed_unconfirmed", "Expected date passed, unconfirmed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "next_30_days":
                return queryset.published().deadlines_within(DEADLINE_DAYS)
            case "passed_unconfirmed":
                return queryset.passed_unconfirmed()
        return queryset


@admin.register(Milestone)
class MilestoneAdmin(ImportAdmin, PublicRecordAdmin):
    form = MilestoneForm
    # Fits 1280 px: the date says "Expected: ..." itself, so certainty needs no column.
    list_display = ("__str__", "date_display", "kind", "status", "verification", "source_count")
    list_filter = (
        MilestoneFollowUpFilter,
        "status",
        "verification",
        "kind",
        "certainty",
        "date_precision",
        "instruments",
        "platforms",
        "topics",
    )
    search_fields = ("key", "title", "description", "phase", "who_must_act")
    autocomplete_fields = ("instruments", "measures", "platforms", "topics", "sources")
    date_hierarchy = "date"
    readonly_fields = (*TIMESTAMPS, "date_end")
    inlines = (DateChangeInline,)
    fieldsets = (
        (None, {"fields": ("title", "kind", "description", "phase", "who_must_act")}),
        (
            "When",
            {
                "fields": ("date", "date_precision", "date_end", "certainty", "date_label"),
                "description": "For a month, season, quarter or year enter any day in it and "
                "set the precision; the period is worked out (a day in January or February is "
                "in the winter that began the December before). Changing the date of a saved "
                "milestone records the move, with its reason, in the date changes below.",
            },
        ),
        (
            "If the date changed",
            {"fields": ("date_change_reason", "date_change_source", "date_change_announced_on")},
        ),
        ("Links", {"fields": ("instruments", "measures", "platforms", "topics")}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )

    @admin.display(description="date", ordering="date")
    def date_display(self, obj: Milestone) -> str:
        # The model's own wording: never a day for a date known only to the month.
        return obj.date_display

    def get_fieldsets(self, request: HttpRequest, obj: Milestone | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        # A new milestone has no date to move yet; a user who may not record moves cannot move.
        if obj is None or not self.may_move_dates(request):
            return [fs for fs in fieldsets if fs[0] != "If the date changed"]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not self.may_move_dates(request):
            return (*fields, *MilestoneForm.DATE_FIELDS)
        return fields

    def may_move_dates(self, request: HttpRequest) -> bool:
        """Moving a saved milestone's date writes a DateChange, so it needs that permission."""
        codename = get_permission_codename("add", DateChange._meta)
        return request.user.has_perm(f"{DateChange._meta.app_label}.{codename}")

    def save_model(
        self, request: HttpRequest, obj: Milestone, form: MilestoneForm, change: bool
    ) -> None:
        if not form.date_moved():
            super().save_model(request, obj, form, change)
            return
        self.hold_status(obj, change)
        # Put the old date back and move through the model, which records the change.
        new = tuple(getattr(obj, name) for name in form.DATE_FIELDS)
        for name in form.DATE_FIELDS:
            setattr(obj, name, form.initial[name])
        data = form.cleaned_data
        obj.move_to(
            new[0],
            precision=new[1],
            certainty=new[2],
            reason=data["date_change_reason"].strip(),
            source=data["date_change_source"],
            announced_on=data["date_change_announced_on"],
            by=request.user,
        )


# --- What platforms promised --------------------------------------------------------------------


class CommitmentUpdateFormSet(BaseInlineFormSet):
    def _construct_form(self, i: int, **kwargs: Any) -> forms.ModelForm:
        form = super()._construct_form(i, **kwargs)
        # Django only copies the commitment's id, which a commitment being added does not have
        # yet, and an id would check the date saved in the database, not the one being typed.
        # Give each update the commitment as the editor is submitting it.
        form.instance.commitment = self.instance
        return form


class CommitmentUpdateInline(admin.TabularInline):
    model = CommitmentUpdate
    formset = CommitmentUpdateFormSet
    extra = 0
    fields = ("on", "on_precision", "delivery_status", "note", "evidence", "created_by")
    readonly_fields = ("created_by",)
    autocomplete_fields = ("evidence",)
    verbose_name_plural = "status updates (the latest by date sets the commitment's status)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("evidence", "created_by")


class FollowUpFilter(admin.SimpleListFilter):
    """The questions staff ask of commitments, answered by the model's querysets (the same
    ones the dashboard counts)."""

    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        quiet = settings.FOLLOW_UP_QUIET_DAYS
        return [
            ("review_due", f"Needs review (review date reached, or no news for {quiet} days)"),
            ("review_date", "Review date reached"),
            ("quiet", f"No review date, no news for {quiet} days"),
            ("overdue", "Overdue and still open"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "review_due":
                return queryset.needs_review()
            case "review_date":
                return queryset.review_date_reached()
            case "quiet":
                return queryset.quiet()
            case "overdue":
                return queryset.overdue()
        return queryset


@admin.register(Commitment)
class CommitmentAdmin(ImportAdmin, PublicRecordAdmin):
    # Fits 1280 px; when it was made and its review date are on the form and the dashboard.
    list_display = (
        "__str__",
        "platform_names",
        "delivery_status",
        "due_display",
        "status",
        "verification",
        "source_count",
    )
    list_filter = (
        FollowUpFilter,
        "status",
        "verification",
        "delivery_status",
        "platforms",
        "topics",
    )
    search_fields = ("key", "summary", "quote", "made_by", "platform_label", "platforms__name")
    autocomplete_fields = (
        "platforms",
        "made_by_organisation",
        "measures",
        "milestones",
        "topics",
        "sources",
    )
    date_hierarchy = "made_on"
    readonly_fields = (*TIMESTAMPS, "due_end", "delivery_status")
    inlines = (CommitmentUpdateInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "summary",
                    "quote",
                    "platforms",
                    "platform_label",
                    "made_by_organisation",
                    "made_by",
                )
            },
        ),
        (
            "When",
            {
                "fields": (
                    ("made_on", "made_on_precision"),
                    ("due_on", "due_precision", "due_end"),
                    "review_on",
                ),
                "description": "For a month or a year enter its first day and set the precision. "
                "The review date puts the commitment on the 'review date reached' list.",
            },
        ),
        (
            "Delivery",
            {
                "fields": ("delivery_status",),
                "description": "The status follows the latest status update below: add an "
                "update with its evidence to change it.",
            },
        ),
        ("Links", {"fields": ("measures", "milestones", "topics")}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("platforms")

    @admin.display(description="platforms")
    def platform_names(self, obj: Commitment) -> str:
        return ", ".join(platform.name for platform in obj.platforms.all())

    @admin.display(description="made on", ordering="made_on")
    def made_on_display(self, obj: Commitment) -> str:
        return obj.made_on_display

    @admin.display(description="due", ordering="due_on")
    def due_display(self, obj: Commitment) -> str:
        return format_fuzzy(obj.due_on, obj.due_precision) if obj.due_on else "—"

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        for update in formset.save(commit=False):
            if update.pk is None:
                update.created_by = request.user
            with change_reason(update, update.reason):
                update.save()
        for update in formset.deleted_objects:
            update.delete()
        # The commitment's history gives the latest update's note as the reason.
        form.instance.refresh_delivery_status(by=request.user)


# --- Statistics ---------------------------------------------------------------------------------


@admin.register(Indicator)
class IndicatorAdmin(PublicRecordAdmin):
    list_display = ("name", "unit", "publisher_name", "status", "verification", "source_count")
    list_filter = ("status", "verification", "unit", "topics")
    search_fields = ("key", "name", "publisher_name", "method_note")
    autocomplete_fields = ("publisher", "topics", "sources")
    fieldsets = (
        (None, {"fields": ("name", "unit", "publisher", "publisher_name", "topics")}),
        ("Method", {"fields": ("method_note",)}),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )


class ConflictFilter(admin.SimpleListFilter):
    title = "sources disagree"
    parameter_name = "conflict"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(conflict_count__gt=0)
        if self.value() == "no":
            return queryset.filter(conflict_count=0)
        return queryset


@admin.register(Observation)
class ObservationAdmin(PublicRecordAdmin):
    list_display = (
        "metric",
        "value_text",
        "period_label",
        "indicator",
        "has_conflict",
        "status",
        "verification",
        "source_count",
    )
    list_filter = (ConflictFilter, "status", "verification", "unit", "indicator", "platforms")
    list_select_related = ("indicator",)
    search_fields = ("key", "metric", "value_text", "period_label", "coverage", "indicator__name")
    autocomplete_fields = ("indicator", "platforms", "conflicts_with", "sources")
    fieldsets = (
        (None, {"fields": ("indicator", "metric", "platforms", "coverage", "publisher_name")}),
        (
            "Figure",
            {
                "fields": ("value_text", "value", "unit"),
                "description": "Copy the figure exactly as published; add the number as well "
                "only when it is a single number, for the charts.",
            },
        ),
        ("Period", {"fields": ("period_label", "period_start", "period_end")}),
        (
            "Disagreement",
            {
                "fields": ("conflicts_with",),
                "description": "Where sources give different values for the same figure, keep "
                "each as its own observation with its source and link them here.",
            },
        ),
        PUBLISHING_FIELDSET,
        RECORD_FIELDSET,
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(conflict_count=Count("conflicts_with", distinct=True))
        )

    @admin.display(description="sources disagree", boolean=True, ordering="conflict_count")
    def has_conflict(self, obj: Observation) -> bool:
        return obj.conflict_count > 0


# --- Fact releases: what the seed applied, and the corrections it left to an editor -------------


class ReadOnlyAdmin(ActionsNeedPermission, admin.ModelAdmin):
    """Written only by the seed command: staff read these, never edit them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FactRelease)
class FactReleaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "applied_at", "applied_by", "facts_file", "curation_file")
    readonly_fields = (
        "name",
        "facts_file",
        "curation_file",
        "applied_at",
        "applied_by",
        "counts",
    )
    search_fields = ("name",)


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Waiting for an editor"), ("yes", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(SeedConflict)
class SeedConflictAdmin(ReadOnlyAdmin):
    """Corrections a release did not apply because staff had changed the field since: compare
    the two values, edit the record by hand if the release is right, then mark it resolved."""

    list_display = (
        "fact_id",
        "field",
        "staff_value",
        "release_value",
        "release",
        "created_at",
        "resolved_at",
    )
    list_filter = (ResolvedFilter, "release", "model", "field")
    list_select_related = ("release",)
    search_fields = ("fact_id", "staff_value", "release_value", "reason")
    readonly_fields = (
        "release",
        "model",
        "fact_id",
        "object_pk",
        "field",
        "staff_value",
        "release_value",
        "reason",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    actions = ["mark_resolved"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("regulation.change_seedconflict")

    @admin.action(description="Mark resolved", permissions=["resolve"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet) -> None:
        now = timezone.now()
        count = 0
        for conflict in queryset.filter(resolved_at__isnull=True):
            conflict.mark_resolved(by=request.user, at=now)
            count += 1
        self.message_user(request, f"{count} conflict(s) marked resolved.", messages.SUCCESS)
