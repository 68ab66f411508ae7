from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Online Safety Act tracker"
admin.site.site_title = "OSA tracker admin"
admin.site.index_title = "Knowledge base and tracking"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("regulation.api.urls")),
    path("", include("regulation.urls")),
]
