"""Template helpers for the public site."""

import datetime as dt

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst

from regulation.models import data_last_updated
from regulation.templatetags.regulation_text import link_source_keys

register = template.Library()


@register.filter
def link_sources(text: object) -> SafeString:
    """A short plain text, escaped, with each source key in it linked to that source's page.
    Escaping comes first: the keys are then matched in text that can no longer carry markup.
    Long text written by staff goes through `markdown` instead, which links keys too."""
    return mark_safe(link_source_keys(str(escape(str(text or "")))))


@register.filter
def title_text(text: object) -> str:
    """A record's title as part of a page title: without its closing full stop."""
    return str(text or "").strip().rstrip(".").rstrip()


@register.simple_tag
def last_updated() -> dt.datetime | None:
    """When the published data last changed (one query)."""
    return data_last_updated()


# A milestone's date and its list row are written here, in Python, and not in template
# includes: a timeline lists thousands of rows, and an include per row made the page several
# times slower than the rows themselves (see `make bench`). _milestone_date.html and
# _milestone_item.html call these, so every page shows a date the same way.
PASSED_UNCONFIRMED = "Expected date passed: not confirmed as happened"


@register.simple_tag
def milestone_date(milestone) -> SafeString:
    """The date at its precision and certainty; an unverified date carries its mark, and an
    expected date that passed unconfirmed says so."""
    marks = []
    if milestone.date_is_unverified:
        marks.append(' <span class="tag unverified">Unverified</span>')
    if milestone.passed_unconfirmed:
        marks.append(f' <span class="tag unverified">{PASSED_UNCONFIRMED}</span>')
    return format_html(
        '<time datetime="{}">{}</time>{}',
        milestone.date_iso,
        milestone.date_display,
        mark_safe("".join(marks)),
    )


@register.simple_tag
def milestone_item(milestone) -> SafeString:
    """A milestone's row in a list: its date, its title linked, its kind, how its date moved."""
    slipped = milestone.slip_history
    return format_html(
        '<li class="{}">\n  <span class="date">{}</span>\n  <a href="{}">{}</a>\n'
        '  <span class="tag">{}</span>{}\n</li>',
        milestone.kind,
        milestone_date(milestone),
        milestone.get_absolute_url(),
        milestone.title,
        milestone.get_kind_display(),
        format_html('\n  <span class="slipped">{}</span>', capfirst(slipped)) if slipped else "",
    )


@register.simple_tag
def commitment_item(commitment) -> SafeString:
    """A commitment's row in a list: what was promised (linked), its status, who and when."""
    listed = getattr(commitment, "listed_platforms", None)
    platforms = listed if listed is not None else commitment.platforms.published()
    names = ", ".join(p.name for p in platforms) or commitment.platform_label
    return format_html(
        '<li><a href="{}">{}</a>\n  <span class="tag status-{}">{}</span>\n'
        '  <span class="meta">{} · made {}</span></li>',
        commitment.get_absolute_url(),
        Truncator(commitment.summary).words(30),
        commitment.delivery_status,
        commitment.get_delivery_status_display(),
        names,
        commitment.made_on_display,
    )
