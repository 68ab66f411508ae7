"""Template helpers for the public site."""

import datetime as dt
import re

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from regulation.models import data_last_updated

register = template.Library()

# A source named by its key in a note: "S02", "S113" (the facts' ids), as a whole word.
SOURCE_KEY = re.compile(r"\b(S\d{2,3})\b")


@register.filter
def link_sources(text: object) -> SafeString:
    """The text, escaped, with each source key in it linked to that source's page. Escaping
    comes first: the keys are then matched in text that can no longer carry markup."""
    escaped = escape(str(text or ""))
    return mark_safe(
        SOURCE_KEY.sub(
            lambda m: f'<a href="{reverse("regulation:source", args=[m[1]])}">{m[1]}</a>',
            escaped,
        )
    )


@register.filter
def title_text(text: object) -> str:
    """A record's title as part of a page title: without its closing full stop."""
    return str(text or "").strip().rstrip(".").rstrip()


@register.simple_tag
def last_updated() -> dt.datetime | None:
    """When the published data last changed (one query)."""
    return data_last_updated()
