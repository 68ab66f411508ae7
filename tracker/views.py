"""The reminder pages of the public site. Thin: the rules live on the models.

None of them says whether an address is subscribed: subscribing answers the same page whatever
the address, and every other page needs a signed link only the address's owner received.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tracker import health, links
from tracker.forms import LeadDaysForm, SubscribeForm
from tracker.models import Subscriber, Subscription
from tracker.ratelimit import allow

logger = logging.getLogger(__name__)
HOUR = 60 * 60


def _subscriber(identity: tuple[int, str] | None) -> Subscriber | None:
    """The subscriber a signed link names, while it still has the address signed in it."""
    if identity is None:
        return None
    pk, email = identity
    return Subscriber.objects.filter(pk=pk, email=email).first()


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "tracker/link_invalid.html", status=404)


def _send_confirmation(subscription: Subscription) -> None:
    context = {
        "subscription": subscription,
        "confirm_url": links.confirm_url(subscription),
        "hours": int(links.CONFIRMATION_VALID_FOR.total_seconds() // HOUR),
        "site_url": settings.SITE_URL,
    }
    try:
        send_mail(
            "Confirm your reminders from the Online Safety Act tracker",
            render_to_string("tracker/email/confirm.txt", context),
            None,
            [subscription.subscriber.email],
        )
    except OSError as error:
        # The page must not differ (it would tell whether the address exists); the person can
        # ask again, and the log tells staff the mail server is failing.
        logger.error("Confirmation e-mail for subscription %s not sent: %s", subscription.pk, error)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = SubscribeForm(initial={"watch": request.GET.get("watch", "all")})
        return render(request, "tracker/subscribe.html", {"form": form})
    client = request.META.get("REMOTE_ADDR", "")
    if not allow(
        "subscribe-client", client, limit=settings.SUBSCRIBE_LIMIT_PER_CLIENT, window_seconds=HOUR
    ):
        return render(request, "tracker/too_many.html", status=429)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "tracker/subscribe.html", {"form": form}, status=400)
    email = form.cleaned_data["email"].strip().lower()
    # Past the limit for this address nothing is sent, yet the page is the same: the form
    # cannot flood an inbox, nor tell anyone what the address has asked for.
    if allow(
        "subscribe-address", email, limit=settings.SUBSCRIBE_LIMIT_PER_ADDRESS, window_seconds=HOUR
    ):
        subscription = Subscription.request(
            email, lead_days=form.cleaned_data["lead_days"], **form.target()
        )
        _send_confirmation(subscription)
    return render(request, "tracker/check_inbox.html")


# A GET only shows a button: mail scanners open links, and must not confirm for the person.
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    identity = links.read_confirm_token(token)
    subscription = None
    if identity is not None:
        pk, email = identity
        subscription = (
            Subscription.objects.confirmable().filter(pk=pk, subscriber__email=email).first()
        )
    if subscription is None:
        return _invalid_link(request)
    if request.method == "GET":
        return render(request, "tracker/confirm.html", {"subscription": subscription})
    try:
        subscription = subscription.confirm(at=timezone.now())
    except Subscription.Withdrawn:  # unsubscribed between the lookup and the confirm
        return _invalid_link(request)
    manage = links.manage_url(subscription.subscriber)
    return render(
        request, "tracker/confirmed.html", {"subscription": subscription, "manage_url": manage}
    )


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(links.read_manage_token(token))
    if subscriber is None:
        return _invalid_link(request)
    if request.method == "POST":
        _change_subscription(subscriber, request.POST)
        return redirect("reminders:manage", token=token)
    subscriptions = [
        (
            subscription,
            LeadDaysForm(
                initial={"lead_days": list(subscription.lead_times.values_list("days", flat=True))}
            ),
        )
        for subscription in subscriber.subscriptions.confirmed().select_related(
            "milestone", "instrument", "platform", "topic", "commitment"
        )
    ]
    context = {
        "subscriber": subscriber,
        "subscriptions": subscriptions,
        "unsubscribe_token": links.unsubscribe_token(subscriber),
    }
    return render(request, "tracker/manage.html", context)


def _change_subscription(subscriber: Subscriber, data) -> None:
    subscription = subscriber.subscriptions.confirmed().filter(pk=data.get("subscription")).first()
    if subscription is None:
        return
    if data.get("action") == "delete":
        subscription.delete()
        return
    form = LeadDaysForm(data)
    if form.is_valid():
        subscription.set_lead_days(form.cleaned_data["lead_days"])


# RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" with no cookie and no CSRF token;
# the signed link is the authority. The answer is a page, never a redirect, and a second POST
# answers the same as the first.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber(links.read_unsubscribe_token(token))
    if subscriber is None:
        return _invalid_link(request)
    if request.method == "GET":
        return render(request, "tracker/unsubscribe.html")
    subscriber.unsubscribe(at=timezone.now())
    return render(request, "tracker/unsubscribed.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker, the planner (run within three periods) and the
    webhook deliveries (none due for longer than WEBHOOK_BACKLOG_STALE_SECONDS) are all well;
    503 naming what is not."""
    at = timezone.now()
    database = health.database_ok()
    planner = health.planner_health(at=at) if database else None
    last_run = planner.last.started_at if planner and planner.last else None
    backlog = health.webhook_backlog(at=at) if database else None
    checks = {
        "database": database,
        "broker": health.broker_ok(),
        "planner": planner is not None and planner.is_alive,
        "webhooks": backlog is not None and backlog.is_healthy,
    }
    body = {name: "ok" if ok else "failing" for name, ok in checks.items()}
    body["planner_last_run"] = last_run.isoformat() if last_run else None
    body["webhook_backlog"] = (
        {
            "due": backlog.due,
            "oldest_due_seconds": int(backlog.oldest_wait.total_seconds())
            if backlog.oldest_wait is not None
            else None,
        }
        if backlog is not None
        else None
    )
    response = JsonResponse(body, status=200 if all(checks.values()) else 503)
    response["Cache-Control"] = "no-store"
    return response
