"""Rough edges found on the phone: deleting a walk with Undo, toasts, numbered copies, an address with no screen."""

from __future__ import annotations

import time
import types

import pytest

from browser_support import create_plan, wait_until
from test_coaching_api import seed_finished_session

pytestmark = pytest.mark.browser

SHORT = [{"kind": "forward", "seconds": 30, "speed_mph": 2.5}, {"kind": "reverse", "seconds": 30, "speed_mph": 1.5}]


def server_history(page) -> list[str]:
    """The plan names of this browser's walks, as the server has them."""
    return [entry["plan_name"] for entry in page.request.get("/api/history").json()]


@pytest.mark.browser(seconds=9)
def test_a_false_start_is_deleted_from_history_with_an_undo(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "rw_device")
    device = types.SimpleNamespace(cookies={"rw_device": token})
    now = int(time.time() * 1000)
    seed_finished_session(
        server,
        device,
        started_at=now - 7_200_000,
        segments=SHORT,
        walked=[30, 30],
        plan_name="Kept walk",
        plan_id="my-kept",
    )
    seed_finished_session(
        server,
        device,
        started_at=now - 3_600_000,
        segments=SHORT,
        walked=[4, 0],
        ended_by="stopped",
        plan_name="False start",
        plan_id="my-false",
    )
    page.goto("/#/history")
    page.wait_for_selector(".history li")
    # The false start is the walk this tab just ended: its summary is kept for the tab (a reload shows it).
    false_start = f"seed-{now - 3_600_000}-my-false"
    page.evaluate(
        """(sessionId) => sessionStorage.setItem("retrowalk.finished", JSON.stringify({
             plan: { id: "my-false", name: "False start" },
             summary: { ended_by: "stopped", walked_seconds: 4 },
             sessionId }))""",
        false_start,
    )
    kept_for_the_tab = "JSON.parse(sessionStorage.getItem('retrowalk.finished'))?.sessionId ?? null"
    page.get_by_role("button", name="Delete False start").click()
    wait_until(lambda: "False start" not in page.inner_text(".history"), 3, "the entry did not leave the list")
    toast = page.locator("#toast")
    assert "null" not in toast.inner_text()
    toast.get_by_role("button", name="Undo").click()
    wait_until(lambda: "False start" in page.inner_text(".history"), 3, "Undo did not bring it back")
    assert "False start" in server_history(page)
    assert page.evaluate(kept_for_the_tab) == false_start, "an undone delete forgot the walk's summary"

    page.get_by_role("button", name="Delete False start").click()
    wait_until(
        lambda: "False start" not in server_history(page), 15, "the server still has the walk after the Undo ran out"
    )
    assert "Kept walk" in server_history(page) and "False start" not in page.inner_text(".history")
    # Deleted for good: its summary is not shown again (Back to it, a reload at its address).
    wait_until(lambda: page.evaluate(kept_for_the_tab) is None, 3, "the deleted walk's summary is still kept")
    page.goto("/#/summary")
    wait_until(lambda: page.evaluate("location.hash") == "#/", 5, "the deleted walk's summary was shown")
    page.wait_for_selector("#main [data-plan]", state="attached")
    assert not page.js_errors


def test_copies_are_numbered_and_a_toast_without_an_action_says_only_its_words(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    plan = create_plan(page, "Evening", SHORT)
    page.reload()
    page.wait_for_selector(f'[data-plan="{plan["id"]}"]')
    names = []
    for _ in range(2):
        page.goto(f"/#/copy/{plan['id']}")
        page.wait_for_selector("#plan-name")
        names.append(page.input_value("#plan-name"))
        page.click("#save-plan")
        # The first save's toast may still be showing when the second save is tapped: wait for this save's words.
        said = f"Saved “{names[-1]}”."
        wait_until(
            lambda said=said: page.is_visible("#toast") and page.inner_text("#toast") == said,
            15,
            f"no toast saying {said!r}",
        )
    assert names == ["Evening (copy)", "Evening (copy 2)"]
    assert not page.js_errors


def test_an_address_with_no_screen_shows_the_picker_and_back_leaves_it(phone_page, server):
    page = phone_page(server.url)
    page.goto("/#/history")
    page.wait_for_selector(".history, .empty-box, h1")
    page.evaluate("location.hash = '#/no-such-screen'")
    page.wait_for_function("() => location.hash === '#/' && document.querySelector('#main [data-plan]') !== null")
    # Back goes to the screen before the mistyped address, not to it (which would send the walker forward again).
    page.go_back()
    page.wait_for_function("() => location.hash === '#/history'", timeout=10_000)
    page.wait_for_selector('.tabs a[data-tab="history"][aria-current="page"]')
    assert not page.js_errors


def test_offline_a_session_never_played_says_before_the_tap_that_it_needs_the_server_once(phone_page, fresh_server):
    from test_browser import controlled

    running = fresh_server()
    page = phone_page(running.url)
    page.goto("/")
    assert controlled(page)
    page.click('[data-follow="first-steps"]')
    page.wait_for_selector(".up-next")
    assert not page.locator("#up-next-needs-server").count(), "said while online"
    running.stop()
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector(".up-next")
    note = page.locator("#up-next-needs-server")
    assert note.count() == 1 and "needs the server once" in note.inner_text()
    walk = page.get_by_role("button", name="Walk this session")
    # The accessible name starts with the visible words (voice control finds it) and points to the note.
    assert (
        walk.get_attribute("aria-label").startswith("Walk this session")
        and walk.get_attribute("aria-describedby") == "up-next-needs-server"
    )
    assert not page.js_errors


def test_following_a_second_programme_asks_first(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    page.click('[data-follow="knee-friendly"]')
    page.wait_for_selector('.up-next[data-programme="knee-friendly"]')
    second = page.locator('[data-follow="first-steps"]')
    second.click()
    assert second.inner_text() == "Tap again to follow this instead of Knee-friendly"
    assert page.request.get("/api/settings").json()["programme"] == "knee-friendly", "replaced without asking"
    second.click()
    page.wait_for_selector('.up-next[data-programme="first-steps"]')
    assert page.request.get("/api/settings").json()["programme"] == "first-steps"
    assert not page.js_errors
