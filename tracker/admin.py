from django.contrib import admin, messages
from django.utils import timezone

from regulation.admin import ActionsNeedPermission
from tracker.models import (
    TARGET_FIELDS,
    FollowUp,
    Heartbeat,
    LeadTime,
    PlannerRun,
    Reminder,
    Subscriber,
    Subscription,
)


@admin.register(Heartbeat)
class HeartbeatAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["received_at", "worker", "sent_at", "task_id"]
    # A date filter of ranges (today, past 7 days...) reads the received_at index; a date
    # hierarchy and a list of distinct workers would each scan the whole table on every page.
    list_filter = ["received_at"]
    search_fields = ["worker", "task_id"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LeadTimeInline(admin.TabularInline):
    model = LeadTime
    extra = 0


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = [*TARGET_FIELDS, "confirmed_at", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = TARGET_FIELDS


@admin.register(Subscriber)
class SubscriberAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["email", "confirmed_at", "unsubscribed_at", "created_at"]
    list_filter = ["confirmed_at", "unsubscribed_at"]
    search_fields = ["email"]
    inlines = [SubscriptionInline]
    show_full_result_count = False


@admin.register(Subscription)
class SubscriptionAdmin(ActionsNeedPermission, admin.ModelAdmin):
    """Staff subscribe here: set 'confirmed at' for an address you know is the person's own."""

    list_display = ["subscriber", "target", "confirmed_at", "created_at"]
    list_filter = ["confirmed_at"]
    list_select_related = ["subscriber", *TARGET_FIELDS]
    search_fields = ["subscriber__email", "milestone__key", "milestone__title", "commitment__key"]
    autocomplete_fields = ["subscriber"]
    raw_id_fields = TARGET_FIELDS
    readonly_fields = ["withdrawn_at"]  # set by the address's unsubscribe only
    inlines = [LeadTimeInline]
    show_full_result_count = False

    @admin.display(description="Watches")
    def target(self, subscription: Subscription) -> str:
        return subscription.target_display


@admin.register(Reminder)
class ReminderAdmin(ActionsNeedPermission, admin.ModelAdmin):
    """The outbox: every reminder and notice, its state and its last error."""

    list_display = [
        "id",
        "subscriber_email",
        "milestone",
        "commitment",
        "kind",
        "planned_for",
        "lead_days",
        "state",
        "attempts",
        "updated_at",
    ]
    list_filter = ["state", "kind", "lead_days", "planned_for", "updated_at"]
    list_select_related = ["subscription__subscriber", "milestone", "commitment"]
    search_fields = [
        "subscription__subscriber__email",
        "milestone__key",
        "milestone__title",
        "commitment__key",
    ]
    readonly_fields = [f.name for f in Reminder._meta.fields]
    actions = ["resend"]
    show_full_result_count = False

    @admin.display(description="Subscriber", ordering="subscription__subscriber__email")
    def subscriber_email(self, reminder: Reminder) -> str:
        return reminder.subscription.subscriber.email

    @admin.action(description="Send the selected reminders again", permissions=["change"])
    def resend(self, request, queryset) -> None:
        count = queryset.resend(at=timezone.now())
        self.message_user(
            request, f"{count} reminders will go out with the next planner run.", messages.SUCCESS
        )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PlannerRun)
class PlannerRunAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "planned", "cancelled", "released", "batches"]
    list_filter = ["started_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["kind", "commitment", "milestone", "occasion", "state", "sent_at"]
    list_filter = ["state", "kind", "occasion"]
    list_select_related = ["commitment", "milestone"]
    readonly_fields = [f.name for f in FollowUp._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False


# Webhook endpoints, events and deliveries.
from tracker.webhooks import admin as webhooks_admin  # noqa: E402, F401
