"""A new version of the app reaches an open phone in Debian's Chromium without mixing two
versions in one page: the new service worker waits, the page offers "Reload to update" only
when no walk is running, and the tap brings the new version in with one reload."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from browser_support import choose_audio_mode, create_plan, hold_to_unlock, open_plan, wait_until
from i18n_support import WEB

pytestmark = pytest.mark.browser

SHORT = [
    {"kind": "warmup", "seconds": 5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 5},
]
# web/js/updates.js looks this often whether a walk has ended (WALK_CHECK_MS); the test lets one look
# pass before it says nothing was offered (tests/js/updates.test.mjs checks the rule with a fake clock).
WALK_CHECK_S = 2
# A page that reloads more than once does it at once: this long is enough to see a second load.
SECOND_LOAD_S = 1
# Generous bounds for a loaded 2-core machine; each wait polls and ends as soon as it can.
INSTALL_WAIT_S = 30
OFFER_WAIT_S = 15
RELOAD_WAIT_S = 30
# What version B of the app adds to its page, so the walker (and the test) can tell it is the new one.
VERSION_B_MARK = '<meta name="retrowalk-test-build" content="B">'

SW_READY_JS = """() => Promise.race([
  navigator.serviceWorker.ready.then(() => true),
  new Promise((resolve) => setTimeout(() => resolve(false), 10000)),
])"""
CHECK_FOR_UPDATE_JS = "() => navigator.serviceWorker.getRegistration().then((registration) => registration.update())"
WAITING_JS = "() => navigator.serviceWorker.getRegistration().then((registration) => Boolean(registration?.waiting))"
SHELL_CACHES_JS = "() => caches.keys().then((names) => names.filter((name) => name.startsWith('retrowalk-shell-')))"
BUILD_JS = "() => document.querySelector('meta[name=retrowalk-test-build]')?.content ?? 'A'"


def served_version(page) -> str:
    """The version the server stamps into sw.js now (a hash of every app file)."""
    return re.search(r'const VERSION = "([^"]+)";', page.request.get("/sw.js").text()).group(1)


def ship_version_b(web_copy) -> None:
    """Change the app the server serves, as a deploy does: a changed page and a changed worker."""
    index = web_copy / "index.html"
    index.write_text(index.read_text().replace("<head>", "<head>\n  " + VERSION_B_MARK, 1))
    worker = web_copy / "sw.js"
    worker.write_text(worker.read_text() + "\n// version B\n")


def offer(page):
    """The "Reload to update" button (it may not be on screen)."""
    return page.get_by_role("button", name="Reload to update")


@pytest.mark.browser(seconds=11)
def test_a_new_version_waits_for_the_walk_to_end_and_comes_in_with_one_reload(phone_page, fresh_server, tmp_path):
    web_copy = tmp_path / "web"
    shutil.copytree(WEB, web_copy)
    running = fresh_server(env={"RETROWALK_WEB_DIR": str(web_copy)})
    page = phone_page(running.url)
    page.goto("/")
    assert page.evaluate(SW_READY_JS), "the service worker never installed"
    # The first install controls the page at once (no reload) and offers nothing.
    wait_until(
        lambda: page.evaluate("Boolean(navigator.serviceWorker.controller)"),
        INSTALL_WAIT_S,
        "the first install did not take over the page",
    )
    version_a = served_version(page)
    assert page.evaluate(SHELL_CACHES_JS) == [f"retrowalk-shell-{version_a}"]

    # A walk, paused (a walk is running until it ends, paused or not).
    plan = create_plan(page, "Update walk", SHORT)
    page.reload()
    open_plan(page, plan["id"])
    choose_audio_mode(page, "screen")
    page.click("#start")
    page.wait_for_selector(".phase")
    hold_to_unlock(page)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector(".phase-paused:text('PAUSED')")
    assert offer(page).count() == 0

    ship_version_b(web_copy)
    version_b = served_version(page)
    assert version_b != version_a
    page.evaluate(CHECK_FOR_UPDATE_JS)
    wait_until(lambda: page.evaluate(WAITING_JS), INSTALL_WAIT_S, "version B never installed")
    # It waits: the page still runs version A, and nothing interrupts the walk.
    time.sleep(WALK_CHECK_S + 0.5)
    assert offer(page).count() == 0, "the update was offered in the middle of a walk"
    assert page.evaluate(BUILD_JS) == "A"
    assert page.inner_text(".phase-paused") == "PAUSED"

    # The walk ends: now the walker is offered the reload.
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name="Tap again").click()
    page.wait_for_selector("text=Workout stopped")
    offer(page).wait_for(timeout=OFFER_WAIT_S * 1000)
    assert page.evaluate(BUILD_JS) == "A", "the page changed version before the tap"

    loads = []
    page.on("load", lambda _: loads.append(time.monotonic()))
    with page.expect_event("load", timeout=RELOAD_WAIT_S * 1000):
        offer(page).click()
    # The new version comes back to the summary the walker was reading.
    page.wait_for_selector("text=Workout stopped")
    assert page.evaluate(BUILD_JS) == "B", "the reloaded page is not the new version"
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    assert page.evaluate(WAITING_JS) is False
    # Version B's worker controls the page: its shell is the only one left.
    assert page.evaluate(SHELL_CACHES_JS) == [f"retrowalk-shell-{version_b}"]
    time.sleep(SECOND_LOAD_S)
    page.evaluate("1")  # Playwright hands the page's events over during a call: any second load is counted by now.
    assert len(loads) == 1, f"the page reloaded {len(loads)} times"
    assert offer(page).count() == 0, "the new version is offered again after it came in"
    assert not page.js_errors
