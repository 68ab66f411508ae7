"""Template filters for stored URLs."""

import re

from django import template

register = template.Library()

# Checked on the raw value: a browser strips a leading space or a tab inside "java\tscript:",
# so only a value that already starts with http:// or https:// is safe to put in an href.
HTTP_SCHEME = re.compile(r"https?://", re.IGNORECASE)


@register.filter
def http_url(value: object) -> str:
    """The URL when it is a web address (http or https); otherwise an empty string, so a
    javascript: or data: URL that reached the database never becomes a link that runs."""
    url = str(value or "")
    return url if HTTP_SCHEME.match(url) else ""
