"""The Markdown outline as GitHub shows it: read back by a CommonMark parser (markdown-it-py).

Every source URL must be a working link, prose must read without stray backslashes, and a
profile's markup must come out as text, never as HTML, emphasis or a link.
"""

import html
import re

import pytest
from conftest import AS_OF, EXAMPLES, ROOT, SPINWELL

import ipexpert
from ipexpert._outputs import text as _text

markdown_it = pytest.importorskip("markdown_it")
HOSTILE_NAMES = ROOT / "tests" / "hostile" / "profiles" / "markup-in-names.yaml"


def rendered(profile, lang="en") -> str:
    """The HTML GitHub's CommonMark (with tables and strikethrough) makes of the outline's Markdown."""
    source = _text.markdown(ipexpert.evaluate(profile, as_of=AS_OF, lang=lang))
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(source)


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_source_url_is_a_link_and_prose_has_no_stray_backslashes(example, lang):
    outline = ipexpert.evaluate(example, as_of=AS_OF, lang=lang)
    page = rendered(example, lang)
    urls = {s.url for r in outline.recommendations for s in r.justification.sources if s.url and s.url.startswith("http")}
    links = set(re.findall(r'<a href="([^"]+)">', page))
    assert {html.escape(u) for u in urls} <= links, sorted({html.escape(u) for u in urls} - links)
    assert "\\" not in visible_text(page)
    for rec in outline.recommendations:
        assert html.escape(rec.title, quote=False) in page  # the title reads as written


def test_dots_and_dashes_are_not_escaped_in_the_source():
    source = _text.markdown(ipexpert.evaluate(SPINWELL, as_of=AS_OF))
    assert "paper-core 1.0.0" in source and "<https://www.wipo.int/madrid/en/>" in source
    assert "\\." not in source and "\\-" not in source


def test_a_profiles_markup_stays_text():
    page = rendered(HOSTILE_NAMES)
    assert "<script" not in page and "<b>" not in page
    assert not re.search(r'<a href="javascript', page)
    assert "<strong>Bold</strong>" not in page and "<strong>BRAND</strong>" not in page
    heading = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert visible_text(heading).startswith(
        "IP strategy outline: <script>alert(1)</script> **Bold** [x](javascript:alert(1)) | `tick`"
    )
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):  # the names' pipes do not split table cells
        assert len(re.findall(r"<t[dh]", row)) in (2, 4), row


def test_a_line_opening_like_a_list_or_heading_stays_text():
    assert _text.markdown_text("# not a heading", starts_line=True) == "\\# not a heading"
    assert _text.markdown_text("1. not a list", starts_line=True) == "1\\. not a list"
    for text in ("# not a heading", "- not a list", "1. not a list", "> not a quote", "+ not a list"):
        page = markdown_it.MarkdownIt("commonmark").render(_text.markdown_text(text, starts_line=True))
        assert page == f"<p>{html.escape(text, quote=False)}</p>\n", page
