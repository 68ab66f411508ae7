from django.contrib import admin
from django.urls import include, path

from tracker.views import healthz

admin.site.site_header = "Online Safety Act tracker"
admin.site.site_title = "OSA tracker admin"
admin.site.index_title = "Knowledge base and tracking"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("reminders/", include("tracker.reminder_urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("regulation.urls")),
]
