"""Staff-entered long text is Markdown, and whatever is typed into it comes out inert."""

import re
from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from regulation.templatetags.regulation_text import ALLOWED_TAGS, markdown
from tests.factories import make_milestone

ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}}
WEB_ADDRESS = re.compile(r"https?://[^/\s]", re.IGNORECASE)

# What an attacker with a staff account, or a careless paste, might put into a description.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<body onload=alert(1)>",
    '<a href="https://ofcom.org.uk" onclick="alert(1)">Ofcom</a>',
    '<p onmouseover="alert(1)">hover</p>',
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="https://evil.example"><input name=q><button>Go</button></form>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style>",
    '<div style="position:fixed;inset:0">cover</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<b><i>mis</b>nested</i> <em><strong>tags</em>",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
    '<a href="javascript:alert(1)">link</a>',
    '<a href="JaVaScRiPt:alert(1)">link</a>',
    '<a href="jav&#x61;script:alert(1)">link</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">link</a>',
    '<a href="java\tscript:alert(1)">link</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">link</a>',
    '<a href="vbscript:msgbox(1)">link</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java%0ascript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[click](VBScript:msgbox(1))",
    "[click](//evil.example/steal)",
    "[click](/admin/auth/user/)",
    '[click](https://ofcom.org.uk "title" onmouseover="alert(1)")',
    '[click](https://ofcom.org.uk"onmouseover="alert(1))',
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "![img](javascript:alert(1))",
    "![img](https://evil.example/track.png)",
    '![img](x" onerror="alert(1))',
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<data:text/html,hi>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "`<img src=x onerror=alert(1)>`",
    "> <iframe src=https://evil.example></iframe>",
    "- <a href=javascript:alert(1)>item</a>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<a href="https://ofcom.org.uk" target="_blank" rel="opener">tab</a>',
]


class Inspector(HTMLParser):
    """Every tag, attribute and piece of text the browser would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.elements.append(("<!-- comment -->", {}))


def inspect(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


def assert_inert(html: str) -> None:
    for tag, attributes in inspect(html).elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attributes) <= ALLOWED_ATTRIBUTES.get(tag, set()), (tag, attributes, html)
        if "href" in attributes:
            assert WEB_ADDRESS.match(attributes["href"] or ""), (attributes, html)
        if tag == "a":
            assert attributes.get("rel") == "nofollow noopener", (attributes, html)


@pytest.mark.parametrize("text", XSS_CORPUS)
def test_hostile_text_comes_out_inert(text):
    assert_inert(markdown(text))


def test_html_typed_into_the_text_is_shown_as_text_not_run():
    html = markdown("<script>alert(1)</script>")

    assert inspect(html).elements == [("p", {})]
    assert "".join(inspect(html).text).strip() == "<script>alert(1)</script>"


def test_a_link_with_a_bad_scheme_is_not_a_link():
    for text in ("[click](javascript:alert(1))", "[click](jav&#x61;script:alert(1))"):
        assert not any(tag == "a" for tag, _ in inspect(markdown(text)).elements), text


def test_a_relative_link_keeps_its_words_and_loses_its_address():
    elements = inspect(markdown("[users](/admin/auth/user/)")).elements

    assert ("a", {"rel": "nofollow noopener"}) in elements


def test_normal_markdown_renders_as_expected():
    text = (
        "Ofcom *expects* **all** services to comply.\n\n"
        "- first\n- second\n\n"
        "1. one\n2. two\n\n"
        "> quoted words\n\n"
        "Use `code` here,  \nthen a new line. "
        'See [the roadmap](https://www.ofcom.org.uk/roadmap?a=1&b=2 "Ofcom\'s roadmap").'
    )

    html = markdown(text)

    assert "<em>expects</em>" in html
    assert "<strong>all</strong>" in html
    assert "<ul>\n<li>first</li>\n<li>second</li>\n</ul>" in html
    assert "<ol>\n<li>one</li>\n<li>two</li>\n</ol>" in html
    assert "<blockquote>\n<p>quoted words</p>\n</blockquote>" in html
    assert "<code>code</code>" in html
    assert "<br>" in html
    link = [attrs for tag, attrs in inspect(html).elements if tag == "a"]
    assert link == [
        {
            "href": "https://www.ofcom.org.uk/roadmap?a=1&b=2",
            "title": "Ofcom's roadmap",
            "rel": "nofollow noopener",
        }
    ]
    assert_inert(html)


def test_an_autolink_to_a_web_address_is_a_link():
    [(tag, attrs)] = [e for e in inspect(markdown("<https://www.ofcom.org.uk>")).elements[1:]]

    assert (tag, attrs["href"]) == ("a", "https://www.ofcom.org.uk")


def test_empty_text_renders_nothing():
    assert markdown("") == ""
    assert markdown(None) == ""


def test_the_filter_is_loaded_by_name_in_templates():
    template = Template("{% load regulation_text %}{{ text|markdown }}")

    html = template.render(Context({"text": "*a* <b>b</b>"}))

    assert html == "<p><em>a</em> &lt;b&gt;b&lt;/b&gt;</p>\n"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["description", "notes"])
def test_the_milestone_page_renders_its_long_text_as_markdown(client, field):
    milestone = make_milestone(**{field: "Delayed by the **judicial review**."})

    page = client.get(milestone.get_absolute_url()).content.decode()

    assert "Delayed by the <strong>judicial review</strong>." in page


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["description", "notes"])
def test_the_milestone_page_shows_hostile_long_text_inert(client, field):
    text = "\n\n".join(XSS_CORPUS)
    milestone = make_milestone(**{field: text})

    page = client.get(milestone.get_absolute_url()).content.decode()

    # The field's own block: rendered Markdown holds no <div>, so it ends at the next one.
    opening = {
        "description": '<div class="text">',
        "notes": '<div class="notes"><strong>Note:</strong>',
    }
    start = page.index(opening[field]) + len(opening[field])
    assert_inert(page[start : page.index("</div>", start)])
