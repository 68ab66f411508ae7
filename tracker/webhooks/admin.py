"""Staff see every client's endpoints, the events and every delivery with its attempts, and can
redeliver. Secrets are never shown here."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from regulation.admin import ActionsNeedPermission
from tracker.webhooks.events import queue_deliveries
from tracker.webhooks.models import Delivery, DeliveryAttempt, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = [
        "url",
        "owner",
        "description",
        "paused",
        "disabled_at",
        "consecutive_failures",
        "created_at",
    ]
    list_filter = ["paused", "disabled_at", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["url", "description", "owner__username", "owner__email"]
    raw_id_fields = ["platform", "instrument", "topic"]
    # The secrets are editable=False, so never in a form; these show only what is safe. The
    # address and owner are the client's: changed through the API, where the address is checked.
    readonly_fields = [
        "owner",
        "url",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "failing_since",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # registered by their owners through the API, which shows the secret


@admin.register(Event)
class EventAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["id", "type", "created_at"]
    list_filter = ["type", "created_at"]
    search_fields = ["id"]
    readonly_fields = ["id", "type", "payload", "once_key", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "number",
        "started_at",
        "duration",
        "status_code",
        "response_size",
        "response_excerpt",
        "error",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "event__type", "last_status_code", "created_at", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__id", "endpoint__url"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["redeliver"]
    show_full_result_count = False

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.action(
        description="Deliver the selected again (same webhook-id)", permissions=["change"]
    )
    def redeliver(self, request, queryset) -> None:
        with transaction.atomic():
            ids = list(queryset.exclude(state="sending").values_list("pk", flat=True))
            count = Delivery.objects.filter(pk__in=ids).redeliver(at=timezone.now())
            queue_deliveries(ids)
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False
