"""What a reader of the built book meets, page by page, in headless Chromium at 1280 px and on a 390 px phone.

- every figure the chapter's code draws is on the page (and in the executed notebook that the page offers), with alt
  text that says what it shows (titles, axis labels, legend), not its file name;
- no page scrolls sideways; a wide equation scrolls inside its own box with its number in view;
- on a phone the ☰ menu and "On this page" open;
- axe-core finds no serious or critical accessibility violation in the page chrome and text (explorables are
  checked by tests/book/test_explorables_browser.py);
- a cold load transfers at most 2.5 MB before any interaction (Chrome DevTools Protocol), its scripts do not block
  the text from painting, and the book works from ``file://`` with no network (math, search excerpts);
- dark mode keeps figures on white, reference lists are author–year, HTML ids are unique.

``BOOK_SCREENSHOTS=<dir>`` also saves screenshots of every page at both widths (and with the menu open).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from browser_helpers import CHROME_FLAGS, network_events, toc_pages, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
PAGES = toc_pages()
# the chapters: pages whose source has code cells (so an executed .ipynb download); the intro and notation have none
CHAPTERS = [
    p
    for p in PAGES
    if p.startswith("book/")
    and "```{code-cell}" in (ROOT / p.replace(".html", ".md")).read_text(encoding="utf-8")
]
BUDGET = 2_500_000  # bytes transferred by a cold load, before the reader touches anything
PHONE = {"width": 390, "height": 844, "pixelRatio": 3.0}
SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS")


def _chrome(width: int, height: int, phone: bool) -> object:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("Debian's chromium and chromedriver are needed (make browser-deps installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        *CHROME_FLAGS,
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    if phone:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": PHONE,
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0 Mobile Safari/537.36",
            },
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    browser.set_page_load_timeout(90)
    browser.set_script_timeout(90)
    return browser


@pytest.fixture(scope="module")
def desktop() -> Iterator[object]:
    browser = _chrome(1280, 1000, phone=False)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def phone() -> Iterator[object]:
    browser = _chrome(390, 844, phone=True)
    yield browser
    browser.quit()


def _open(browser: object, url: str) -> None:
    browser.get(url)
    wait_for_page(browser)


class _Views:
    """One page as the desktop and the phone browser show it. Each browser loads the page on first use and keeps it
    for the page's next read-only checks (figures, overflow, equations, axe, weight): pytest runs every test of one
    page in a row (``views`` is a module-scoped fixture parametrized indirectly), so each browser loads each page
    once for all of them instead of once per test. The desktop's load is a cold one (cache cleared and disabled),
    whose transfer is recorded in ``cold``. A browser that has been sent elsewhere loads the page again."""

    def __init__(self, desktop: object, phone: object, site: str, page: str) -> None:
        self.page, self.url = page, f"{site}/{page}"
        self._browsers = {"desktop": desktop, "phone": phone}
        self._loaded: set[str] = set()
        self.cold: dict = {}

    def _get(self, name: str) -> object:
        browser = self._browsers[name]
        if name not in self._loaded or browser.current_url != self.url:
            if name == "desktop":
                self.cold = _cold_load(browser, self.url)
            else:
                _open(browser, self.url)
            self._loaded.add(name)
        return browser

    @property
    def cold_load(self) -> dict:
        """What the desktop's cold load of the page transferred (see :func:`_cold_load`)."""
        self._get("desktop")
        return self.cold

    @property
    def desktop(self) -> object:
        return self._get("desktop")

    @property
    def phone(self) -> object:
        return self._get("phone")


@pytest.fixture(scope="module")
def views(request: pytest.FixtureRequest, desktop, phone, site) -> _Views:
    """``views`` of the page ``request.param`` (parametrize with ``indirect=True``)."""
    return _Views(desktop, phone, site, request.param)


def _screenshot(browser: object, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))


# ------------------------------------------------------------------------------------------------------ figures


def _download(book_html: Path, page: str) -> Path:
    """The executed notebook that the page's download button offers."""
    return book_html / "_sources" / page.replace(".html", ".ipynb")


def _image_outputs(nb: nbformat.NotebookNode) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        and "remove-output" not in cell.metadata.get("tags", [])
        and "remove-cell" not in cell.metadata.get("tags", [])
        for output in cell.get("outputs", [])
        if any(k.startswith("image/") for k in output.get("data", {}))
    )


@pytest.mark.parametrize("views", CHAPTERS, indirect=True)
def test_every_figure_is_on_the_page_and_in_the_notebook(views: _Views, book_html) -> None:
    page = views.page
    source = (ROOT / page.replace(".html", ".md")).read_text(encoding="utf-8")
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", source, re.S)
    drawing = [c for c in cells if "plt.show()" in c and "remove-cell" not in c and "remove-output" not in c]
    executed = nbformat.read(_download(book_html, page), as_version=4)
    produced = _image_outputs(executed)
    # each cell that ends a figure with plt.show() draws at least one image (independent of the build's output)
    assert produced >= len(drawing), f"{page}: {len(drawing)} cells call plt.show(), {produced} image outputs"
    desktop = views.desktop
    on_page = desktop.execute_script(
        """
        return Array.from(document.querySelectorAll(".cell_output img"))
          .filter(img => !img.closest(".explorable") && img.complete && img.naturalWidth > 0).length;
        """
    )
    assert on_page == produced, f"{page}: {on_page} figures shown, the downloadable notebook has {produced}"
    # each says what it shows (its titles, axis labels, legend; book/_ext/course_figures.py), not its file name
    alts = desktop.execute_script(
        """
        return Array.from(document.querySelectorAll(".cell_output img"))
          .filter(img => !img.closest(".explorable")).map(img => [img.getAttribute("alt") || "", img.src]);
        """
    )
    for alt, src in alts:
        name = src.rsplit("/", 1)[-1]
        assert alt.strip() and name not in alt and not re.search(r"\.(png|jpe?g|svg)$", alt), (
            f"{page}: figure {name} has the alt text {alt!r}"
        )
        assert re.search(r"[^\W\d_]{3}", alt) and "no titles or labels" not in alt, (
            f"{page}: alt text {alt!r}"
        )
    link = desktop.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.href).find(h => /_sources\\/.*\\.ipynb$/.test(h))"
    )
    assert link and link.endswith(page.replace(".html", ".ipynb")), "no .ipynb download on the page"


# ---------------------------------------------------------------------------------------------- phone layout


def _overflow(browser: object) -> dict:
    return browser.execute_script(
        """
        const width = document.documentElement.clientWidth;
        const wide = [];
        for (const el of document.querySelectorAll(".bd-article *")) {
          const box = el.getBoundingClientRect();
          if (box.width === 0 || box.right <= width + 1) continue;
          // inside a box that scrolls on its own (code, tables, equations, explorable frames): fine
          let scroller = el.parentElement, contained = false;
          while (scroller && scroller !== document.body) {
            const style = getComputedStyle(scroller);
            if (["auto", "scroll", "hidden"].includes(style.overflowX) &&
                scroller.getBoundingClientRect().right <= width + 1) { contained = true; break; }
            scroller = scroller.parentElement;
          }
          if (!contained) wide.push(el.tagName + "." + el.className + " " + (el.textContent || "").slice(0, 40));
        }
        return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};
        """
    )


@pytest.mark.parametrize("views", PAGES, indirect=True)
def test_no_page_scrolls_sideways(views: _Views) -> None:
    page = views.page
    for name, browser in (("1280", views.desktop), ("390", views.phone)):
        found = _overflow(browser)
        assert found["scroll"] <= found["width"] + 1 and not found["wide"], f"{page} at {name} px: {found}"
        _screenshot(browser, f"{page.replace('/', '_')}-{name}")


@pytest.mark.parametrize("views", PAGES, indirect=True)
def test_equations_scroll_in_their_box_with_the_number_in_view(views: _Views) -> None:
    page = views.page
    boxes = views.phone.execute_script(
        """
        const width = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll("div.math")).map(div => {
          const box = div.getBoundingClientRect();
          const formula = div.querySelector("mjx-container");
          const number = div.querySelector(".eqno");
          const nb = number ? number.getBoundingClientRect() : null;
          return {
            id: div.id || (div.querySelector("[id]") || {}).id || "",
            right: box.right, width: width,
            wide: formula ? formula.scrollWidth > formula.clientWidth + 1 : false,
            scrolls: formula ? ["auto", "scroll"].includes(getComputedStyle(formula).overflowX) : false,
            numberVisible: nb ? nb.width > 0 && nb.left >= 0 && nb.right <= width + 1 : null,
            overlap: nb && formula ? nb.left < formula.getBoundingClientRect().right - 1 &&
                                     nb.right > formula.getBoundingClientRect().left + 1 : false,
          };
        });
        """
    )
    for box in boxes:
        assert box["right"] <= box["width"] + 1, f"{page}: equation {box} leaves the screen"
        if box["wide"]:
            assert box["scrolls"], f"{page}: a wide equation does not scroll in its box: {box}"
        if box["numberVisible"] is not None:
            assert box["numberVisible"], f"{page}: the number of {box['id']} is off screen"
            assert not box["overlap"], f"{page}: the number of {box['id']} is drawn over the formula"


@pytest.mark.parametrize("kind", ["primary", "secondary"])
def test_phone_menu_and_page_contents_open(phone, site, kind: str) -> None:
    page = next(p for p in CHAPTERS if p.endswith("gradient_descent.html")) if CHAPTERS else PAGES[0]
    _open(phone, f"{site}/{page}")
    button = next(
        b
        for b in phone.find_elements("css selector", f".{kind}-toggle")
        if b.is_displayed() and b.size["width"]
    )
    button.click()
    time.sleep(0.4)
    state = phone.execute_script(
        f"""
        const dialog = document.getElementById("pst-{kind}-sidebar-modal");
        const links = dialog ? Array.from(dialog.querySelectorAll("a")).filter(a => a.getClientRects().length) : [];
        const box = dialog ? dialog.getBoundingClientRect() : null;
        return {{open: !!(dialog && dialog.open), links: links.length, width: box ? box.width : 0}};
        """
    )
    _screenshot(phone, f"menu-{kind}-390")
    assert state["open"] and state["links"] >= 3 and state["width"] > 150, f"{kind} sidebar: {state}"
    from selenium.webdriver.common.keys import Keys

    phone.find_element("css selector", "body").send_keys(Keys.ESCAPE)


# --------------------------------------------------------------------------------------------- accessibility


@pytest.mark.parametrize("views", PAGES, indirect=True)
def test_axe_finds_no_serious_violation(views: _Views) -> None:
    from axe_selenium_python import Axe

    page = views.page
    axe = Axe(views.desktop)
    axe.inject()
    results = axe.run(context={"exclude": [[".explorable"]]}, options={"resultTypes": ["violations"]})
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page}: " + "\n".join(bad)


# ------------------------------------------------------------------------------------------ weight, file://


def _cold_load(browser: object, url: str) -> dict:
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})
    browser.get("about:blank")
    network_events(browser)  # drop earlier events
    _open(browser, url)
    time.sleep(0.5)
    urls, sizes = {}, Counter()
    for event in network_events(browser):
        params = event["params"]
        if event["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif event["method"] == "Network.loadingFinished":
            sizes[params["requestId"]] += params.get("encodedDataLength", 0)
    by_url = Counter()
    for request, size in sizes.items():
        by_url[urls.get(request, request)] += size
    explorable = browser.execute_script(
        """
        // bytes of explorable frames carried inside the page itself (inline data)
        let n = 0;
        for (const el of document.querySelectorAll(".explorable")) n += el.outerHTML.length;
        return n;
        """
    )
    return {"total": sum(by_url.values()), "by_url": by_url, "explorable_inline": explorable}


@pytest.mark.parametrize("views", PAGES, indirect=True)
def test_cold_load_transfers_at_most_2_5_mb(views: _Views, record_property) -> None:
    page, load = views.page, views.cold_load
    record_property("cold_load_bytes", load["total"])
    report = Path(os.environ.get("BOOK_BYTES_REPORT", ROOT / "_build" / "cold-load-bytes.json"))
    found = json.loads(report.read_text()) if report.is_file() else {}
    found[page] = {"total": load["total"], "explorable_inline": load["explorable_inline"]}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(found, indent=1, sort_keys=True))
    largest = ", ".join(
        f"{urlparse(u).path.rsplit('/', 1)[-1]}: {s / 1e3:.0f} kB" for u, s in load["by_url"].most_common(6)
    )
    assert load["total"] <= BUDGET, f"{page}: {load['total'] / 1e6:.2f} MB transferred ({largest})"


@pytest.mark.parametrize("page", PAGES)
def test_scripts_never_block_the_text(book_html, page: str) -> None:
    head = (book_html / page).read_text(encoding="utf-8").split("</head>", 1)[0]
    for tag in re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"[^>]*>", head):
        attributes = re.search(rf"<script\b[^>]*src=\"{re.escape(tag)}\"[^>]*>", head).group(0)
        path = (book_html / page).parent / tag.split("?", 1)[0]
        size = path.stat().st_size if path.is_file() else 0
        if "defer" not in attributes and "async" not in attributes:
            assert size <= 100_000, f"{page}: {tag} ({size / 1e3:.0f} kB) blocks the page from painting"


@pytest.mark.parametrize("page", [PAGES[0], *CHAPTERS[:1], *[p for p in CHAPTERS if "gradient_descent" in p]])
def test_book_works_from_file_urls_without_network(desktop, book_html, page: str) -> None:
    desktop.get_log("browser")
    network_events(desktop)
    _open(desktop, (book_html / page).as_uri())
    time.sleep(0.3)
    requests = [
        e["params"]["request"]["url"]
        for e in network_events(desktop)
        if e["method"] == "Network.requestWillBeSent"
    ]
    assert not [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")], requests
    severe = [m for m in desktop.get_log("browser") if m["level"] == "SEVERE"]
    assert not severe, severe
    math = desktop.execute_script(
        "return [document.querySelectorAll('div.math, span.math').length, document.querySelectorAll('mjx-container').length]"
    )
    assert math[1] >= math[0]


def test_offline_search_shows_excerpts(desktop, book_html) -> None:
    _open(desktop, (book_html / "search.html").as_uri() + "?q=learning+rate")
    deadline = time.time() + 30
    excerpts = []
    while time.time() < deadline:
        excerpts = desktop.execute_script(
            "return Array.from(document.querySelectorAll('#search-results p.context')).map(p => p.textContent)"
        )
        if len(excerpts) >= 3:
            break
        time.sleep(0.5)
    assert len(excerpts) >= 3, "no excerpts under the search results over file://"
    assert all("learning" in e.lower() or "rate" in e.lower() for e in excerpts[:3]), excerpts[:3]


# ------------------------------------------------------------------------------------- dark mode, lists, ids


def test_dark_mode_keeps_figures_on_white(desktop, site) -> None:
    page = next((p for p in CHAPTERS if p.endswith("gradient_descent.html")), CHAPTERS[0])
    _open(desktop, f"{site}/{page}")
    styles = desktop.execute_script(
        """
        document.documentElement.dataset.theme = "dark";
        return Array.from(document.querySelectorAll(".cell_output img")).filter(i => !i.closest(".explorable"))
          .map(img => { const s = getComputedStyle(img); return [s.backgroundColor, s.filter, s.opacity]; });
        """
    )
    assert styles, "no figure on the page"
    for background, filter_, opacity in styles:
        assert background == "rgb(255, 255, 255)" and filter_ == "none" and float(opacity) == 1.0
    _screenshot(desktop, "dark-mode-1280")
    desktop.execute_script('document.documentElement.dataset.theme = "light";')


@pytest.mark.parametrize("page", CHAPTERS)
def test_reference_lists_are_author_year_and_ids_unique(book_html, page: str) -> None:
    text = (book_html / page).read_text(encoding="utf-8")
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>(?:<a [^>]*>)?([^<]*)', text)
    assert labels, f"{page}: no reference list"
    for label in labels:
        assert re.fullmatch(r"[^\d\[\]]+, (\d{4}[a-z]?|n\.d\.)", label), (
            f"{page}: reference labelled {label!r}"
        )
    ids = Counter(re.findall(r'\bid="([^"]+)"', text))
    assert not [i for i, n in ids.items() if n > 1], (
        f"{page}: repeated ids {[i for i, n in ids.items() if n > 1]}"
    )
