"""Screenshots of every screen at phone size, to look at the app as a walker would.

Longer than 450 lines: every screen is reached by the walker's own taps, in order, with the plans,
walks and history each screen needs seeded on the way; split, each part would repeat that set-up.

    python tests/browser_screenshots.py [--out /tmp/shots] [--width 390]
    python tests/browser_screenshots.py --coaching [--out /tmp/shots5]
    python tests/browser_screenshots.py --pocket [--out /tmp/shots8]

Starts its own server, walks through picker, safety check, get ready, player (mid-workout
and paused), summary and history, plus the desktop page with its QR code. Takes about
two minutes (the summary comes from a real 80-second workout).

--coaching shows the coaching screens instead: nine weeks of history seeded into the server's
database, a programme followed and its first session walked (skipping ahead, on a server
with a short cue lead), the summary with calories and the next session, the picker with
the programme's progress, the plan editor mid-edit with a rule broken, settings, progress
with both charts, and a plan shared by link. About a minute.

--languages es,de,fr,en shows every screen in each language: the picker with a
programme followed and its description open, safety check, get ready, the player in each kind
of interval (the phase word must fit), paused, summary, history, progress, settings (a change
saved), the editor with its save bar, and a shared plan. Use --height too (320x568, 768x1024).

--pocket shows the screen-off screens: the get-ready screen offering the two audio modes, the
player in pocket mode, the pocket lock of screen-on mode (and the hold under way), and the
player unlocked with its Lock button. About half a minute.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from browser_support import CHROMIUM_ARGS, CHROMIUM_PATH, UNLOCK_HOLD_S, confirm_safety, create_plan  # noqa: E402
from conftest import RunningServer  # noqa: E402
from test_coaching_api import seed_finished_session  # noqa: E402

EVENING = [
    {"kind": "warmup", "seconds": 6, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 90, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 120, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 90, "speed_mph": 1.5},
    {"kind": "rest", "seconds": 30},
    {"kind": "cooldown", "seconds": 120, "speed_mph": 2.0},
]
SHORT = [
    {"kind": "warmup", "seconds": 10, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 20, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 20, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 20, "speed_mph": 1.5},
    {"kind": "cooldown", "seconds": 10, "speed_mph": 2.0},
]


DAY_MS = 86_400_000
# Short enough that skipping through a programme session takes seconds (tests/test_coaching_api.py).
FAST_LEAD_MS = 200


def seed_history(server: RunningServer, token: str, weeks: int = 9) -> None:
    """Past walks of one device over `weeks` weeks, growing backward minutes, a few stopped early."""
    rng = random.Random(5)
    device = types.SimpleNamespace(cookies={"rw_device": token})
    now = int(time.time() * 1000)
    for week in range(weeks, 0, -1):
        for number in range(rng.choice([1, 2, 3, 3, 4])):
            backward = min(4 + (weeks - week) * 1.5 + rng.random() * 2.5, 15)
            forward = 12 + rng.random() * 16
            segments = [
                {"kind": "warmup", "seconds": 180, "speed_mph": 2.5},
                {"kind": "reverse", "seconds": round(backward * 60), "speed_mph": 1.8},
                {"kind": "forward", "seconds": round(forward * 60), "speed_mph": 2.8},
            ]
            started = now - week * 7 * DAY_MS + rng.randint(0, 5) * DAY_MS + number * 3_600_000
            stopped = rng.random() < 0.12
            walked = [s["seconds"] for s in segments]
            if stopped:
                walked[-1] = walked[-1] // 3
            seed_finished_session(
                server,
                device,
                started_at=started,
                segments=segments,
                walked=walked,
                ended_by="stopped" if stopped else "complete",
                plan_id=f"my-seed-{week}-{number}",
                plan_name=rng.choice(["Evening intervals", "Lunch walk"]),
            )


def coaching_screens(browser, out: Path, width: int) -> None:
    """The programme screens, as a walker following a programme with some weeks behind them sees them."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "data").mkdir()
        server = RunningServer(
            Path(scratch) / "data",
            Path(scratch) / "audio",
            env={"RETROWALK_CUE_LEAD_MS": str(FAST_LEAD_MS), "RETROWALK_START_LEAD_MS": str(FAST_LEAD_MS)},
        ).start()
        try:
            context = browser.new_context(
                viewport={"width": width, "height": 844}, base_url=server.url, has_touch=True, device_scale_factor=2
            )
            page = context.new_page()
            page.on("pageerror", lambda error: print("page error:", error))
            shot = lambda name: page.screenshot(path=str(out / f"{name}-{width}.png"))  # noqa: E731
            page.goto("/")
            token = next(c["value"] for c in context.cookies() if c["name"] == "rw_device")
            seed_history(server, token)
            page.request.put(
                "/api/settings", data=json.dumps({"weight_kg": 72}), headers={"Content-Type": "application/json"}
            )
            page.reload()
            page.click('[data-follow="first-steps"]')
            page.wait_for_selector(".up-next")
            page.click(".up-next [data-plan]")
            confirm_safety(page)
            page.wait_for_selector("#start:not([disabled])", timeout=30_000)
            page.click("#start")
            page.wait_for_selector(".phase")
            # Walk a little of each of the first intervals, then skip through the rest.
            skip = page.get_by_role("button", name="Skip")
            for dwell in [8, 12, 8, 6] + [0.6] * 20:
                if page.locator("#summary-title").count():
                    break
                time.sleep(dwell)
                if skip.count() and skip.is_enabled():
                    skip.click()
            page.wait_for_selector(".next-session:not([hidden])", timeout=60_000)
            page.wait_for_selector('[data-calories="range"]')
            time.sleep(0.5)
            shot("1-summary-programme-calories")
            page.get_by_role("button", name="Done").click()
            page.wait_for_selector(".up-next")
            time.sleep(0.5)
            shot("2-picker-up-next")
            page.click('li[data-programme="first-steps"] details summary')
            page.evaluate(
                "document.querySelector('li[data-programme=\"first-steps\"] .audience')"
                ".scrollIntoView({block: 'start'})"
            )
            time.sleep(0.3)
            shot("3-picker-programme-progress")

            page.goto("/#/edit/new")
            page.fill("#plan-name", "Evening intervals")
            page.locator(".seg-list > li:nth-child(2) input.length").fill("0:03")
            page.locator(".seg-list > li:nth-child(2) input.length").press("Tab")
            page.locator(".seg-list > li:nth-child(2)").scroll_into_view_if_needed()
            page.evaluate("document.querySelector('.seg-help').scrollIntoView({block: 'start'})")
            time.sleep(0.3)
            shot("4-editor-validation")
            page.locator(".seg-list > li:nth-child(2) input.length").fill("1:30")
            page.click("#share-plan")
            time.sleep(0.3)
            shot("5-editor-share")
            link = page.input_value("#share-link")

            page.goto("/#/settings")
            page.wait_for_selector("#weight")
            time.sleep(0.3)
            shot("6-settings")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            time.sleep(0.3)
            shot("6b-settings-voice")

            page.goto("/#/progress")
            page.wait_for_selector(".chart-weeks")
            time.sleep(0.5)
            shot("7-progress-week")
            page.evaluate(
                "document.querySelector('.chart-weeks').closest('figure').previousElementSibling"
                ".scrollIntoView({block: 'start'})"
            )
            time.sleep(0.3)
            shot("8-progress-charts")
            context.close()

            other = browser.new_context(
                viewport={"width": width, "height": 844}, base_url=server.url, has_touch=True, device_scale_factor=2
            )
            page = other.new_page()
            page.goto(link)
            page.wait_for_selector("#save-shared")
            time.sleep(0.3)
            shot("9-shared-plan")
            other.close()
        finally:
            server.stop()


def pocket_screens(browser, out: Path, width: int) -> None:
    """The pocket screens: the two audio modes offered, pocket mode playing, and the pocket lock."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "data").mkdir()
        server = RunningServer(Path(scratch) / "data", Path(scratch) / "audio").start()
        try:
            context = browser.new_context(
                viewport={"width": width, "height": 844}, base_url=server.url, has_touch=True, device_scale_factor=2
            )
            page = context.new_page()
            page.on("pageerror", lambda error: print("page error:", error))
            shot = lambda name: page.screenshot(path=str(out / f"{name}-{width}.png"))  # noqa: E731
            page.goto("/")
            evening = create_plan(page, "Evening intervals", EVENING)
            page.reload()
            page.locator(f'[data-plan="{evening["id"]}"]').click()
            confirm_safety(page)
            page.wait_for_selector("#start:not([disabled])", timeout=30_000)
            time.sleep(0.3)
            shot("p1-ready-modes")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            time.sleep(0.3)
            shot("p1b-ready-start")
            page.click("#start")
            page.wait_for_selector(".phase[data-kind=reverse]", timeout=20_000)
            time.sleep(2.3)
            shot("p2-player-pocket")
            page.get_by_role("button", name="Stop").click()
            page.get_by_role("button", name="Tap again").click()
            page.wait_for_selector("text=Workout stopped")

            page.goto("/#/")
            page.locator(f'[data-plan="{evening["id"]}"]').click()
            page.wait_for_selector("#start:not([disabled])", timeout=30_000)
            page.check("#mode-screen")
            page.click("#start")
            page.wait_for_selector(".pocket-lock:not([hidden])")
            page.wait_for_selector(".phase[data-kind=reverse]", timeout=20_000)
            time.sleep(1.3)
            shot("p3-pocket-lock")
            box = page.locator("#unlock").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            time.sleep(UNLOCK_HOLD_S / 2)
            shot("p4-pocket-lock-holding")
            time.sleep(UNLOCK_HOLD_S)
            page.mouse.up()
            page.wait_for_selector(".pocket-lock", state="hidden")
            time.sleep(0.3)
            shot("p5-player-screen-on-unlocked")
            context.close()
        finally:
            server.stop()


# Every kind of interval, short, so the player shows each phase word in turn.
ALL_KINDS = [
    {"kind": "warmup", "seconds": 20, "speed_mph": 2.5},
    {"kind": "forward", "seconds": 20, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 20, "speed_mph": 1.5},
    {"kind": "rest", "seconds": 20},
    {"kind": "cooldown", "seconds": 20, "speed_mph": 2.0},
]


def language_screens(browser, out: Path, size: dict, lang: str) -> None:
    """Every screen in one language, as a walker who uses it sees them."""
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "data").mkdir()
        server = RunningServer(
            Path(scratch) / "data",
            Path(scratch) / "audio",
            env={"RETROWALK_CUE_LEAD_MS": str(FAST_LEAD_MS), "RETROWALK_START_LEAD_MS": str(FAST_LEAD_MS)},
        ).start()
        try:
            context = browser.new_context(viewport=size, base_url=server.url, has_touch=True, device_scale_factor=2)
            page = context.new_page()
            page.on("pageerror", lambda error: print("page error:", error))
            tag = f"{lang}-{size['width']}x{size['height']}"
            shot = lambda name: page.screenshot(path=str(out / f"{tag}-{name}.png"))  # noqa: E731
            page.goto("/")
            page.request.put(
                "/api/settings",
                data=json.dumps({"lang": lang, "weight_kg": 72, "units": "kmh" if lang != "en" else "mph"}),
                headers={"Content-Type": "application/json"},
            )
            plan = create_plan(page, "Intervalos 5", ALL_KINDS)
            page.reload()
            page.click('[data-follow="knee-friendly"]')
            page.wait_for_selector(".up-next")
            time.sleep(0.3)
            shot("01-picker")
            page.click('[data-follow="first-steps"]')
            time.sleep(0.3)
            shot("02-follow-confirm")
            page.evaluate(
                "document.querySelector('li[data-programme=\"steady-balance\"]').scrollIntoView({block: 'start'})"
            )
            page.click('li[data-programme="steady-balance"] .link-btn')
            time.sleep(0.3)
            shot("03-programme-open")
            page.locator(f'.plan-card[data-plan="{plan["id"]}"]').click()
            page.wait_for_selector("#safety-0")
            time.sleep(0.3)
            shot("04-safety")
            for index in range(4):
                page.check(f"#safety-{index}")
            page.click("#safety-confirm")
            page.wait_for_selector("#start:not([disabled])", timeout=60_000)
            shot("05-ready")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            time.sleep(0.3)
            shot("05b-ready-start")
            page.check("#mode-pocket")
            page.click("#start")
            page.wait_for_selector(".phase")
            for index, kind in enumerate(k["kind"] for k in ALL_KINDS):
                page.wait_for_selector(f".phase[data-kind={kind}]", timeout=30_000)
                time.sleep(1.2)
                shot(f"06-player-{index}-{kind}")
                if kind == "reverse":
                    page.locator(".controls .btn-main").click()
                    time.sleep(0.4)
                    shot("07-player-paused")
                    page.locator(".controls .btn-main").click()
                if kind != "cooldown":
                    page.locator(".controls > button:nth-child(2)").click()  # Skip
            page.wait_for_selector("#summary-title", timeout=60_000)
            page.wait_for_selector("[data-calories]", timeout=10_000)
            time.sleep(0.5)
            shot("08-summary")
            for name, route, ready in [
                ("09-history", "/#/history", ".history li"),
                ("10-progress", "/#/progress", ".chart-weeks"),
                ("11-settings", "/#/settings", "#weight"),
            ]:
                page.goto(route)
                page.wait_for_selector(ready)
                time.sleep(0.4)
                shot(name)
            page.evaluate("document.querySelector('[data-setting=\"lang\"]').scrollIntoView({block: 'center'})")
            page.locator('[data-setting="countdown"] input[value="5"]').check(force=True)
            page.wait_for_selector('.save-status[data-tone="ok"]')
            time.sleep(0.3)
            shot("12-settings-saved")
            page.goto(f"/#/copy/{plan['id']}")
            page.wait_for_selector("#plan-name")
            time.sleep(0.4)
            shot("13-editor")
            page.locator(".seg-list > li:nth-child(2) input.length").fill("0:03")
            page.click("#save-plan")
            time.sleep(0.4)
            shot("14-editor-errors")
            page.goto("/#/edit/new")
            page.wait_for_selector("#plan-name")
            page.fill("#plan-name", "Plan")
            page.click("#share-plan")
            link = page.input_value("#share-link")
            page.goto(link)
            page.wait_for_selector("#save-shared")
            time.sleep(0.3)
            shot("15-shared")
            context.close()
        finally:
            server.stop()


def main() -> None:
    """Take the screenshots into --out."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/shots")
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--skip-summary", action="store_true", help="do not play the 80-second workout")
    parser.add_argument(
        "--coaching", action="store_true", help="the coaching screens: programmes, editor, settings, progress"
    )
    parser.add_argument(
        "--pocket", action="store_true", help="the screen-off screens: audio modes, pocket mode, the pocket lock"
    )
    parser.add_argument("--languages", help="every screen in these languages, e.g. es,de,fr,en")
    parser.add_argument("--height", type=int, default=844)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = {"width": args.width, "height": args.height}
    if args.languages:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
            for lang in args.languages.split(","):
                language_screens(browser, out, size, lang)
            browser.close()
        for path in sorted(out.glob("*.png")):
            print(path)
        return
    if args.coaching or args.pocket:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
            (pocket_screens if args.pocket else coaching_screens)(browser, out, args.width)
            browser.close()
        for path in sorted(out.glob("*.png")):
            print(path)
        return
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "data").mkdir()
        server = RunningServer(Path(scratch) / "data", Path(scratch) / "audio").start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=size, base_url=server.url, has_touch=True, device_scale_factor=2)
                page = context.new_page()
                page.on("pageerror", lambda error: print("page error:", error))
                shot = lambda name: page.screenshot(path=str(out / f"{name}-{args.width}.png"))  # noqa: E731
                page.goto("/")
                evening = create_plan(page, "Evening intervals", EVENING)
                short = create_plan(page, "Quick check", SHORT)
                page.reload()
                page.wait_for_selector(".plan-card")
                time.sleep(0.5)
                shot("1-picker")
                page.locator(f'[data-plan="{evening["id"]}"]').click()
                page.wait_for_selector("#safety-0")
                page.check("#safety-0")
                page.check("#safety-1")
                shot("2-safety")
                confirm_safety(page)
                page.wait_for_selector("#start:not([disabled])", timeout=30_000)
                shot("3-ready")
                page.click("#start")
                page.wait_for_selector(".phase")
                time.sleep(1)
                shot("4a-player-warmup")
                page.wait_for_selector(".phase[data-kind=reverse]", timeout=20_000)
                time.sleep(12.3)
                shot("4b-player-reverse")
                page.get_by_role("button", name="Pause").click()
                time.sleep(0.5)
                shot("4c-player-paused")
                page.get_by_role("button", name="Resume").click()
                page.get_by_role("button", name="Skip").click()
                page.wait_for_selector(".phase[data-kind=forward]", timeout=10_000)
                time.sleep(0.6)
                shot("4d-player-forward")
                page.get_by_role("button", name="Stop").click()
                shot("4e-player-stop-confirm")
                page.get_by_role("button", name="Tap again").click()
                page.wait_for_selector("text=Workout stopped")
                shot("5a-summary-stopped")
                if not args.skip_summary:
                    page.goto("/#/")
                    page.locator(f'[data-plan="{short["id"]}"]').click()
                    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
                    page.click("#start")
                    page.wait_for_selector("text=Workout complete", timeout=120_000)
                    time.sleep(0.5)
                    shot("5b-summary-complete")
                page.click("text=See history")
                page.wait_for_selector(".history li")
                shot("6-history")
                context.close()
                desktop = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=server.url)
                page = desktop.new_page()
                page.goto("/")
                page.wait_for_selector("#phone-qr[src]")
                time.sleep(0.5)
                page.screenshot(path=str(out / "7-desktop-qr.png"))
                browser.close()
        finally:
            server.stop()
    for path in sorted(out.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
