"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium through Playwright.

Needs the `playwright` Python package and a Chromium binary (`/usr/bin/chromium` from Debian's `chromium`
package, or `CAHIER_TEST_CHROMIUM`); `playwright install` is never run. The app uses its test hook
`CAHIER_FAKE_MODEL=1` (a scripted model answering empty findings), so no model is needed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = os.environ.get("CAHIER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """The app served on a free loopback port, on an empty data directory, with the scripted model."""
    port = _free_port()
    env = {
        **os.environ,
        "CAHIER_DATA_DIR": str(tmp_path / "data"),
        "CAHIER_FAKE_MODEL": "1",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _missing(what: str) -> None:
    """CI must run the browser test; a developer's machine without a browser skips it."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {what}")
    pytest.skip(what)


@pytest.fixture
def browser() -> Iterator[object]:
    try:
        from playwright import sync_api as playwright_api
    except ImportError:
        _missing("install the `playwright` Python package (never run `playwright install`)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM}: `apt-get install chromium`, or set CAHIER_TEST_CHROMIUM")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _answer(page, text: str) -> None:  # noqa: ANN001 - playwright's Page
    box = page.get_by_placeholder("Votre réponse…")
    box.fill(text)
    box.press("Enter")
    page.get_by_text(text, exact=True).wait_for(timeout=WAIT_MS)


def test_an_interview_in_a_real_browser_survives_a_reload(app_url: str, browser) -> None:  # noqa: ANN001
    """Create a project, add the person speaking, answer two questions, reload: the conversation is still there."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Nouveau projet").wait_for(timeout=WAIT_MS)
    page.get_by_label("Nom du projet").fill("CRM Acme 2027")
    page.get_by_label("Entreprise").fill("Acme Agri")
    page.get_by_role("button", name="Créer et commencer l'entretien").click()
    page.get_by_text("Bonjour").wait_for(timeout=WAIT_MS)
    assert "project=" in page.url

    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_label("Nom", exact=True).fill("Alice Martin")
    main.get_by_label("Rôle", exact=True).fill("Directrice commerciale")
    main.get_by_role("button", name="Commencer").click()
    page.get_by_placeholder("Votre réponse…").wait_for(timeout=WAIT_MS)

    first = "Nous vendons des machines agricoles à 300 concessionnaires en France."
    _answer(page, first)
    # What the company does is a fact, read without any model call: the "analysing" state must give way to it
    # by itself.
    page.get_by_text("Ce que j'ai compris").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("FCT-001").wait_for(timeout=WAIT_MS)
    second = "Environ 120 salariés, un siège à Lyon et deux entrepôts."
    _answer(page, second)
    page.get_by_text("Ce que j'ai compris").nth(1).wait_for(timeout=WAIT_MS)
    assert "who=" in page.url

    page.reload()
    page.get_by_text(second, exact=True).wait_for(timeout=WAIT_MS)  # the answer; its fact is quoted below it
    assert page.get_by_text(first, exact=True).is_visible()
    assert page.get_by_text("Alice Martin").first.is_visible()
    page.get_by_text("Ce que j'ai compris").nth(1).wait_for(timeout=WAIT_MS)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "browser-chat.png"))

    page.get_by_role("link", name="Brouillon").click()
    page.get_by_text("Brouillon du cahier des charges").wait_for(timeout=WAIT_MS)
    page.get_by_text("Alice Martin — Directrice commerciale").first.wait_for(timeout=WAIT_MS)
    assert "project=" in page.url  # page switches keep the project in the URL
    page.screenshot(path=str(OUTPUT / "browser-draft.png"))
