"""Template helpers for the public site."""

import datetime as dt
from html import escape as html_escape

from django import template
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from regulation.dates import html_datetime, period_end, period_start
from regulation.models import Milestone, MilestoneKind, data_last_updated, local_day, url_builder
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
# includes: a timeline lists thousands of rows, and an include, a tag, format_html() or a
# reverse() per row made the page several times slower than the rows themselves (see
# `make bench`). _milestone_date.html, _milestone_list.html and the timeline call these, so every
# page shows a date the same way. Text is escaped by the standard library's html.escape (what
# Django's escape() does, without its per-call wrapping).
PASSED_UNCONFIRMED = "Expected date passed: not confirmed as happened"
UNVERIFIED_MARK = ' <span class="tag unverified">Unverified</span>'
PASSED_MARK = f' <span class="tag unverified">{PASSED_UNCONFIRMED}</span>'
KIND_LABELS = {kind.value: html_escape(str(kind.label)) for kind in MilestoneKind}


def date_element(milestone, today: dt.date) -> str:
    """The date as HTML: a <time> whose datetime attribute is a valid HTML date, month or year
    at the date's precision; a season or a quarter, which HTML cannot write, as a <span> giving
    its first and last days as an ISO 8601 interval."""
    text = html_escape(milestone.date_display)
    machine = html_datetime(milestone.date, milestone.date_precision)
    if machine:
        html = f'<time datetime="{machine}">{text}</time>'
    else:
        start = period_start(milestone.date, milestone.date_precision)
        end = period_end(start, milestone.date_precision)
        period = f"{start.isoformat()}/{end.isoformat()}"
        html = f'<span class="period" data-period="{period}">{text}</span>'
    if milestone.date_is_unverified:
        html += UNVERIFIED_MARK
    if milestone.has_passed_unconfirmed(today):
        html += PASSED_MARK
    return html


@register.simple_tag
def milestone_date(milestone) -> SafeString:
    """The date at its precision and certainty; an unverified date carries its mark, and an
    expected date that passed unconfirmed says so."""
    return mark_safe(date_element(milestone, local_day()))


class MilestoneRows:
    """Writes milestones' list rows: the date, the title linked, the kind and how the date moved.
    One writer serves a whole list: the day, the address pattern and each distinct date's HTML
    are worked out once, not once per row."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.url = url_builder(Milestone.url_name)
        self.dates: dict[tuple, str] = {}

    def date(self, milestone) -> str:
        key = (
            milestone.date,
            milestone.date_precision,
            milestone.certainty,
            milestone.date_label,
            milestone.date_is_unverified,
        )
        html = self.dates.get(key)
        if html is None:
            html = self.dates[key] = date_element(milestone, self.today)
        return html

    def row(self, milestone) -> str:
        slipped = milestone.slip_history
        if slipped:
            slipped = (
                f'\n  <span class="slipped">{html_escape(slipped[0].upper() + slipped[1:])}</span>'
            )
        kind = milestone.kind
        url = html_escape(self.url(milestone.slug))
        label = KIND_LABELS.get(kind) or html_escape(kind)
        return (
            f'<li class="{html_escape(kind)}">\n'
            f'  <span class="date">{self.date(milestone)}</span>\n'
            f'  <a href="{url}">{html_escape(milestone.title)}</a>\n'
            f'  <span class="tag">{label}</span>{slipped}\n</li>'
        )


@register.simple_tag
def milestone_item(milestone) -> SafeString:
    """A milestone's row in a list: its date, its title linked, its kind, how its date moved."""
    return mark_safe(MilestoneRows(local_day()).row(milestone))


@register.simple_tag
def milestone_rows(milestones, today: dt.date | None = None) -> SafeString:
    """The rows of a list of milestones, with the "today" marker before the row that carries
    `today_before` (the timeline's grouping sets it)."""
    today = today or local_day()
    rows = MilestoneRows(today)
    marker = TODAY_ROW.format(day=html_escape(date_format(today, "j F Y")))
    return mark_safe(
        "\n".join(
            (marker + "\n" + rows.row(m)) if getattr(m, "today_before", False) else rows.row(m)
            for m in milestones
        )
    )


TODAY_ROW = '<li class="today-marker" id="today"><strong>Today: {day}</strong></li>'


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
