"""Signed links in reminder e-mails: the address needs no password to manage what it receives."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "tracker.reminders.unsubscribe"


def absolute(path: str) -> str:
    """An address on the public site (SITE_URL), for e-mails, which have no request."""
    return settings.SITE_URL + path


def unsubscribe_token(subscriber) -> str:
    # The address is signed with the id, so a token never applies to another address that
    # later got the same id. No expiry: RFC 8058 links must work for as long as mail arrives.
    return signing.dumps([subscriber.pk, subscriber.email], salt=UNSUBSCRIBE_SALT)


def subscriber_id_from_unsubscribe_token(token: str, email_of) -> int | None:
    """The subscriber's id when the token is genuine and still names its address, else None."""
    try:
        pk, email = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return pk if email_of(pk) == email else None


def unsubscribe_url(subscriber) -> str:
    return absolute(reverse("reminders:unsubscribe", args=[unsubscribe_token(subscriber)]))
