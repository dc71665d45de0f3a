"""Screenshots of every screen at phone size, to look at the app as a walker would.

    python tests/browser_screenshots.py [--out /tmp/shots] [--width 390]

Starts its own server, walks through picker, safety check, get ready, player (mid-workout
and paused), summary and history, plus the desktop page with its QR code. Takes about
two minutes (the summary comes from a real 80-second workout).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import CHROMIUM_ARGS, CHROMIUM_PATH, confirm_safety, create_plan  # noqa: E402
from conftest import RunningServer  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

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


def main() -> None:
    """Take the screenshots into --out."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/shots")
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--skip-summary", action="store_true", help="do not play the 80-second workout")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = {"width": args.width, "height": 844}
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
