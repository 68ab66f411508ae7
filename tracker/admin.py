from django.contrib import admin

from regulation.admin import ActionsNeedPermission
from tracker.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(ActionsNeedPermission, admin.ModelAdmin):
    list_display = ["received_at", "worker", "sent_at", "task_id"]
    list_filter = ["worker"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
