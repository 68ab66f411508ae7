from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.views.generic import TemplateView

from regulation.sitemaps import SITEMAPS, PageSitemap
from tracker.views import healthz

admin.site.site_header = "Online Safety Act tracker"
admin.site.site_title = "OSA tracker admin"
admin.site.index_title = "Knowledge base and tracking"
# Django's side bar of every app and model takes a quarter of a 1280 px window, so the lists
# (beside their filters) would scroll sideways and hide status, verification and sources. The
# index and the breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {**SITEMAPS, "reminders": PageSitemap(["reminders:subscribe"])}},
        name="sitemap",
    ),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots",
    ),
    path("reminders/", include("tracker.reminder_urls")),
    path("healthz", healthz, name="healthz"),
    # Webhooks belong to the tracker: their routes come before the knowledge base's API.
    path("api/v1/", include("tracker.webhooks.api")),
    path("api/v1/", include("regulation.api.urls")),
    path("", include("regulation.urls")),
]

# Missing and failed pages in the site's own layout (Django's defaults are bare).
handler404 = "regulation.views.errors.page_not_found"
handler500 = "regulation.views.errors.server_error"
