"""Browser tests: Playwright for Python driving Debian's chromium (/usr/bin/chromium,
installed by `make test`; never a downloaded browser) against pytest-django's live
server on the real test database. Each test saves screenshots under
tests/browser/artifacts/ (or $PYTEST_ARTIFACTS)."""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.platform.conftest import faces, make_user, signing_material  # noqa: F401

CHROMIUM = os.environ.get("VERITALK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("PYTEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
TIMEOUT_MS = 20_000


def chromium_path() -> str:
    path = CHROMIUM if os.path.isfile(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.skip(f"chromium not found at {CHROMIUM} "
                    "(make test installs Debian's chromium: apt-get install chromium)")
    return path


@contextmanager
def launched_chromium(extra_args=()):
    """Debian's chromium under Playwright's sync API. The API keeps an event loop in this
    thread while it runs, so Django's guard against database calls from async code is
    lifted while the browser is open (the calls here are synchronous ones)."""
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional (playwright): dev extra only
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    path = chromium_path()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=path, args=LAUNCH_ARGS + list(extra_args), headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker):
    """One chromium per test module, closed with it: nothing outlives the module."""
    with launched_chromium() as b:
        yield b


@pytest.fixture
def new_page(browser, live_server, request):
    """new_page(label) -> a page in a fresh context (its own cookies), with a screenshot helper."""
    contexts = []
    test_name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def make(label: str, locale: str = "en-GB"):
        ctx = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True,
                                  viewport={"width": 1100, "height": 900})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors

        def shot(step: str) -> Path:
            path = ARTIFACTS / f"{test_name}-{label}-{step}.png"
            page.screenshot(path=str(path), full_page=True)
            return path
        page.shot = shot
        return page
    yield make
    for ctx in contexts:
        ctx.close()


def log_in(page, user, password: str | None = None) -> None:
    """Every role starts from `/` as a stranger: the landing page, then its "Log in" link."""
    page.goto("/")
    page.get_by_role("link", name="Log in", exact=True).click()
    page.wait_for_url("**/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password or user.raw_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
