"""The static explorables as a reader meets them, in headless Chromium at 1280 px and at 390 px (phone emulation).

Measured on the built pages (every page of the TOC that shows an explorable):

- **text size and crispness**: each panel's rendered scale (CSS width / its natural CSS width) times the smallest
  text of the figure at natural size (``data-text-px``, measured by the build on the default frame) is the smallest
  rendered text; at 1280 px it must be >= 11 CSS px. Panels carry twice the pixels of their CSS size (crisp at a
  device pixel ratio of 2).
- **phone**: at 390 px every control is at least 24 x 24 CSS px, no explorable reaches past the viewport (no
  sideways scroll), and the text stays legible.
- **assistive technology**: after each control moves (keyboard or selection), its ``aria-valuetext`` names the
  parameter and its real value, the polite live region says the frame's parameter values, and so does the alt text.
  axe-core finds no serious or critical violation inside an explorable.
- **weight**: before the reader scrolls to or touches an explorable, the only frame files the page has loaded are
  default frames; scrolling near one fetches the frames one control step away, and nothing of the others.
- **file://**: the pages work from disk with no server: the default frame shows and moving a control shows another.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from browser_helpers import toc_pages, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

MIN_TEXT_PX_DESKTOP = 11.0
#: On a 390 px phone a panel may be shrunk a little to fit the column (about 330 CSS px); the text must stay
#: readable. With 10 pt text (11.1 CSS px at natural size) a panel may be at most about 400 CSS px wide.
MIN_TEXT_PX_PHONE = 9.0
MIN_TARGET_PX = 24.0
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
#: Where the smallest rendered text of each explorable is written (CSS px at 1280 px and on the phone), for the
#: record (``BOOK_TEXT_REPORT`` overrides it).
TEXT_REPORT = Path(
    os.environ.get(
        "BOOK_TEXT_REPORT", Path(__file__).resolve().parents[2] / "_build" / "explorable-text-px.json"
    )
)


def _report_text_px(view: str, sizes: dict[str, float]) -> None:
    found = json.loads(TEXT_REPORT.read_text()) if TEXT_REPORT.is_file() else {}
    for name, px in sizes.items():
        found.setdefault(name, {})[view] = round(px, 1)
    TEXT_REPORT.parent.mkdir(parents=True, exist_ok=True)
    TEXT_REPORT.write_text(json.dumps(found, indent=1, sort_keys=True))


def _pages_with_explorables(book_html: Path) -> list[str]:
    pages = []
    for page in toc_pages():
        path = book_html / page
        if path.is_file() and 'class="explorable"' in path.read_text(encoding="utf-8"):
            pages.append(page)
    return pages


@pytest.fixture(scope="module")
def pages(book_html) -> list[str]:
    found = _pages_with_explorables(book_html)
    if not found:
        pytest.skip("no built page shows an explorable")
    return found


def _load(driver, url: str) -> None:
    driver.get(url)
    wait_for_page(driver)


def _wait_images(driver, root, timeout: float = 20.0) -> None:
    """Wait until every panel of the explorable ``root`` (scrolled into view) has loaded."""
    end = time.time() + timeout
    while time.time() < end:
        pending = driver.execute_script(
            "return Array.from(arguments[0].querySelectorAll('.explorable-figure img'))"
            ".filter(i => !i.complete || !i.naturalWidth).length;",
            root,
        )
        if not pending:
            return
        time.sleep(0.1)
    raise AssertionError("explorable images did not finish loading")


# The measurements made in the page: per explorable, its panels' natural and rendered sizes, its controls' boxes.
_MEASURE = """
const vw = document.documentElement.clientWidth;
return Array.from(document.querySelectorAll("div.explorable")).map(root => {
  const density = parseFloat(root.dataset.density);
  const textPx = parseFloat(root.dataset.textPx);
  const imgs = Array.from(root.querySelectorAll(".explorable-figure img")).map(img => {
    const r = img.getBoundingClientRect();
    return {css: parseFloat(img.getAttribute("width")), shown: r.width, natural: img.naturalWidth,
            right: r.right};
  });
  const controls = Array.from(root.querySelectorAll("input, select")).map(el => {
    const r = el.getBoundingClientRect();
    return {kind: el.type || el.tagName, width: r.width, height: r.height};
  });
  const right = Math.max(...Array.from(root.querySelectorAll("*")).map(e => e.getBoundingClientRect().right),
                         root.getBoundingClientRect().right);
  return {name: root.dataset.explorable, density, textPx, imgs, controls, right, vw};
});
"""


def _measure(driver) -> list[dict]:
    for root in driver.find_elements("css selector", "div.explorable"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", root)
        _wait_images(driver, root)
    return driver.execute_script(_MEASURE)


def _smallest_text(explorable: dict) -> float:
    return min(img["shown"] / img["css"] for img in explorable["imgs"]) * explorable["textPx"]


# Three checks at 1280 px share one load of each page (loading and typesetting a chapter is the slow part).
_AT_1280_CHECKS = ("measure", "axe", "controls")


@pytest.fixture(scope="module")
def at_1280(driver, site, pages) -> dict[str, dict[str, object]]:
    """Every page with explorables, loaded once at 1280 x 1600 px for three checks, in this order: the panels'
    measurements (read-only), axe-core inside the explorables (before anything moves), then every control moved once
    (what the page announced). ``{page: {check: result}}``; a check that raised keeps its exception, which the test
    of that check raises (so one broken check fails its own test, not the others)."""
    driver.set_window_size(1280, 1600)
    checks = {"measure": _measure, "axe": _axe_in_explorables, "controls": _move_every_control}
    out: dict[str, dict[str, object]] = {}
    for page in pages:
        _load(driver, f"{site}/{page}")
        out[page] = {}
        for name in _AT_1280_CHECKS:
            try:
                out[page][name] = checks[name](driver)
            except Exception as exc:  # re-raised by the test of this check
                out[page][name] = exc
    return out


def _seen(at_1280: dict, page: str, check: str):
    got = at_1280[page][check]
    if isinstance(got, Exception):
        raise got
    return got


def test_explorable_text_is_11_px_and_crisp_at_1280(at_1280, pages) -> None:
    report = {}
    for page in pages:
        for e in _seen(at_1280, page, "measure"):
            assert e["imgs"], f"{page}: {e['name']} shows no image"
            smallest = report[e["name"]] = _smallest_text(e)
            assert smallest >= MIN_TEXT_PX_DESKTOP, f"{page}: {e['name']} smallest text {smallest:.1f} px"
            for img in e["imgs"]:
                assert img["natural"] >= e["density"] * img["shown"] - 1, (
                    f"{e['name']}: blurry on a 2x screen"
                )
                assert img["shown"] >= img["css"] - 0.5, f"{e['name']}: a panel is shrunk at 1280 px"
            assert e["right"] <= e["vw"] + 0.5, f"{page}: {e['name']} reaches past the page"
    _report_text_px("1280px", report)


def test_explorables_are_usable_on_a_phone(driver, site, pages) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    small: dict[str, float] = {}
    sizes: dict[str, float] = {}
    try:
        for page in pages:
            _load(driver, f"{site}/{page}")
            for e in _measure(driver):
                assert e["vw"] <= PHONE["width"]
                for control in e["controls"]:
                    assert control["width"] >= MIN_TARGET_PX and control["height"] >= MIN_TARGET_PX, (
                        f"{page}: {e['name']} has a {control['kind']} of "
                        f"{control['width']:.0f} x {control['height']:.0f} px"
                    )
                assert e["right"] <= e["vw"] + 0.5, f"{page}: {e['name']} makes the page scroll sideways"
                smallest = sizes[e["name"]] = _smallest_text(e)
                if smallest < MIN_TEXT_PX_PHONE:
                    small[e["name"]] = round(smallest, 1)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    _report_text_px("390px", sizes)
    assert not small, f"smallest text under {MIN_TEXT_PX_PHONE} px on a phone: {small}"


def _state(driver, root) -> dict:
    return driver.execute_script(
        """
        const root = arguments[0];
        return {frame: root.dataset.frame,
                status: root.querySelector(".explorable-status").textContent,
                alts: Array.from(root.querySelectorAll(".explorable-figure img")).map(i => i.alt)};
        """,
        root,
    )


def _move_every_control(driver) -> list[dict]:
    """Move every control of every explorable on the loaded page once (keyboard, or a selection); per control,
    what the page then announces: ``kind``, ``expected`` (the parameter's name and its new value), the slider's
    ``aria`` value text, the explorable's state ``before`` and ``after`` (frame, live region, alt texts)."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    moved = []
    for root in driver.find_elements("css selector", "div.explorable"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", root)
        for control in root.find_elements("css selector", "input, select"):
            # the parameter's name: the text of the control's label, without the value it shows
            label = driver.execute_script(
                "return Array.from(arguments[0].closest('label').childNodes).filter(n => n.nodeType === 3)"
                ".map(n => n.textContent).join(' ').replace(/\\s+/g, ' ').trim();",
                control,
            )
            before = _state(driver, root)
            kind = control.tag_name if control.tag_name == "select" else control.get_attribute("type")
            aria = None
            if kind == "range":
                key = Keys.ARROW_LEFT if int(control.get_attribute("value")) > 0 else Keys.ARROW_RIGHT
                control.send_keys(key)  # keyboard operable
                shown = root.find_element(
                    "css selector", f"output[data-param-pos='{control.get_attribute('data-param-pos')}']"
                ).text
                expected = f"{label} = {shown}"
                aria = control.get_attribute("aria-valuetext")
            elif kind == "select":
                select = Select(control)
                current = int(select.first_selected_option.get_attribute("value"))
                select.select_by_index(0 if current != 0 else 1)
                expected = f"{label} = {select.first_selected_option.text}"
            else:
                control.send_keys(Keys.SPACE)  # a checkbox toggles from the keyboard
                state = "on" if control.is_selected() else "off"
                expected = f"{label}: {state}"
            moved.append(
                {
                    "kind": kind,
                    "expected": expected,
                    "aria": aria,
                    "before": before,
                    "after": _state(driver, root),
                }
            )
    return moved


def test_every_control_announces_its_value(at_1280, pages) -> None:
    for page in pages:
        for m in _seen(at_1280, page, "controls"):
            kind, expected, after = m["kind"], m["expected"], m["after"]
            if kind == "range":
                assert m["aria"] == expected, f"{page}: slider announces {m['aria']!r}, not {expected!r}"
            assert after["frame"] != m["before"]["frame"], f"{page}: moving a {kind} did not change the frame"
            assert expected in after["status"], f"{page}: live region says {after['status']!r}"
            assert all(expected in alt for alt in after["alts"]), f"{page}: alt text {after['alts']!r}"


def _axe_in_explorables(driver) -> dict:
    """axe-core's results inside the explorables of the loaded page."""
    from axe_selenium_python import Axe

    Axe(driver).inject()
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run({include: [['div.explorable']]}).then(r => done(r), e => done({error: String(e)}));"
    )


def test_axe_finds_no_serious_violation_in_explorables(at_1280, pages) -> None:
    for page in pages:
        results = _seen(at_1280, page, "axe")
        assert "error" not in results, results
        bad = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{page}: {bad}"


def _frame_resources(driver) -> list[str]:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/explore-frames/'));"
    )


def test_only_default_frames_load_before_the_reader_reaches_an_explorable(driver, site, pages) -> None:
    driver.set_window_size(1280, 900)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        for page in pages:
            _load(driver, f"{site}/{page}")
            time.sleep(0.5)
            defaults = set(
                driver.execute_script(
                    "return Array.from(document.querySelectorAll('.explorable-figure img')).map(i => i.src);"
                )
            )
            before = set(_frame_resources(driver))
            assert before <= defaults, (
                f"{page}: frames loaded before interaction: {sorted(before - defaults)}"
            )
            # scrolling near the first explorable fetches its neighbouring frames, and only its own
            root = driver.find_elements("css selector", "div.explorable")[0]
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", root)
            time.sleep(0.5)
            _wait_images(driver, root)
            folder = re.search(
                r"explore-frames/[^/]+/", root.find_element("css selector", "img").get_attribute("src")
            )
            fetched = set(_frame_resources(driver)) - before
            assert fetched, f"{page}: nothing fetched when the explorable came near"
            own = {u for u in fetched if folder.group(0) in u}
            others = {u for u in fetched - own if u not in defaults}
            assert not others, f"{page}: frames of other explorables fetched: {sorted(others)[:3]}"
            n_controls = len(root.find_elements("css selector", "input, select"))
            n_panels = len(root.find_elements("css selector", ".explorable-figure img"))
            assert len(own - defaults) <= 2 * n_controls * n_panels
    finally:
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})


def test_explorables_work_from_file_urls(driver, book_html, pages) -> None:
    from selenium.webdriver.common.keys import Keys

    driver.set_window_size(1280, 1600)
    page = pages[0]
    _load(driver, (book_html / page).resolve().as_uri())
    root = driver.find_elements("css selector", "div.explorable")[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", root)
    _wait_images(driver, root)
    first = driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.explorable-figure img')).map(i => [i.src, i.naturalWidth]);",
        root,
    )
    assert all(src.startswith("file://") and width > 0 for src, width in first), first
    control = root.find_elements("css selector", "input[type=range], select, input[type=checkbox]")[0]
    if control.get_attribute("type") == "range":
        control.send_keys(Keys.ARROW_LEFT if int(control.get_attribute("value")) > 0 else Keys.ARROW_RIGHT)
    else:
        control.send_keys(Keys.SPACE) if control.get_attribute("type") == "checkbox" else control.send_keys(
            Keys.DOWN
        )
    _wait_images(driver, root)
    second = driver.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.explorable-figure img')).map(i => [i.src, i.naturalWidth]);",
        root,
    )
    assert second != first and all(width > 0 for _, width in second), second
