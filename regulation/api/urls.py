"""The API's addresses, mounted at /api/v1/ by the site. `router` is public so the site can
register more resources on it (webhooks, say) before its URLs are read."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from regulation.api import views

app_name = "api"

router = DefaultRouter()
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
    path("", include(router.urls)),
]
