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
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = {"p", "em", "strong", "a", "ul", "ol", "li", "code", "blockquote", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
LINK_REL = "nofollow noopener"
# Checked on the href as the sanitiser decoded it (entities resolved), so "jav&#x61;script:"
# and a relative or protocol-relative address ("//evil.example") are dropped too.
WEB_ADDRESS = re.compile(r"https?://[^/\s]", re.IGNORECASE)

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


@register.filter(is_safe=True)
def markdown(value: object) -> SafeString:
    """{{ milestone.description|markdown }}: the text rendered as safe HTML (see the module)."""
    if value is None or value == "":
        return mark_safe("")
    return mark_safe(render_markdown(str(value)))  # sanitised by render_markdown
