"""Fixtures of the browser tests: the built book, a local HTTP server, and headless Chromium (Debian's).

``make test`` builds the book before pytest; if ``_build/html`` is missing, the session builds it with ``make book``.
Pages are served from 127.0.0.1 so that every request the browser makes can be checked: anything else is a request
to the network, which the offline book must never make.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import CHROME_FLAGS

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The built HTML book (built with ``make book`` when missing)."""
    if not (HTML / "index.html").is_file():
        subprocess.run(["make", "book"], cwd=ROOT, check=True)
    return HTML


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        return


@pytest.fixture(scope="session")
def site(book_html: Path) -> Iterator[str]:
    """Base URL of the book served by a local HTTP server on 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def driver() -> Iterator[object]:
    """Headless Chromium driven by Debian's chromedriver, with browser and network logging."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromedriver are needed (make browser-deps installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()
