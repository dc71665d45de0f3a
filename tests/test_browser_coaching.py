"""Coaching on the phone, in Debian's Chromium: plans built in the editor and walked, a programme
followed and advanced, settings heard in the voice, progress charts, plans shared by link and file."""

from __future__ import annotations

import json
import re
import time

import pytest

from browser_support import SocketLog, confirm_safety, create_plan, played_cues, wait_until

pytestmark = pytest.mark.browser

# Short cue and start leads let a test skip through a programme session in seconds (as test_coaching_api does).
FAST_LEAD_MS = 200
# Between two taps on Skip: longer than the lead, so the server never refuses one as "segment ending".
SKIP_EVERY_S = 0.6
# Time spent in the first backward bout of a skipped-through session, so backward minutes move
# (the server counts minutes to the tenth: six seconds is 0.1).
BACKWARD_DWELL_S = 7
SHORT = [
    {"kind": "warmup", "seconds": 5, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 5, "speed_mph": 2.5},
]


def segment(page, number: int):
    """The editor's row of interval `number` (1-based)."""
    return page.locator(f".seg-list > li:nth-child({number})")


def wait_saved(page) -> None:
    """Wait until the settings screen says the last change was saved."""
    page.wait_for_selector('.save-status[data-tone="ok"]')
    page.evaluate("document.querySelector('.save-status').dataset.tone = ''")


def skip_through(page, dwell_in_reverse_s: float = 0) -> None:
    """Tap Skip until the summary shows, staying a while in the first backward bout."""
    dwelt = dwell_in_reverse_s == 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if page.locator("#summary-title").count():
            return
        if not dwelt and page.locator('.phase[data-kind="reverse"]').count():
            time.sleep(dwell_in_reverse_s)
            dwelt = True
        skip = page.get_by_role("button", name="Skip")
        if skip.count() and skip.is_enabled():
            skip.click()
        time.sleep(SKIP_EVERY_S)
    raise AssertionError("the workout did not finish")


@pytest.mark.browser(seconds=19)
def test_a_plan_built_in_the_editor_is_walked_and_shows_in_history_and_both_charts(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    page.click("#new-plan")
    page.wait_for_selector("#plan-name:focus")
    page.fill("#plan-name", "Five-second steps")
    # The starter plan has five intervals: keep three, make them five seconds each.
    while page.locator(".seg-list > li").count() > 3:
        segment(page, 4).get_by_role("button", name=re.compile("^Remove")).click()
    for number, (kind, length, speed) in enumerate(
        [("warmup", "0:05", ""), ("reverse", "0:03", "1.5"), ("forward", "0:05", "")], start=1
    ):
        row = segment(page, number)
        row.locator("select").select_option(kind)
        row.locator("input.length").fill(length)
        row.get_by_label(re.compile("^Speed")).fill(speed)
    page.locator("#plan-name").focus()  # leaving the last field shows its error, if any
    error = segment(page, 2).locator(".field-error").first
    assert error.is_visible() and "At least 0:05" in error.inner_text()
    assert segment(page, 2).locator("input.length").get_attribute("aria-invalid") == "true"
    page.click("#save-plan")
    assert "Fix the one thing" in page.inner_text(".editor-bar [role=status]")
    assert page.evaluate("document.activeElement.classList.contains('length')"), (
        "Save did not take the walker to the field to fix"
    )
    # Fixing it clears the message as the walker types, and the totals follow.
    page.keyboard.press("Control+A")
    page.keyboard.type("0:05")
    assert not error.is_visible()
    totals = page.inner_text(".editor-totals")
    assert "0:15" in totals and "0:05" in totals and "3" in totals

    # The server has the last word: when it refuses, its problems are shown.
    page.route(
        "**/api/plans",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body=json.dumps(
                {
                    "error": "invalid_plan",
                    "message": "Segment 2 speed must be 0.3 to 4.0 mph.",
                    "problems": ["Segment 2 speed must be 0.3 to 4.0 mph."],
                }
            ),
        ),
    )
    page.click("#save-plan")
    page.wait_for_selector(".editor .error-box[role=alert]:has-text('Segment 2 speed must be 0.3 to 4.0 mph.')")
    page.unroute("**/api/plans")
    page.click("#save-plan")

    page.wait_for_selector(".plan-card:focus")
    plan_id = page.evaluate("document.activeElement.dataset.plan")
    assert page.inner_text(".plan-card:focus h3") == "Five-second steps"
    log = SocketLog(page)
    page.click(f'.plan-card[data-plan="{plan_id}"]')
    confirm_safety(page)
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    page.click("#start")
    page.wait_for_selector("text=Workout complete", timeout=30_000)
    session_id = log.of_type("hello")[0]["session"]["id"]
    # No weight set: the summary says so, with a way to settings.
    page.wait_for_selector('.summary [data-calories="none"] a[href="#/settings"]')
    page.click("text=See history")
    page.wait_for_selector(".history li:has-text('Five-second steps'):has-text('Complete')")

    page.click('.tabs a[data-tab="progress"]')
    page.wait_for_selector(".chart-weeks")
    this_week = page.locator('.chart-weeks g[data-week="current"] rect')
    heights = [float(rect.get_attribute("height")) for rect in this_week.all()]
    assert sum(heights) > 0, "this week's bar is empty"
    assert page.get_attribute(".chart-weeks", "role") == "img"
    week = page.request.get("/api/stats/week").json()
    assert week["minutes"] > 0
    assert f"This week {week['minutes']:g} minutes, {week['backward_minutes']:g} backward" in page.get_attribute(
        ".chart-weeks", "aria-label"
    )
    point = page.locator(f'.chart-sessions circle[data-session="{session_id}"]')
    assert point.count() == 1, "the walk is not a point of the per-session chart"
    assert float(point.get_attribute("cy")) < float(page.get_attribute(".chart-sessions .baseline", "y1"))
    assert page.locator(".chart-box table").count() == 2, "the charts have no table for screen readers"
    csv = page.request.get(page.get_attribute("a.csv", "href"))
    assert csv.ok and "Five-second steps" in csv.text()
    assert not page.js_errors


@pytest.mark.realtime(seconds=20)
def test_spanish_and_kilometres_chosen_in_settings_are_what_the_coach_says(phone_page, server):
    page = phone_page(server.url)
    page.goto("/#/settings")
    page.get_by_role("radio", name="km/h").check()
    wait_saved(page)
    page.get_by_role("radio", name="Español").check()
    # The screen is drawn again in Spanish; the toast says it was saved.
    page.wait_for_selector("#toast:not([hidden])")
    assert "Español" in page.inner_text("#toast")
    # The screens speak Spanish from the change on, kilograms included.
    page.wait_for_selector("html[lang=es]")
    wait_until(
        lambda: page.get_by_label(re.compile("^Peso corporal, kg")).count() == 1,
        5,
        "the weight is not asked in kilograms, in Spanish",
    )
    settings = page.request.get("/api/settings").json()
    assert (settings["units"], settings["lang"], settings["timezone"]) == (
        "kmh",
        "es",
        page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"),
    )

    plan = create_plan(page, "Paso a paso", SHORT)
    log = SocketLog(page)
    page.goto("/")
    page.click(f'.plan-card[data-plan="{plan["id"]}"]')
    confirm_safety(page)
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    assert "2,4 km/h" in page.inner_text(".segments"), "the get-ready list is not in km/h, written the Spanish way"
    page.check("#mode-screen")  # cue clips, each one counted below
    page.click("#start")
    wait_until(lambda: page.locator('.phase[data-kind="reverse"]').count(), 15, "never reached the backward bout")
    assert page.inner_text(".phase-hint") == "a 2,4 km/h"
    page.wait_for_selector("text=Entrenamiento completado", timeout=30_000)

    texts = [cue["text"] for cue in log.timeline()]
    assert "Ahora hacia atrás, 5 segundos." in texts
    assert any("kilómetros por hora" in text for text in texts), texts
    assert not any("mph" in text or "miles" in text or "millas" in text for text in texts)
    assert len(played_cues(page)) == len(texts), "not every cue was played"
    files = sorted({cue["audio"] for cue in log.timeline()})
    decoded = page.evaluate(
        """async (urls) => {
      const out = [];
      for (const url of urls) {
        const response = await fetch(url);
        const audio = await new OfflineAudioContext(1, 22050, 22050).decodeAudioData(await response.arrayBuffer());
        out.push({ type: response.headers.get("content-type"), seconds: audio.duration });
      }
      return out;
    }""",
        files,
    )
    assert all(item["type"] == "audio/mpeg" and item["seconds"] > 0.3 for item in decoded), decoded
    assert not page.js_errors


@pytest.mark.browser(seconds=20)
def test_following_first_steps_a_finished_session_advances_it_and_a_stopped_one_does_not(phone_page, fresh_server):
    running = fresh_server(
        env={"RETROWALK_CUE_LEAD_MS": str(FAST_LEAD_MS), "RETROWALK_START_LEAD_MS": str(FAST_LEAD_MS)}
    )
    page = phone_page(running.url)
    page.goto("/")
    before = page.request.get("/api/stats/week").json()
    page.click('[data-follow="first-steps"]')
    page.wait_for_selector(".up-next h2:text-is('Week 1, session 1')")
    assert page.locator('li[data-programme="first-steps"] .badge:text("Following")').count() == 1
    page.click(".up-next [data-plan]")
    confirm_safety(page)
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    page.click("#start")
    page.wait_for_selector(".phase")
    skip_through(page, dwell_in_reverse_s=BACKWARD_DWELL_S)
    assert page.inner_text("#summary-title") == "Workout complete"
    page.wait_for_selector(".next-session h2:text-is('Next: Week 1, session 2')")
    page.wait_for_selector(".week-line:not([hidden])")

    page.get_by_role("button", name="Done").click()
    page.wait_for_selector(".up-next h2:text-is('Week 1, session 2')")
    assert "1 of 18 done" in page.inner_text(".up-next")
    assert (
        page.locator(
            'li[data-programme="first-steps"] .session-row[data-plan="first-steps-w1s1"][data-state="done"]'
        ).count()
        == 1
    )

    # Stopped early: it does not count, and the summary says so.
    page.click(".up-next [data-plan]")
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    page.click("#start")
    page.wait_for_selector(".phase")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name="Tap again").click()
    page.wait_for_selector(".next-session:has-text('does not count')")
    page.get_by_role("button", name="Done").click()
    page.wait_for_selector(".up-next h2:text-is('Week 1, session 2')")

    page.click('.tabs a[data-tab="progress"]')
    page.wait_for_selector(".week-card")
    after = page.request.get("/api/stats/week").json()
    assert after["minutes"] > before["minutes"] and after["backward_minutes"] > before["backward_minutes"]
    assert page.get_attribute(".week-card .ring", "aria-label").startswith(f"{after['minutes']:g} of 150")
    assert page.inner_text('[data-figure="backward"] b') == f"{after['backward_minutes']:g}"
    assert page.locator(".chart-sessions circle").count() == 2
    assert page.locator(".chart-sessions circle.point-stopped").count() == 1
    # What counts and a week on plan: the server's own definitions, word for word.
    definitions = after["definitions"]
    assert page.inner_text("#on-plan-definition") == f"{definitions['counted_session']} {definitions['on_plan_week']}"
    assert not page.js_errors


def test_a_plan_shared_by_link_or_file_is_saved_on_another_phone(phone_page, server, tmp_path):
    page = phone_page(server.url)
    page.goto("/")
    plan = create_plan(page, "Shared intervals", SHORT + [{"kind": "cooldown", "seconds": 65}])
    page.goto(f"/#/edit/{plan['id']}")
    page.click("#share-plan")
    link = page.input_value("#share-link")
    assert link.startswith(f"{server.url}/#share=")
    with page.expect_download() as download:
        page.click("#export-plan")
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.name == "retrowalk-shared-intervals.json"

    other = phone_page(server.url)  # a second browser context: another phone, another device
    other.goto(link)
    other.wait_for_selector("#incoming-title:text-is('Shared intervals')")
    assert other.text_content(".ready .eyebrow") == "Shared with you"
    other.click("#save-shared")
    other.wait_for_selector(".plan-card:focus:has-text('Shared intervals')")
    mine = [p for p in other.request.get("/api/plans").json() if not p["builtin"]]
    assert [(p["name"], p["segments"]) for p in mine] == [("Shared intervals", plan["segments"])]
    assert other.evaluate("location.hash") == "#/", "the used link stays in the back history"

    # The same plan from its file, then a link cut short: checked like an import, nothing saved.
    other.set_input_files("#import-file", str(exported))
    other.wait_for_selector("text=From a file")
    other.click("#save-shared")
    other.wait_for_selector(".plan-card:focus")
    other.goto(link[:-12])
    other.wait_for_selector("text=This link does not hold a plan")
    assert len([p for p in other.request.get("/api/plans").json() if not p["builtin"]]) == 2
    assert not page.js_errors and not other.js_errors


def test_duplicate_a_built_in_plan_edit_it_across_tabs_and_delete_it_with_undo(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    page.click('.plan-card[data-plan="quick-mix-10"]')
    confirm_safety(page)
    page.click("text=Copy and edit")
    page.wait_for_selector("#editor-title:text-is('Copy of Quick mix: 10 minutes')")
    assert page.input_value("#plan-name") == "Quick mix: 10 minutes (copy)"
    intervals = page.locator(".seg-list > li").count()
    page.click("#add-interval")
    assert page.locator(".seg-list > li").count() == intervals + 1
    assert page.locator(".seg-list > li").last.get_attribute("data-kind") == "reverse", (
        "the new interval does not alternate to backward walking"
    )
    page.click("#save-plan")
    page.wait_for_selector(".plan-card:focus:has-text('Quick mix: 10 minutes (copy)')")
    copy_id = page.evaluate("document.activeElement.dataset.plan")
    page.click(f'[data-edit="{copy_id}"]')
    page.wait_for_selector("#editor-title:text-is('Edit plan')")
    # Off to settings mid-edit (to switch to km/h): the edits are kept, their speeds converted.
    page.fill("#plan-name", "Renamed")
    segment(page, 1).get_by_label(re.compile("^Speed")).fill("2")
    page.click('.tabs a[data-tab="settings"]')
    page.get_by_role("radio", name="km/h").check()
    wait_saved(page)
    page.go_back()
    page.wait_for_selector("#resumed")
    assert page.input_value("#plan-name") == "Renamed"
    assert segment(page, 1).get_by_label(re.compile("^Speed, km/h")).input_value() == "3.2"
    page.get_by_role("button", name="Cancel").click()
    page.click(f'[data-edit="{copy_id}"]')
    page.wait_for_selector("#editor-title:text-is('Edit plan')")
    assert page.input_value("#plan-name") == "Quick mix: 10 minutes (copy)" and page.locator("#resumed").count() == 0
    page.click("#delete-plan")
    assert page.inner_text("#delete-plan") == "Tap again to delete"
    page.click("#delete-plan")
    page.wait_for_selector("#toast:has-text('Deleted')")
    assert page.locator(f'.plan-card[data-plan="{copy_id}"]').count() == 0
    page.click("#toast >> text=Undo")
    page.wait_for_selector(".plan-card:focus:has-text('Quick mix: 10 minutes (copy)')")
    assert not page.js_errors


def test_the_coaching_screens_are_readable_named_and_fit_at_320_px(phone_page, server):
    from test_browser_a11y import NARROW, check_screen

    page = phone_page(server.url)
    page.set_viewport_size(NARROW)
    page.goto("/")
    page.click('[data-follow="knee-friendly"]')
    page.wait_for_selector(".up-next")
    page.click('li[data-programme="knee-friendly"] details summary')
    check_screen(page, "picker with a programme followed")
    plan = create_plan(page, "Narrow plan", SHORT)
    page.goto(f"/#/edit/{plan['id']}")
    page.wait_for_selector("#plan-name")
    segment(page, 2).locator("input.length").fill("0:01")
    segment(page, 2).get_by_label(re.compile("^Speed")).fill("9")
    page.locator("#plan-name").focus()
    assert page.locator(".seg .field-error:visible").count() == 2
    page.click("#share-plan")
    assert page.locator("#share-link").count() == 0, "a plan that breaks the rules was shared"
    check_screen(page, "plan editor with errors")
    segment(page, 2).locator("input.length").fill("0:05")
    segment(page, 2).get_by_label(re.compile("^Speed")).fill("")
    page.click("#share-plan")
    check_screen(page, "plan editor with the share link")
    link = page.input_value("#share-link")
    page.goto("/#/settings")
    page.wait_for_selector("#weight")
    page.fill("#weight", "5000")
    page.locator("#weight").press("Enter")
    page.wait_for_selector("#weight-error:visible")
    check_screen(page, "settings with an error")
    page.goto("/#/progress")
    page.wait_for_selector(".chart-sessions")
    check_screen(page, "progress")
    page.goto(link)
    page.wait_for_selector("#save-shared")
    check_screen(page, "a shared plan")
    assert not page.js_errors
