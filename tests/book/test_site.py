"""The built book in a real browser (headless Chromium): every page of the TOC loads offline without errors,
the math is typeset, the static explorables react to their controls, the launch/download buttons exist."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_helpers import network_events, toc_pages, wait_for_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PAGES = toc_pages()
CHAPTER = next(
    (p for p in PAGES if p.endswith("gradient_descent.html")), "book/optimization/gradient_descent.html"
)


@pytest.fixture(scope="module")
def visited(driver, site) -> dict[str, dict]:
    """Load every page once; record console messages, network events and the typeset state."""
    results: dict[str, dict] = {}
    driver.get_log("performance")  # drop anything from before
    for page in PAGES:
        driver.get(f"{site}/{page}")
        wait_for_page(driver)
        time.sleep(0.2)  # let late console messages arrive, so that they are attributed to this page
        results[page] = {
            "console": driver.get_log("browser"),
            "network": network_events(driver),
            "math": driver.execute_script(
                """
                const blocks = Array.from(document.querySelectorAll("div.math, span.math"));
                return {
                  blocks: blocks.length,
                  typeset: blocks.filter(b => b.querySelector("mjx-container")).length,
                  containers: document.querySelectorAll("mjx-container").length,
                  text: document.querySelector("main") ? document.querySelector("main").innerText : "",
                };
                """
            ),
        }
    return results


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_console_errors(visited, page: str) -> None:
    severe = [m for m in visited[page]["console"] if m["level"] == "SEVERE"]
    assert not severe, f"{page}: console errors {severe}"


@pytest.mark.parametrize("page", PAGES)
def test_page_makes_no_failed_or_external_request(visited, site, page: str) -> None:
    host = urlparse(site).netloc
    external, failed = [], []
    for event in visited[page]["network"]:
        params = event["params"]
        if event["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            scheme = urlparse(url).scheme
            if scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != host:
                external.append(url)
        elif event["method"] == "Network.loadingFailed" and not params.get("canceled"):
            failed.append(params.get("errorText"))
        elif event["method"] == "Network.responseReceived":
            response = params["response"]
            if response.get("status", 200) >= 400:
                failed.append(f"{response['status']} {response['url']}")
    requests = [e for e in visited[page]["network"] if e["method"] == "Network.requestWillBeSent"]
    assert requests, "no network events were recorded: performance logging is not working"
    assert not external, f"{page}: requests leave the machine: {external}"
    assert not failed, f"{page}: failed requests: {failed}"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset_by_mathjax(visited, page: str) -> None:
    math = visited[page]["math"]
    assert math["typeset"] == math["blocks"], (
        f"{page}: {math['blocks'] - math['typeset']} math blocks not typeset"
    )
    assert "$$" not in math["text"] and "\\begin{" not in math["text"]


def test_the_model_chapter_has_numbered_equations(visited) -> None:
    if CHAPTER not in visited:
        pytest.skip("the gradient-descent chapter is not among the pages checked")
    math = visited[CHAPTER]["math"]
    assert math["containers"] >= 8
    assert re.search(r"\(\s*\d+\s*\)", math["text"]), "no equation numbers in the chapter"


def _explorable_state(driver, root) -> tuple[str, str]:
    img = root.find_element("css selector", "img")
    return root.get_attribute("data-frame"), img.get_attribute("src")


@pytest.mark.parametrize("page", PAGES)
def test_static_explorables_react_to_every_control(driver, site, book_html, page: str) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    if page != CHAPTER and 'class="explorable"' not in (book_html / page).read_text(encoding="utf-8"):
        return  # the page's HTML holds no explorable, so the browser would find none (its load: `visited`)
    driver.get(f"{site}/{page}")
    wait_for_page(driver)
    roots = driver.find_elements("css selector", "div.explorable")
    if page == CHAPTER:
        assert len(roots) == 3
    for root in roots:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", root)
        n_frames = int(root.get_attribute("data-frames"))
        seen_images = {_explorable_state(driver, root)[1]}
        controls = root.find_elements("css selector", "[data-param-pos]:not(output)")
        assert controls, f"{page}: explorable without controls"
        for control in controls:
            frame_before, _ = _explorable_state(driver, root)
            kind = control.tag_name if control.tag_name == "select" else control.get_attribute("type")
            if kind == "range":
                # keyboard only (a click would also move the thumb): one grid step towards the other end
                key = Keys.ARROW_LEFT if int(control.get_attribute("value")) > 0 else Keys.ARROW_RIGHT
                control.send_keys(key)
            elif kind == "select":
                select = Select(control)
                current = int(select.first_selected_option.get_attribute("value"))
                select.select_by_index(0 if current != 0 else 1)
            else:
                control.click()
            frame_after, src = _explorable_state(driver, root)
            assert frame_after != frame_before, f"{page}: moving a {kind} did not select another frame"
            assert 0 <= int(frame_after) < n_frames
            assert "/explore-frames/" in src and src.endswith(".webp")  # frame files next to the page
            seen_images.add(src)
        assert len(seen_images) > 1, f"{page}: the image never changed"
        # the label next to a slider follows it
        for output in root.find_elements("css selector", "output"):
            assert output.text.strip()


def test_launch_and_download_buttons(driver, site) -> None:
    if CHAPTER not in PAGES:
        pytest.skip("the gradient-descent chapter is not among the pages checked")
    driver.get(f"{site}/{CHAPTER}")
    wait_for_page(driver)
    hrefs = [a.get_attribute("href") or "" for a in driver.find_elements("css selector", "a")]
    for service in (
        "mybinder.org/v2/gh/optdl-course/optdl-course",
        "colab.research.google.com/github/",
    ):
        assert any(service in h for h in hrefs), f"no launch button for {service}"
    # only what _config.yml configures: no JupyterHub button (no jupyterhub_url), no placeholder hub
    assert not any("user-redirect" in h or "hub.example.org" in h for h in hrefs)
    # every launch button opens the chapter's .ipynb twin (Colab opens nothing else), which is in the repository
    launch = [h for h in hrefs if any(s in h for s in ("mybinder.org", "colab.research", "user-redirect"))]
    twin = CHAPTER.replace(".html", ".ipynb")
    assert launch and all(twin in urllib.parse.unquote(h) for h in launch), launch
    assert (ROOT / twin).is_file()
    assert any("github.com/optdl-course/optdl-course" in h for h in hrefs), "no repository button"
    sources = [h for h in hrefs if "/_sources/" in h and h.endswith(".md")]
    assert sources, "no download button for the chapter source"
    with urllib.request.urlopen(sources[0]) as response:  # served by the local server: the file is there
        assert response.status == 200 and b"Gradient descent" in response.read()
    assert driver.find_elements("css selector", "button.btn-download-pdf-button, button[onclick*='print']")
