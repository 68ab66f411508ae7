"""The API's addresses, mounted at /api/v1/ by the site. `router` is public so the site can
register more resources on it (webhooks, say) before its URLs are read."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import routers
from rest_framework.reverse import reverse
from rest_framework.routers import DefaultRouter

from regulation.api import export, views

app_name = "api"


class APIRootView(routers.APIRootView):
    """The API's resources, its bulk export, its schema and its documentation, and the links
    the site adds under the same root (API_ROOT_LINKS: name → URL name, e.g. the webhooks)."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name, url_name in (
            *getattr(settings, "API_ROOT_LINKS", {}).items(),
            ("export", "api:export"),
            ("schema", "api:schema"),
            ("docs", "api:swagger-ui"),
            ("redoc", "api:redoc"),
        ):
            response.data[name] = reverse(url_name, request=request)
        response.data["export_csv"] = {
            kind: reverse("api:export-csv", kwargs={"kind": kind}, request=request)
            for kind in export.EXPORTED
        }
        return response


class Router(DefaultRouter):
    APIRootView = APIRootView


router = Router()
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("platforms", views.PlatformViewSet, basename="platform")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("sources", views.SourceViewSet, basename="source")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("indicators", views.IndicatorViewSet, basename="indicator")
router.register("observations", views.ObservationViewSet, basename="observation")

# The documentation pages run their own scripts from our static files, but both viewers set
# inline styles as they render: allowed on these two pages only (never inline script).
docs_csp = csp_update({"style-src": [SELF, UNSAFE_INLINE], "img-src": [SELF, "data:"]})


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="swagger-ui",
    ),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    path("export/", export.ExportView.as_view(), name="export"),
    path("export/<str:kind>.csv", export.ExportCsvView.as_view(), name="export-csv"),
    path("", include(router.urls)),
]
