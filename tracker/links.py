"""Signed links in reminder e-mails: the address needs no password to manage what it receives.

Every token signs the address with the id, so a token never applies to another address that
later got the same id, and each kind of link has its own salt, so one cannot stand for another.
"""

import datetime as dt
import re

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

CONFIRM_SALT = "tracker.reminders.confirm"
MANAGE_SALT = "tracker.reminders.manage"
UNSUBSCRIBE_SALT = "tracker.reminders.unsubscribe"
CONFIRMATION_VALID_FOR = dt.timedelta(hours=48)


def absolute(path: str) -> str:
    """An address on the public site (SITE_URL), for e-mails, which have no request."""
    return settings.SITE_URL + path


def _read(token: str, salt: str, max_age: dt.timedelta | None = None) -> tuple[int, str] | None:
    try:
        pk, email = signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):  # SignatureExpired included
        return None
    return (pk, email) if isinstance(pk, int) and isinstance(email, str) else None


def confirm_token(subscription) -> str:
    return signing.dumps([subscription.pk, subscription.subscriber.email], salt=CONFIRM_SALT)


def read_confirm_token(token: str) -> tuple[int, str] | None:
    """(subscription id, address) for a genuine link at most 48 hours old, else None."""
    return _read(token, CONFIRM_SALT, CONFIRMATION_VALID_FOR)


# Manage and unsubscribe links do not expire: RFC 8058 links must work for as long as mail
# arrives, and the manage link is in every e-mail.
def manage_token(subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=MANAGE_SALT)


def read_manage_token(token: str) -> tuple[int, str] | None:
    return _read(token, MANAGE_SALT)


def unsubscribe_token(subscriber) -> str:
    return signing.dumps([subscriber.pk, subscriber.email], salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    return _read(token, UNSUBSCRIBE_SALT)


def confirm_url(subscription) -> str:
    return absolute(reverse("reminders:confirm", args=[confirm_token(subscription)]))


# A token's characters (URL-safe base64 and ":"), which reverse() puts in a URL unchanged.
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_:-]+")
_TOKEN = "token-stand-in"
_ROUTES: dict[tuple, str] = {}


def _link(name: str, token: str) -> str:
    """absolute(reverse(name, args=[token])), the route reversed once (a reminder e-mail has two
    links, and a batch hundreds of e-mails) for the URL configuration in use."""
    key = (name, get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF, settings.SITE_URL)
    if key not in _ROUTES:
        _ROUTES[key] = absolute(reverse(name, args=[_TOKEN]))
    if _TOKEN_CHARS.fullmatch(token) is None:
        return absolute(reverse(name, args=[token]))
    return _ROUTES[key].replace(_TOKEN, token, 1)


def manage_url(subscriber) -> str:
    return _link("reminders:manage", manage_token(subscriber))


def unsubscribe_url(subscriber) -> str:
    return _link("reminders:unsubscribe", unsubscribe_token(subscriber))
