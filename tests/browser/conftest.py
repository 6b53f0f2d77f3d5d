"""Fixtures for journeys through the real web app in Debian's Chromium.

The app runs on a free port in a thread of the test process, with CSRF on and
cookies as the plain-HTTP demo sets them, against the test's own copy of the seeded
SQLite database. Chromium comes from Debian (/usr/bin/chromium), driven by the
`playwright` package; Playwright's own browser downloads are never used.

Without Chromium these tests are skipped, so a laptop without it still runs the rest
of the suite; CI sets QA_REQUIRE_BROWSER=1 so a missing browser fails the run instead.
When a test fails, a screenshot of its page is saved in /tmp for whoever reads the log.
"""
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from engine.qa import demo_data

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_VARIABLE = "QA_REQUIRE_BROWSER"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT_DIR = Path("/tmp")
TIMEOUT_MS = 15_000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so `page` can tell that the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the run (starting it is the slow part); a context per test."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_VARIABLE}=1 but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(database_url):
    """The base URL of the real app, served on a free port until the test ends."""
    with serving(database_url) as url:
        yield url


@contextmanager
def serving(database_url: str, **overrides):
    """Serve the app (with configuration `overrides`) on a free port; yields its base URL."""
    from webapp import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "browser-test",
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, **overrides})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            from webapp.extensions import db
            db.engine.dispose()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context on the live app; on failure, a full-page screenshot in /tmp.

    Every Content-Security-Policy violation on any page the test visits is collected
    (`csp_violations(page)`) and fails the test at its end: each journey is also a check
    that the app's own scripts and styles work under its policy."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    violations = _collect_csp_violations(context)
    page = context.new_page()
    page.csp_violations = violations
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path} (at {page.url})")
    context.close()
    if report is not None and report.passed:
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


REPORT_VIOLATION = """
document.addEventListener("securitypolicyviolation", (event) => window.reportCspViolation(
  `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${event.documentURI}` +
  ` from ${event.sourceFile || "the page"}:${event.lineNumber}` + (event.sample ? ` (${event.sample})` : "")));
"""


def _collect_csp_violations(context) -> list[str]:
    """Every `securitypolicyviolation` event in any page of `context`, and the browser's own
    console reports of them, as lines of text."""
    violations: list[str] = []
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_VIOLATION)
    context.on("console", lambda message: violations.append(message.text)
               if "Content Security Policy" in message.text else None)
    return violations


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations reported so far in `page`'s browser context."""
    return page.csp_violations


def sign_in(page, username: str, password: str = demo_data.DEMO_PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def assert_accessible(page) -> None:
    """Fail with every WCAG 2.2 A/AA violation axe-core (npm) finds on the page as it is now.

    axe is evaluated through the DevTools protocol rather than added as a <script>, so the
    app's Content-Security-Policy (no inline script) does not have to be loosened for tests.
    """
    page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;0")
    results = page.evaluate("async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                            WCAG_TAGS)
    problems = [f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                for violation in results["violations"]]
    assert not problems, f"accessibility violations on {page.url}:\n" + "\n".join(problems)


def shows(page, text: str, where: str = "main") -> None:
    """Wait until the first `where` on the page shows `text` as a person reads it. After a click
    or Enter the next page may still be loading: reading its text at once would race it."""
    expect(page.locator(where).first).to_contain_text(text, use_inner_text=True)
