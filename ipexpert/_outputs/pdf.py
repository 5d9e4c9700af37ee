"""The report as PDF, through WeasyPrint (the `ipexpert[pdf]` extra), from the same HTML page.

WeasyPrint lays out HTML and CSS with Pango, so CJK text uses the system's fonts (Noto Sans CJK
SC on Debian: fonts-noto-cjk) and they are embedded as subsets. It is never allowed to fetch
anything: the page is self-contained, and any URL it might ask for is refused.
"""

from __future__ import annotations

import functools

from ipexpert._errors import IPExpertError, Problem

PAPER = {"A4": "A4", "Letter": "letter"}


def _refuse(url, *args, **kwargs):
    raise ValueError(f"the report fetches nothing (asked for {url[:80]!r})")


@functools.cache
def available() -> bool:
    """Whether PDF reports can be made here (WeasyPrint and the Pango libraries it loads)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def from_html(html_text: str, paper: str = "A4") -> bytes:
    """PDF bytes of *html_text* on *paper* (A4 or Letter)."""
    if paper not in PAPER:
        raise IPExpertError(Problem("paper", None, None, "$", f"{paper!r} is not a paper size; use A4 or Letter"))
    try:
        import logging

        import weasyprint
    except ImportError:
        raise IPExpertError(
            Problem("pdf", None, None, "$", "PDF output needs the pdf extra: pip install 'ipexpert[pdf]'")
        ) from None
    except OSError as exc:  # WeasyPrint installed, but the Pango libraries it loads are not
        raise IPExpertError(
            Problem(
                "pdf", None, None, "$", f"PDF output needs Pango (e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}"
            )
        ) from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    page = weasyprint.CSS(string=f"@page {{ size: {PAPER[paper]}; }}")
    document = weasyprint.HTML(string=html_text, url_fetcher=_refuse)
    return document.write_pdf(stylesheets=[page])
