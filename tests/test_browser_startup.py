"""The first tap comes before the server answers: the picker is drawn from what the phone has, then kept in place.

The API's answers are held back here (the way a slow network or a busy server would) to show
what a walker sees meanwhile; bench/bench_browser.py --startup times it.
"""

from __future__ import annotations

import json

import pytest

from browser_support import create_plan, wait_until

pytestmark = pytest.mark.browser

# The answers the picker waits for when it has nothing of its own.
PICKER_API = ("/api/plans", "/api/programmes", "/api/settings")
# Sums every layout shift the walker did not cause (CLS), from the document's start.
SHIFTS_JS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts.push(entry.value);
}).observe({ type: "layout-shift", buffered: true });
"""


def hold_api(page) -> list:
    """Hold back the picker's API answers until released; returns the held requests' routes."""
    held: list = []

    def hold(route) -> None:
        if getattr(page, "api_released", False):
            route.continue_()
        else:
            held.append(route)

    page.route(lambda url: any(url.endswith(path) for path in PICKER_API), hold)
    return held


def wait_for_held(page, held: list, timeout_s: float = 10) -> None:
    """Wait until the page has asked the server something (its first draw comes before it asks)."""
    for _ in range(int(timeout_s / 0.05)):
        if held:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the picker asked nothing of the server")


def release(page, held: list) -> None:
    """Let the held answers through, and any that come later."""
    page.api_released = True
    for route in held:
        route.continue_()
    page.wait_for_load_state("networkidle")


def test_a_first_visit_can_pick_a_workout_before_the_server_answers_and_nothing_moves_after(phone_page, server):
    page = phone_page(server.url)
    page.add_init_script(SHIFTS_JS)
    held = hold_api(page)
    page.goto("/")
    # The built-in workouts, tappable, with every answer still held back.
    page.wait_for_selector('.plan-card[data-plan="quick-mix-10"]')
    page.wait_for_function("() => document.querySelector('[data-follow=\"first-steps\"]') !== null")
    wait_for_held(page, held)
    page.locator('[data-programme="first-steps"] details summary').click()
    before = page.locator('.plan-card[data-plan="quick-mix-10"]').bounding_box()
    release(page, held)
    page.wait_for_timeout(300)
    # The server's answers equal what was drawn: the sessions opened stay open, nothing moved.
    assert page.locator('[data-programme="first-steps"] details').get_attribute("open") is not None
    assert page.locator('.plan-card[data-plan="quick-mix-10"]').bounding_box() == before
    assert page.evaluate("window.__shifts.reduce((a, b) => a + b, 0)") == 0
    assert not page.js_errors


def test_a_returning_phone_shows_its_own_plans_before_the_server_answers(playwright_chromium, server):
    from browser_support import PHONE_VIEWPORT

    _, browser = playwright_chromium
    # No service worker: its fetches would pass by the held routes (what is shown comes from the page's own memory).
    context = browser.new_context(viewport=PHONE_VIEWPORT, base_url=server.url, service_workers="block")
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.goto("/")
    plan = create_plan(page, "Lunch walk", [{"kind": "forward", "seconds": 60}, {"kind": "reverse", "seconds": 60}])
    page.reload()
    page.wait_for_selector(f'.plan-card[data-plan="{plan["id"]}"]')
    held = hold_api(page)
    page.reload()
    # From the phone's last answer, with the server's new one held back.
    page.wait_for_selector(f'.plan-card[data-plan="{plan["id"]}"]')
    wait_for_held(page, held)
    release(page, held)
    assert page.locator(f'.plan-card[data-plan="{plan["id"]}"]').count() == 1
    assert not page.js_errors
    context.close()


def test_a_plan_file_offered_for_import_is_not_offered_again_after_a_reload(phone_page, server, tmp_path):
    page = phone_page(server.url)
    page.goto("/")
    page.wait_for_selector(".plan-card")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"name": "From a file", "segments": [{"kind": "reverse", "seconds": 90}]}))
    page.set_input_files("#import-file", str(plan_file))
    page.wait_for_selector("text=From a file")
    assert page.evaluate("location.hash") == "#/import"
    entries = page.evaluate("history.length")
    # The file travelled with the navigation, once: a reload has nothing to offer and goes back to the workouts.
    page.reload()
    page.wait_for_selector(".plan-card")
    assert page.evaluate("location.hash") in ("#/", "")
    # ...in place of the import's address: a pushed one would bring Back to the import, which sends it here again.
    assert page.evaluate("history.length") == entries
    assert not page.js_errors


def test_a_plan_file_being_changed_before_saving_is_still_in_the_editor_after_a_reload(phone_page, server, tmp_path):
    page = phone_page(server.url)
    page.goto("/")
    page.wait_for_selector(".plan-card")
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"name": "Hill repeats", "segments": [{"kind": "reverse", "seconds": 90}]}))
    page.set_input_files("#import-file", str(plan_file))
    page.click("text=Edit first")
    page.wait_for_selector("#plan-name")
    assert page.input_value("#plan-name") == "Hill repeats"
    # A phone reloads a page it put away: the plan being changed comes back, not the starter plan.
    page.reload()
    page.wait_for_selector("#plan-name")
    assert page.evaluate("location.hash") == "#/edit/new"
    assert page.input_value("#plan-name") == "Hill repeats"
    assert not page.js_errors


def test_the_first_screen_is_styled_by_the_page_itself_and_waits_for_no_stylesheet(phone_page, server):
    page = phone_page(server.url)
    page.add_init_script(SHIFTS_JS)
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    # Every stylesheet is held back until the picker is drawn, and the app's start until the first frame is checked.
    held_styles: list = []
    held_start: list = []
    page.route("**/*.css", lambda route: held_styles.append(route))
    page.route("**/js/main.js", lambda route: held_start.append(route))
    page.goto("/", wait_until="commit")
    # The first frame, before any module has run: the dark page, the brand, the skeleton's footprint,
    # the tabs, the hidden banner, all from the page's own rules (allowed by their hash).
    page.wait_for_selector(".skeleton")
    # (Route handlers run while Playwright is waiting, not during a plain sleep.)
    wait_until(lambda: held_start or page.wait_for_timeout(50), 10, "main.js was never asked for")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(11, 18, 32)"
    assert page.locator(".skeleton").first.bounding_box()["height"] == 132
    assert page.locator(".tabs a").first.bounding_box()["height"] >= 60
    assert page.locator(".brand-mark").bounding_box()["width"] == 32
    assert page.locator("#banner").is_hidden()
    # The picker is drawn with its rules while no stylesheet has arrived, and nothing moves after.
    held_start[0].continue_()
    page.wait_for_selector('.plan-card[data-plan="quick-mix-10"]')
    assert page.evaluate("getComputedStyle(document.querySelector('.plan-card')).borderRadius") == "16px"
    assert page.evaluate("getComputedStyle(document.querySelector('.btn-secondary')).minHeight") == "56px"
    # The only stylesheet the page asks for is the later screens', after the picker; it moves nothing on it.
    wait_until(lambda: held_styles or page.wait_for_timeout(50), 10, "screens.css was never asked for")
    assert [route.request.url.rsplit("/", 1)[-1] for route in held_styles] == ["screens.css"]
    held_styles[0].continue_()
    page.wait_for_function("() => [...document.styleSheets].some((sheet) => sheet.href?.endsWith('/css/screens.css'))")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__shifts.reduce((a, b) => a + b, 0)") == 0
    assert not refused, refused
    assert not page.js_errors
