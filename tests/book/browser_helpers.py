"""Helpers of the browser tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
#: Headless Chromium as every browser test starts it (offline: no background networking, updates or sync).
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
)


def toc_pages() -> list[str]:
    """Every page of ``_toc.yml`` as a path relative to the site root (``book/optimization/sgd.html``).

    ``BOOK_PAGES=a.html,b.html`` (with ``BOOK_HTML=<dir>``) checks other pages, e.g. a single-page build.
    """
    if os.environ.get("BOOK_PAGES"):
        return [p.strip() for p in os.environ["BOOK_PAGES"].split(",") if p.strip()]
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [f"{f}.html" for f in files]


def network_events(browser: object) -> list[dict]:
    """Network events recorded since the last call (Chrome DevTools ``Network.*`` messages)."""
    events = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append(message)
    return events


def wait_for_page(browser: object) -> None:
    """Wait until the document is complete and MathJax (if the page loads it) has typeset."""
    browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const ready = () => {
          if (document.readyState !== "complete") { setTimeout(ready, 50); return; }
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            MathJax.startup.promise.then(() => done(true), () => done(false));
          } else if (document.querySelector("script[src*='mathjax']")) {
            setTimeout(ready, 50);   // MathJax is loading
          } else { done(true); }
        };
        ready();
        """
    )
