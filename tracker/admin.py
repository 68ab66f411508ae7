from django.contrib import admin

from regulation.admin import ActionsNeedPermission
from tracker.models import Heartbeat


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
