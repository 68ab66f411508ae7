"""Staff-entered long text (descriptions, notes, summaries) as Markdown, made safe to show.

Staff write Markdown; readers see a few harmless tags. The text is rendered with raw HTML turned
off, then cleaned by an HTML sanitiser (nh3) with an allow-list, so nothing a staff account types
(or an attacker who took one) can run in a reader's browser: no script, no event handlers, no
styles, no frames or images, and links only to web addresses. Quotes are verbatim and stay plain
text: do not pass them through this filter.
"""

import re

import nh3
from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = {"p", "em", "strong", "a", "ul", "ol", "li", "code", "blockquote", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
LINK_REL = "nofollow noopener"
# Checked on the href as the sanitiser decoded it (entities resolved), so "jav&#x61;script:"
# and a relative or protocol-relative address ("//evil.example") are dropped too.
WEB_ADDRESS = re.compile(r"https?://[^/\s]", re.IGNORECASE)

# A source named by its key in a text: "S02", "S113" (the facts' ids), as a whole word.
SOURCE_KEY = re.compile(r"\b(S\d{2,3})\b")
_TAG = re.compile(r"(<[^>]*>)")
_LINK_OPENS = re.compile(r"<a[\s>]", re.IGNORECASE)

# CommonMark with raw HTML off: HTML typed into the text is shown as text, not parsed.
_markdown = MarkdownIt("commonmark", {"html": False})


def _only_web_links(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if WEB_ADDRESS.match(value) else None
    return value


def render_markdown(text: str) -> str:
    """The text as sanitised HTML: only ALLOWED_TAGS, links to http(s) addresses only, each
    marked rel="nofollow noopener" (we vouch for no link, and the page opened cannot reach
    back to ours)."""
    html = _markdown.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_only_web_links,
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        strip_comments=True,
    )


def link_source_keys(html: str) -> str:
    """Safe HTML with each source key in its text (not in its tags, nor inside a link already)
    linked to that source's page. Our own links are added after sanitising, which keeps only
    web addresses."""
    parts, inside_link = [], False
    for part in _TAG.split(html):
        if part.startswith("<"):
            if _LINK_OPENS.match(part):
                inside_link = True
            elif part.lower().startswith("</a"):
                inside_link = False
        elif not inside_link:
            part = SOURCE_KEY.sub(
                lambda m: f'<a href="{reverse("regulation:source", args=[m[1]])}">{m[1]}</a>', part
            )
        parts.append(part)
    return "".join(parts)


@register.filter(is_safe=True)
def markdown(value: object) -> SafeString:
    """{{ milestone.description|markdown }}: the text rendered as safe HTML (see the module),
    with the source keys it names (S02) linked to their pages."""
    if value is None or value == "":
        return mark_safe("")
    return mark_safe(link_source_keys(render_markdown(str(value))))  # sanitised first
