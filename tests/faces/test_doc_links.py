"""Links and images in the README and docs/ lead somewhere from the repository itself.

The project has no published home yet, so every link to its own files is relative (GitHub,
GitLab and an editor's preview all resolve it), and each must name a file that is there.
"""

import pytest
from conftest import ROOT

markdown_it = pytest.importorskip("markdown_it")

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def targets(page):
    """(kind, target) of every link and image on *page*, as a CommonMark parser reads them."""
    found = []
    for token in markdown_it.MarkdownIt("commonmark").enable("table").parse(page.read_text(encoding="utf-8")):
        for child in token.children or []:
            if child.type == "link_open":
                found.append(("link", child.attrs["href"]))
            elif child.type == "image":
                found.append(("image", child.attrs["src"]))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_to_the_project_is_relative_and_leads_to_a_file(page):
    broken = []
    for kind, target in targets(page):
        if target.startswith(("http://", "https://", "mailto:")):
            if "ipexpert/ipexpert" in target:
                broken.append(f"{kind} {target}: the project's own files are linked relatively")
            elif kind == "image":
                broken.append(f"image {target}: images are files in the repository")
            continue
        path = target.split("#")[0]
        if path and not (page.parent / path).exists():
            broken.append(f"{kind} {target}: no such file")
    assert broken == []


def test_the_readme_shows_both_report_screenshots():
    images = [target for kind, target in targets(ROOT / "README.md") if kind == "image"]
    assert images == ["docs/report-en.png", "docs/report-zh-CN.png"]
