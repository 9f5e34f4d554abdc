"""The app in a real browser: ``streamlit run app.py`` driven by Chromium through Playwright.

Skipped where /usr/bin/chromium is absent (``make browser`` installs it with apt).
Screenshots of the search and compare pages go to tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
START_TIMEOUT_S = 90
ELEMENT_TIMEOUT_MS = 90_000
QUERY = "manage the executive's calendar"

pytestmark = pytest.mark.browser


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers (bounded), or fail with the server log."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def app_url(corpus_kb_dir: Path, tmp_path: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free port over the corpus knowledge base; always terminated."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not installed: {CHROMIUM} is absent (run `make browser`, or apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -r requirements-dev.txt)")
    port = free_port()
    log = tmp_path / "streamlit.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log, "w", encoding="utf-8") as output:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "KB_DIR": str(corpus_kb_dir)},
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture
def page(app_url: str):
    """A Chromium page; dialogs (an injected alert) fail the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            tab = context.new_page()
            tab.set_default_timeout(ELEMENT_TIMEOUT_MS)
            dialogs: list[str] = []
            tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield tab
            assert not dialogs, f"the page opened dialogs: {dialogs}"
        finally:
            browser.close()


def wait_idle(page) -> None:
    """Wait until the script run has finished (Streamlit fades stale elements until then)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached")


def test_search_and_compare_pages_in_a_real_browser(page, app_url: str, corpus_kb) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(app_url)
    box = page.get_by_label("Query, in any language")
    box.fill(QUERY)
    box.press("Enter")
    first = page.locator("mark.kb-match").first
    first.wait_for(state="visible")
    assert first.is_visible() and first.inner_text().strip()
    assert page.locator("div.kb-hit").count() == 10
    page.get_by_text("Query language:").wait_for(state="visible")
    page.get_by_text("Show in the article").first.wait_for(state="visible")
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=False)

    page.goto(f"{app_url}/compare")
    picker = page.locator('[data-testid="stMultiSelect"] input')
    for language in ("sv", "pl", "vi"):
        picker.click()
        picker.fill(next(doc for doc in corpus_kb.docs() if doc["lang"] == language)["title"])
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_text("Shared duties").wait_for(state="visible")
    page.get_by_text("Skills only here").first.wait_for(state="visible")
    page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(state="visible")
    wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    assert (ARTIFACTS / "search.png").stat().st_size > 10_000 and (ARTIFACTS / "compare.png").stat().st_size > 10_000
