"""Every screen in the walker's language: with Spanish, German or French set, no English text is left.

The English texts are the keys of the app's string tables (tests/i18n_support.py). Each screen's
visible text, its visually hidden text (what a screen reader reads) and its accessible names
(aria-label, title, placeholder, alt) are compared with them; a text that is the same word in the
chosen language (German "Start", French "Programmes") is not English there.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from browser_support import create_plan, hold_to_unlock, wait_until
from i18n_support import keys_by_part, read_table

pytestmark = pytest.mark.browser

SHORT = [
    {"kind": "warmup", "seconds": 5, "speed_mph": 2.5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "rest", "seconds": 5},
    {"kind": "cooldown", "seconds": 5},
]
# Skip is tapped this often (a skip lands 0.5 s after the tap); the summary comes within a minute.
SKIP_EVERY_S = 0.6
SUMMARY_WITHIN_S = 60
# Names, brands and units that read the same in every language.
SAME_EVERYWHERE = {"RetroWalk", "CSV", "mph", "km/h", "kcal", "min", "OK", "UTC", "·", "…", "–"}
# Places in a text that hold words (a name, a date); every other place holds a figure.
WORD_PLACES = {
    "name",
    "label",
    "programme",
    "what",
    "reason",
    "kind",
    "language",
    "zone",
    "file",
    "interval",
    "kinds",
    "weight",
    "date",
    "start",
    "end",
    "unit",
}
FIGURE = r"#(?:\s?(?:min|s|kcal|km/h|mph))?(?:\s?–\s?#(?:\s?(?:min|s|kcal))?)?"

# Every text a walker or a screen reader meets on the page, with where it was found.
TEXTS_JS = r"""
() => {
  const out = [document.title];
  const hidden = (el) => el.closest("[hidden], script, style, noscript, template");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text && !hidden(node.parentElement)) out.push(text);
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], img[alt], [aria-valuetext]")) {
    if (hidden(el)) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt", "aria-valuetext"]) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
  }
  return out;
}
"""


def normalise(text: str) -> str:
    """Figures as "#", so "4:05 to go" and "12 to go" read alike."""
    return re.sub(r"\d+(?:[.,:]\d+)*", "#", text)


def english_patterns(lang: str) -> list[tuple[str, re.Pattern]]:
    """A pattern for each English text of the app that is not also the word of `lang`."""
    table = {**read_table(lang, "core"), **read_table(lang, "more")}
    keys = keys_by_part()
    patterns = []
    for english in sorted(keys["core"] | keys["more"]):
        if table.get(english) == english or english in SAME_EVERYWHERE:
            continue
        parts = re.split(r"\{(\w+)\}", normalise(english))
        regex = "".join(
            re.escape(part) if i % 2 == 0 else (".+" if part in WORD_PLACES else FIGURE) for i, part in enumerate(parts)
        )
        if re.fullmatch(r"[\s#.,:·–()]*", english.replace("{", "").replace("}", "")):
            continue
        patterns.append((english, re.compile(regex)))
    return patterns


def english_left(page, patterns, own_words: set[str]) -> list[str]:
    """The texts on the page that are one of the app's English texts (and not a text of the language itself)."""
    found = []
    for text in page.evaluate(TEXTS_JS):
        if text in own_words:
            continue  # German "Programme" (programmes) is not English "Programme"
        plain = normalise(text)
        for english, pattern in patterns:
            if pattern.fullmatch(plain):
                found.append(f"{text!r} (English {english!r})")
                break
    return found


@pytest.mark.browser(seconds=8)
@pytest.mark.parametrize("lang", ["es", "de", "fr"])
def test_every_screen_and_accessible_name_is_in_the_walkers_language(phone_page, server, lang):
    page = phone_page(server.url)
    patterns = english_patterns(lang)
    own_words = set({**read_table(lang, "core"), **read_table(lang, "more")}.values())
    problems: dict[str, list[str]] = {}

    def check(screen: str) -> None:
        left = english_left(page, patterns, own_words)
        assert page.evaluate("document.documentElement.lang") == lang, f"{screen}: lang attribute"
        if left:
            problems[screen] = left

    page.goto("/")
    put = page.request.put(
        "/api/settings",
        data=json.dumps({"lang": lang, "weight_kg": 70, "units": "kmh"}),
        headers={"Content-Type": "application/json"},
    )
    assert put.ok
    plan = create_plan(page, "Zz 7", SHORT)
    page.reload()
    # The picker is drawn at once in the language last known on this phone, then in the server's.
    page.wait_for_selector(f"html[lang={lang}]")
    page.wait_for_selector(".plan-card")
    page.click('[data-follow="first-steps"]')
    page.wait_for_selector(".up-next")
    for summary in page.locator("details summary").all():
        summary.click()
    for more in page.locator(".link-btn").all():
        more.click()
    check("picker")

    page.locator(f'.plan-card[data-plan="{plan["id"]}"]').click()
    page.wait_for_selector("#safety-0")
    check("safety check")
    confirm_safety_in_any_language(page)
    page.wait_for_selector("#start:not([disabled])", timeout=60_000)
    check("get ready")
    page.check("#mode-screen")
    page.click("#start")
    page.wait_for_selector(".pocket-lock:not([hidden])")
    check("pocket lock")
    hold_to_unlock(page)
    check("player")
    page.locator(".controls .btn-main").click()
    page.wait_for_selector(".phase-paused:not(:empty)")
    check("player paused")
    page.locator(".controls .btn-main").click()
    skip_to_the_summary(page)
    page.wait_for_selector('[data-calories="range"]', timeout=10_000)
    check("summary")

    page.goto("/#/history")
    page.wait_for_selector(".history li")
    check("history")
    page.goto("/#/progress")
    page.wait_for_selector(".chart-weeks")
    check("progress")
    # The definitions of a session that counts and a week on plan come from the server, in this language.
    on_plan = page.request.get("/api/stats/week").json()["definitions"]["on_plan_week"]
    assert on_plan in page.inner_text("#on-plan-definition") and "on plan" not in on_plan
    page.goto("/#/settings")
    page.wait_for_selector("#weight")
    page.locator('[data-setting="countdown"] input[value="5"]').check(force=True)
    page.wait_for_selector('.save-status[data-tone="ok"]')
    check("settings")
    page.goto(f"/#/copy/{plan['id']}")
    page.wait_for_selector("#plan-name")
    page.locator(".seg-list > li:nth-child(2) input.length").fill("0:03")
    page.click("#save-plan")
    page.wait_for_selector(".field-error:not([hidden])")
    check("editor with errors")
    page.goto("/#share=not-a-plan")
    page.wait_for_selector("#incoming-title")
    check("a broken shared link")
    assert not problems, "English left on screen:\n" + "\n".join(
        f"{screen}: {texts}" for screen, texts in problems.items()
    )
    assert not page.js_errors


def skip_to_the_summary(page) -> None:
    """Tap Skip (the controls' second button: its name is not English here) until the walk's summary shows.

    The walk ends complete as it would by walking it, a few seconds after Start instead of 20.
    """
    skip = page.locator(".controls > button:nth-child(2)")
    deadline = time.monotonic() + SUMMARY_WITHIN_S
    while not page.locator("#summary-title").count():
        assert time.monotonic() < deadline, "the walk did not end"
        try:
            if skip.count() and skip.is_enabled():
                skip.click(timeout=1_000)
        except PlaywrightTimeout:
            pass  # the player was replaced by the summary while tapping
        time.sleep(SKIP_EVERY_S)


def confirm_safety_in_any_language(page) -> None:
    """Tick the one-time safety check and confirm it, by its ids (its words are not English here)."""
    for index in range(4):
        page.check(f"#safety-{index}")
    page.click("#safety-confirm")


def test_an_english_phone_loads_no_strings_and_another_only_the_first_screens_strings(phone_page, server):
    page = phone_page(server.url)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto("/")
    page.wait_for_selector(".plan-card")
    assert not [url for url in fetched if "/js/i18n/" in url], "an English phone fetched a string table"
    page.request.put("/api/settings", data=json.dumps({"lang": "fr"}), headers={"Content-Type": "application/json"})
    fetched.clear()
    page.reload()
    page.wait_for_selector("html[lang=fr]")
    page.wait_for_selector("text=Choisis un entraînement")
    tables = sorted({url.rsplit("/", 1)[-1] for url in fetched if "/js/i18n/" in url})
    assert tables == ["fr-core.js"], f"the picker loaded {tables}"
    page.goto("/#/settings")
    page.wait_for_selector("text=Réglages")
    # Loaded after the first screen: under load it may still be on its way when Réglages shows.
    wait_until(
        lambda: any(url.endswith("/js/i18n/fr-more.js") for url in fetched), 10, "the later screens' strings never came"
    )
    assert not page.js_errors


# The player's phase word, drawn as player.js draws it (its length in --chars), in the app's CSS.
PHASE_WORD_JS = r"""
(word) => {
  const phase = document.createElement("section");
  phase.className = "phase";
  phase.dataset.kind = "cooldown";
  const name = document.createElement("h1");
  name.className = "phase-name";
  name.textContent = word;
  name.style.setProperty("--chars", String(Math.max(...word.split(/\s+/).map((w) => w.length), 4)));
  phase.append(name);
  document.body.dataset.screen = "player";  // the player's own layout (controllers/walk.js sets it)
  const player = document.createElement("div");
  player.className = "player";
  player.append(phase);
  document.getElementById("main").replaceChildren(player);
  const box = phase.getBoundingClientRect();
  const text = name.getBoundingClientRect();
  return { fits: text.left >= box.left && text.right <= box.right && name.scrollWidth <= name.clientWidth + 1,
           size: parseFloat(getComputedStyle(name).fontSize), width: text.width, room: box.width };
}
"""
KIND_LABELS = ("Warm-up", "Forward", "Reverse", "Rest", "Cool-down")


@pytest.mark.parametrize("size", [(320, 568), (390, 844), (768, 1024), (1024, 768), (1280, 860)])
def test_the_phase_word_fits_the_width_in_every_language(phone_page, server, size):
    page = phone_page(server.url)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/")
    page.wait_for_selector(".plan-card")
    words = {"en": list(KIND_LABELS)}
    for lang in ("es", "de", "fr"):
        table = read_table(lang, "core")
        words[lang] = [table[label] for label in KIND_LABELS]
    clipped = []
    for lang, labels in words.items():
        for label in labels:
            word = label.upper()
            result = page.evaluate(PHASE_WORD_JS, word)
            if not result["fits"]:
                clipped.append(f"{lang} {word}: {result}")
            # Big enough to read at arm's length on a treadmill, however long the word.
            assert result["size"] >= 24, f"{word} is only {result['size']} px at {size}"
    assert not clipped, f"clipped at {size}: {clipped}"


HTTPS_NOTE = (
    "Over plain http a phone can play workouts, but installing the app, keeping the screen awake and playing offline"
    " need https: serve it with a certificate (--certfile and --keyfile), or behind an https proxy or tunnel."
)


def test_the_desktop_phone_panel_follows_a_language_change_and_back_to_english(playwright_chromium, server):
    _, browser = playwright_chromium
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.request.put("/api/settings", data=json.dumps({"lang": "en"}), headers={"Content-Type": "application/json"})
    page.goto("/#/settings")
    note = page.locator("#phone-note")
    # The test server is plain http: the panel says what https would add.
    wait_until(lambda: "need https" in (note.text_content() or ""), 10, "the desktop's phone panel never came")
    french = read_table("fr", "more")[HTTPS_NOTE]
    page.locator('input[name="lang"][value="fr"]').check(force=True)
    page.wait_for_selector("html[lang=fr]")
    wait_until(lambda: french[:40] in (note.text_content() or ""), 10, "the panel's note stayed in English")
    assert page.locator("#phone-title").text_content() != "Take it to the gym"
    page.locator('input[name="lang"][value="en"]').check(force=True)
    page.wait_for_selector("html[lang=en]")
    wait_until(lambda: "need https" in (note.text_content() or ""), 10, "the panel stayed in French")
    assert page.locator('.tabs [data-tab="settings"] span').text_content() == "Settings"
    assert page.locator("#phone-title").text_content() == "Take it to the gym"
    assert page.locator("#phone-panel").count() == 1
    assert not errors
    context.close()
