"""The reminder pages of the public site. Thin: the rules live on the models."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tracker.links import subscriber_id_from_unsubscribe_token
from tracker.models import Subscriber


def _email_of(pk: int) -> str | None:
    return Subscriber.objects.filter(pk=pk).values_list("email", flat=True).first()


# RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" with no cookie and no CSRF token;
# the signed link is the authority. The answer is a page, never a redirect, and a second POST
# answers the same as the first.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber_id = subscriber_id_from_unsubscribe_token(token, _email_of)
    if subscriber_id is None:
        return render(request, "tracker/unsubscribe_invalid.html", status=404)
    if request.method == "GET":
        return render(request, "tracker/unsubscribe.html", {"token": token})
    Subscriber.objects.get(pk=subscriber_id).unsubscribe(at=timezone.now())
    return render(request, "tracker/unsubscribed.html")
