"""The phone app speaks the walker's language: every English text translated, same places, tables loaded when needed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from i18n_support import JS, LANGUAGES, PARTS, core_modules, keys_by_part, placeholders, read_table

KEYS = keys_by_part()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("part", PARTS)
def test_every_text_of_the_app_has_a_translation_with_the_same_places(lang, part):
    table = read_table(lang, part)
    assert KEYS[part], "no texts found: the extraction is broken"
    missing = sorted(KEYS[part] - set(table))
    assert not missing, f"{lang}-{part}.js lacks {missing}"
    stale = sorted(set(table) - KEYS[part])
    assert not stale, f"{lang}-{part}.js translates texts the app no longer has: {stale}"
    for english, translated in table.items():
        assert translated.strip(), f"{lang}: empty translation of {english!r}"
        assert placeholders(translated) == placeholders(english), f"{lang}: {english!r} -> {translated!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_are_not_left_in_english(lang):
    """Words may coincide ("Start" in German, "Programmes" in French), but most sentences cannot."""
    table = {**read_table(lang, "core"), **read_table(lang, "more")}
    same = [english for english, translated in table.items() if english == translated and len(english.split()) > 2]
    assert not same, f"{lang} sentences still in English: {same}"


def test_the_string_tables_load_with_their_language_not_with_the_page():
    """An English phone loads no table; a table is imported by name at run time, never statically."""
    loaded = {path.relative_to(JS).as_posix() for path in core_modules()}
    assert "i18n.js" in loaded
    assert not [path for path in loaded if path.startswith("i18n/")], "a string table loads with the page"
    # The core of the mechanism stays small: it is part of every first load.
    assert len((JS / "i18n.js").read_bytes()) < 6 * 1024


NODE = shutil.which("node")
PROBE = """
import * as i18n from "%s";
import * as workout from "%s";
await i18n.useLanguage("de");
const out = {
  plural: [i18n.plural(1, "{n} week", "{n} weeks"), i18n.plural(3, "{n} week", "{n} weeks")],
  number: i18n.number(2.5), speed: workout.speedText(1.5, "kmh"), kind: workout.kindInfo("reverse"),
  missing: i18n.t("Not a key {x}", { x: 1 }),
};
await i18n.useLanguage("fr");
out.fr = [
  i18n.plural(0, "{n} session", "{n} sessions"),
  i18n.t("Week {week}, session {session}", { week: 2, session: 3 }),
];
await i18n.useLanguage("en");
out.en = [i18n.t("Pick a workout"), workout.kindInfo("cooldown").word];
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(NODE is None, reason="Node.js runs the string module; install nodejs to run this check")
def test_counts_numbers_and_kinds_read_naturally_in_each_language(tmp_path):
    probe = tmp_path / "probe.mjs"
    probe.write_text(PROBE % ((JS / "i18n.js").as_uri(), (JS / "workout.js").as_uri()))
    out = json.loads(subprocess.run([NODE, str(probe)], capture_output=True, text=True, check=True, timeout=30).stdout)
    assert out["plural"] == ["1 Woche", "3 Wochen"]
    assert out["number"] == "2,5" and out["speed"] == "2,4 km/h"
    assert out["kind"]["label"] == "Rückwärts" and out["kind"]["word"] == "RÜCKWÄRTS"
    assert out["missing"] == "Not a key 1"
    assert out["fr"] == ["0 séance", "Semaine 2, séance 3"]
    assert out["en"] == ["Pick a workout", "COOL-DOWN"]
