"""The phone app is usable by everyone: keyboard only, screen readers, 320 px, contrast, reduced motion."""

from __future__ import annotations

import time

import pytest

from browser_support import UNLOCK_HOLD_S, confirm_safety, create_plan, wait_until

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
MIN_CONTRAST = 4.5
SHORT = [
    {"kind": "warmup", "seconds": 5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "cooldown", "seconds": 5},
]

# Every visible text against the colour actually behind it (background layers composited).
CONTRAST_JS = r"""
(minimum) => {
  const rgba = (c) => { const v = c.match(/[\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const lum = ([r, g, b]) => [r, g, b]
    .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const over = (top, [r, g, b]) => [
    top[0] * top[3] + r * (1 - top[3]), top[1] * top[3] + g * (1 - top[3]), top[2] * top[3] + b * (1 - top[3]),
  ];
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = rgba(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
    for (let i = layers.length - 1; i >= 0; i -= 1) colour = over(layers[i], colour);
    return colour;
  };
  const failures = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".visually-hidden, [hidden], noscript, .skip-link")) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width === 0 || box.height === 0) continue;
    if (el.closest("button[disabled]")) continue;  // WCAG exempts inactive controls
    const bg = backdrop(el);
    const fg = over(rgba(style.color), bg);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < minimum) failures.push(`${el.textContent.trim().slice(0, 30)}: ${ratio.toFixed(2)}`);
  }
  return failures;
}
"""

# Controls a screen reader cannot name.
UNNAMED_JS = r"""
() => [...document.querySelectorAll("button, a[href], input, [role=button]")]
  .filter((el) => !el.closest("[hidden]"))
  .filter((el) => {
    if (el.getAttribute("aria-label") || el.textContent.trim()) return false;
    if (el.id && document.querySelector(`label[for="${el.id}"]`)) return false;
    return !el.closest("label");
  })
  .map((el) => el.outerHTML.slice(0, 80))
"""


def check_screen(page, name: str) -> None:
    """No sideways scrolling, every text readable, every control named."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width} px"
    assert page.evaluate(CONTRAST_JS, MIN_CONTRAST) == [], f"low contrast on {name}"
    assert page.evaluate(UNNAMED_JS) == [], f"unnamed controls on {name}"


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.browser(seconds=18)
def test_a_workout_by_keyboard_alone_at_320_px_readable_and_announced(phone_page, server):
    page = phone_page(server.url)
    page.set_viewport_size(NARROW)
    page.emulate_media(reduced_motion="reduce")
    page.goto("/")
    plan = create_plan(page, "Keyboard walk", SHORT)
    page.reload()
    page.wait_for_selector(".plan-card")
    check_screen(page, "picker")

    tab_to(page, f'[data-plan="{plan["id"]}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#safety-0")
    check_screen(page, "safety check")
    for index in range(4):
        tab_to(page, f"#safety-{index}")
        page.keyboard.press("Space")
    tab_to(page, "#safety-confirm")
    page.keyboard.press("Enter")

    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    check_screen(page, "get ready")
    assert page.evaluate("document.activeElement.id") == "start", "Start does not get the focus when it is ready"
    page.keyboard.press("Enter")  # a key press is a user gesture: it unlocks the sound as a tap does
    page.wait_for_selector(".phase")
    assert page.evaluate("getComputedStyle(document.querySelector('.phase')).transitionDuration") == "0s"
    wait_until(lambda: page.inner_text(".phase-name") == "REVERSE", 15, "never reached the reverse segment")
    check_screen(page, "player")
    wait_until(lambda: "Reverse" in page.inner_text("#announcer"), 3, "the phase change was not announced")
    assert page.get_attribute("#announcer", "aria-live") == "polite"

    assert page.evaluate("document.activeElement.textContent").strip() == "Pause"
    page.keyboard.press("Space")
    page.wait_for_selector(".phase-paused:text('PAUSED')")
    page.keyboard.press("Space")
    page.wait_for_selector("text=Workout complete", timeout=30_000)
    check_screen(page, "summary")
    assert page.evaluate("document.activeElement.id") == "summary-title"
    page.click("text=See history")
    page.wait_for_selector(".history li")
    check_screen(page, "history")
    assert not page.js_errors


def test_the_pocket_lock_at_320_px_is_readable_named_and_opens_from_the_keyboard_alone(phone_page, server):
    page = phone_page(server.url)
    page.set_viewport_size(NARROW)
    page.goto("/")
    plan = create_plan(page, "Locked walk", SHORT)
    page.reload()
    page.locator(f'[data-plan="{plan["id"]}"]').click()
    confirm_safety(page)
    page.wait_for_selector("#start:not([disabled])", timeout=30_000)
    check_screen(page, "get ready with the audio modes")
    page.check("#mode-screen")
    page.click("#start")
    page.wait_for_selector(".pocket-lock:not([hidden])")
    check_screen(page, "pocket lock")
    assert page.evaluate("document.activeElement.id") == "unlock", "the unlock button does not have the focus"
    # Nothing under the lock can be reached from the keyboard either.
    for _ in range(5):
        page.keyboard.press("Tab")
        assert not page.evaluate("Boolean(document.activeElement.closest('.player'))"), (
            "Tab reached a control under the lock"
        )
    tab_to(page, "#unlock")
    page.keyboard.down("Enter")
    time.sleep(UNLOCK_HOLD_S)
    page.keyboard.up("Enter")
    page.wait_for_selector(".pocket-lock", state="hidden")
    assert page.evaluate("document.activeElement.textContent").strip() == "Pause"
    check_screen(page, "player, screen-on mode")
    assert not page.js_errors
