"""Managing webhook endpoints through the API, at /api/v1/webhooks/ (routes added by
tracker/urls.py). Token authentication; a client sees and changes only its own endpoints (another
client's answers 404). The signing secret is in the answer to a create and to a rotate-secret,
and in no other answer."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from regulation.api.pagination import RecordPagination
from regulation.api.serializers import KeyField
from regulation.models import Instrument, Platform, Topic
from tracker.webhooks import transport
from tracker.webhooks.events import queue_deliveries
from tracker.webhooks.models import Delivery, DeliveryAttempt, Endpoint, EventType


def _filter_field(model, help_text: str) -> KeyField:
    return KeyField(
        slug_field="slug",
        queryset=model.objects.all(),
        required=False,
        allow_null=True,
        help_text=help_text,
    )


class EndpointSerializer(serializers.ModelSerializer):
    """An endpoint as its owner sees it: never its secret."""

    url = serializers.CharField(
        max_length=2000,
        help_text="Where deliveries are POSTed: an https address whose name resolves to a "
        "public address. Redirects are not followed.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        allow_empty=True,
        help_text="The event types to deliver; empty or absent: all of them.",
    )
    platform = _filter_field(Platform, "Only events about this platform (its slug).")
    instrument = _filter_field(Instrument, "Only events about this instrument (its slug).")
    topic = _filter_field(Topic, "Only events about this topic (its slug).")

    class Meta:
        model = Endpoint
        fields = (
            "id",
            "url",
            "events",
            "platform",
            "instrument",
            "topic",
            "description",
            "paused",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "paused",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        )

    def validate_url(self, url: str) -> str:
        url = url.strip()
        try:
            transport.check_url(url, allow_loopback=settings.WEBHOOK_ALLOW_LOOPBACK)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return url

    def validate_events(self, events: list[str]) -> list[str]:
        return sorted(set(events))


class CreatedEndpointSerializer(EndpointSerializer):
    """The answer to a create: the endpoint and, this once, its secret."""

    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_...). Shown this once: keep it now.",
    )

    class Meta(EndpointSerializer.Meta):
        fields = (*EndpointSerializer.Meta.fields, "secret")
        read_only_fields = (*EndpointSerializer.Meta.read_only_fields, "secret")


class RotatedSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret. Shown this once.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then the previous secret signs every delivery too."
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = (
            "number",
            "started_at",
            "duration",
            "status_code",
            "response_size",
            "response_excerpt",
            "error",
        )


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(
        source="event.id", read_only=True, help_text="The webhook-id header of every attempt."
    )
    event_type = serializers.ChoiceField(
        source="event.type", choices=EventType.choices, read_only=True
    )
    attempts_log = AttemptSerializer(source="log", many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "created_at",
            "attempts_log",
        )


DELIVERY_ID = OpenApiParameter(
    "delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The delivery's id."
)


class EndpointViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your webhook endpoints: register one (its secret is shown once), list, change, pause,
    resume, rotate the secret, delete; and each one's delivery log, with redelivery."""

    serializer_class = EndpointSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = RecordPagination
    # Any segment: a malformed id is this API's JSON 404, not the site's HTML page.
    lookup_value_regex = "[^/]+"
    queryset = Endpoint.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Endpoint.objects.none()
        return (
            Endpoint.objects.filter(owner=self.request.user)
            .select_related("platform", "instrument", "topic")
            .order_by("created_at", "pk")
        )

    @extend_schema(responses={201: CreatedEndpointSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = serializer.save(owner=request.user)
        answer = CreatedEndpointSerializer(endpoint, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: EndpointSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        endpoint = self.get_object()
        endpoint.paused = True
        endpoint.save(update_fields=["paused", "updated_at"])
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=None, responses={200: EndpointSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Take deliveries again, after a pause or after being disabled for failing."""
        endpoint = self.get_object()
        with transaction.atomic():
            endpoint.resume()
            ids = list(
                Delivery.objects.due(at=timezone.now())
                .filter(endpoint=endpoint)
                .values_list("pk", flat=True)[: settings.WEBHOOK_DISPATCH_LIMIT]
            )
            queue_deliveries(ids)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=None, responses={200: RotatedSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret, shown this once; the previous one goes on signing as well for
        WEBHOOK_SECRET_GRACE_HOURS, so receivers can switch without losing a delivery."""
        endpoint = self.get_object()
        grace = dt.timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
        secret = endpoint.rotate_secret(at=timezone.now(), grace=grace)
        answer = {
            "secret": secret,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        }
        return Response(RotatedSecretSerializer(answer).data)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer)
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first, each with its attempts."""
        endpoint = self.get_object()
        deliveries = (
            Delivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .prefetch_related("log")
            .order_by("-created_at", "-pk")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, parameters=[DELIVERY_ID], responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[^/]+)/redeliver",
        serializer_class=DeliverySerializer,
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        """Post the delivery again, with the same webhook-id (a receiver that deduplicates by
        id will see it as the same message)."""
        endpoint = self.get_object()
        if not str(delivery_id).isdigit():
            raise NotFound("No such delivery for this endpoint.")
        deliveries = Delivery.objects.filter(endpoint=endpoint, pk=delivery_id)
        if not deliveries.exists():
            raise NotFound("No such delivery for this endpoint.")
        with transaction.atomic():
            if deliveries.redeliver(at=timezone.now()):
                queue_deliveries([int(delivery_id)])
        delivery = deliveries.select_related("event").prefetch_related("log").get()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("webhooks", EndpointViewSet, basename="webhook")
urlpatterns = router.urls
