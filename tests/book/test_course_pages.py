"""The page-level parts of the book extension (``book/_ext/course_pages.py``), without a browser."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import course_pages  # noqa: E402

THEME_FA = next(
    (Path(sys.prefix) / "lib").glob(
        "python3*/site-packages/pydata_sphinx_theme/theme/*/static/scripts/fontawesome.js"
    ),
    None,
)


@pytest.mark.skipif(THEME_FA is None, reason="pydata-sphinx-theme's fontawesome.js not found")
def test_slim_fontawesome_keeps_exactly_the_icons_named() -> None:
    source = THEME_FA.read_text(encoding="utf-8")
    slim = course_pages.slim_fontawesome(source, {"bars", "github", "magnifying-glass", "list-ul"})
    assert len(slim) < len(source) / 10
    # the SVG paths of Font Awesome 6 Free (bars: fa-solid f0c9; github: fa-brands f09b)
    assert 'bars:[448,512,["navicon"],"f0c9","M0 96C0 78.3' in slim
    assert 'github:[496,512,[],"f09b",' in slim
    assert "monero:" in source and "monero:" not in slim
    # the code that swaps <i class="fa-..."> for SVG is untouched
    assert source[: source.index("var p={")] == slim[: slim.index("var p={")]


def test_slim_fontawesome_refuses_a_bundle_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="3 icon packs"):
        course_pages.slim_fontawesome("var p={};", {"bars"})


def test_author_year_labels() -> None:
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    course_pages._register_author_year_style()
    bib = parse_string(
        """
        @article{kingma, author={Kingma, Diederik P. and Ba, Jimmy}, title={Adam}, journal={ICLR}, year={2015}}
        @article{dauphin, author={Dauphin, Yann and Pascanu, Razvan and Gulcehre, Caglar}, title={Saddles},
                 journal={NeurIPS}, year={2014}}
        @book{nesterov, author={Nesterov, Yurii}, title={Lectures}, publisher={Springer}, year={2018}}
        @article{vdm1, author={van der Maaten, Laurens}, title={A}, journal={J}, year={2008}}
        @article{vdm2, author={van der Maaten, Laurens}, title={B}, journal={J}, year={2008}}
        """,
        "bibtex",
    )
    style = find_plugin("pybtex.style.formatting", "author_year")()
    entries = style.sort(bib.entries.values())
    labels = {e.key: label for e, label in zip(entries, style.format_labels(entries), strict=True)}
    assert labels["kingma"] == "Kingma and Ba, 2015"
    assert labels["dauphin"] == "Dauphin et al., 2014"
    assert labels["nesterov"] == "Nesterov, 2018"
    assert {labels["vdm1"], labels["vdm2"]} == {"van der Maaten, 2008a", "van der Maaten, 2008b"}


def test_search_text_keeps_sections_and_drops_scripts() -> None:
    page = """<html><body><nav>menu</nav><main role="main"><section id="intro"><h1>Title<a class="headerlink"
    href="#intro">#</a></h1><p>Gradient <b>descent</b> walks &amp; steps.</p><script>var x = 1;</script>
    <section id="more"><p>Second<br>part</p><img src="a.png"></section></section></main><footer>foot</footer>"""
    text = course_pages.page_search_html(page)
    assert text == (
        '<div role="main"><section id="intro">Title Gradient descent walks &amp; steps. '
        '<section id="more">Second part </section></section></div>'
    )


def test_search_scripts_dropped_from_pages() -> None:
    head = (
        '<script src="../_static/doctools.js"></script>\n'
        '    <script src="../_static/searchtools.js"></script>\n'
        '    <script src="../_static/language_data.js"></script>\n'
        '    <script src="../searchindex.js"></script>\n'
    )
    assert course_pages.drop_search_scripts(head) == '<script src="../_static/doctools.js"></script>\n'


def test_repository_and_branch_come_from_the_environment(monkeypatch) -> None:
    from types import SimpleNamespace

    config = SimpleNamespace(
        html_static_path=[],
        mathjax3_config=None,
        mathjax_path="",
        html_theme_options={
            "repository_url": "https://github.com/optdl-course/optdl-course",
            "repository_branch": "main",
        },
    )
    monkeypatch.delenv("BOOK_REPOSITORY_URL", raising=False)
    monkeypatch.delenv("BOOK_REPOSITORY_BRANCH", raising=False)
    course_pages._configure(None, config)
    assert config.html_theme_options["repository_url"] == "https://github.com/optdl-course/optdl-course"
    # what the workflows set from the GitHub context (a fork, a branch)
    monkeypatch.setenv("BOOK_REPOSITORY_URL", "https://github.com/someone/fork/")
    monkeypatch.setenv("BOOK_REPOSITORY_BRANCH", "feature")
    course_pages._configure(None, config)
    assert config.html_theme_options["repository_url"] == "https://github.com/someone/fork"
    assert config.html_theme_options["repository_branch"] == "feature"
    if (course_pages.VENDOR / course_pages.MATHJAX_STARTUP).is_file():
        assert config.mathjax_path == "mathjax/startup.js"
        assert "ui/menu" not in config.mathjax3_config["loader"]["load"]
