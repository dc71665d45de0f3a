"""The programmes, their workouts and the calorie notes reach the walker in their own language."""

from __future__ import annotations

import pytest

from server import create_app, stats
from server.phrases import LANGUAGES
from server.programme_texts import PATTERNS, TEXTS, localize_programme, localize_text
from server.programmes import _ALIAS_TEXT, PROGRAMMES


@pytest.fixture
def client(tmp_path):
    """A client of an app on a temporary database, never calling Google's voice."""
    app = create_app(
        {"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(tmp_path / "audio"), "GTTS_ENABLED": False}
    )
    return app.test_client()


def english_texts() -> set[str]:
    """Every text of the programmes and notes a walker reads."""
    texts = {stats.CALORIES_NOTE, stats.CALORIES_NEED_WEIGHT}
    for programme in PROGRAMMES.values():
        texts |= {programme.name, programme.description, programme.audience, *(w.why for w in programme.workouts)}
    for name, description in _ALIAS_TEXT.values():
        texts |= {name, description}
    return texts


def test_every_programme_text_has_a_translation_in_every_language():
    missing = sorted(english_texts() - set(TEXTS))
    assert not missing, f"no translation for {missing}"
    for english, translations in {**TEXTS, **PATTERNS}.items():
        assert len(translations) == len(LANGUAGES) - 1 and all(t.strip() and t != english for t in translations), (
            english
        )
        # A speed the walker's units convert must stay "N mph" in every language.
        assert all(t.count(" mph") == english.count(" mph") for t in translations), english


def test_a_spanish_walker_in_kmh_reads_spanish_with_their_speeds_and_decimal_comma():
    view = localize_programme(PROGRAMMES["first-steps"].to_dict("mph"), "kmh", "es")
    assert view["name"] == "Primeros pasos hacia atrás"
    assert "menos de 3,2 km/h hacia 3,2-4,8 km/h" in view["description"] and "mph" not in view["description"]
    assert view["workouts"][4]["label"] == "Semana 2, sesión 2"
    assert view["workouts"][0]["plan"]["name"] == "Primeros pasos hacia atrás: semana 1, sesión 1"
    assert localize_text(
        "Three-minute bouts at 2.2 mph: backward walking starts to feel like work. Form first; "
        "slow down if you wobble.",
        "mph",
        "de",
    ).startswith("Drei-Minuten-Abschnitte bei 2,2 mph")


def test_the_api_speaks_the_devices_language_and_lang_overrides_it(client):
    assert client.put("/api/settings", json={"lang": "fr"}).status_code == 200
    answer = client.get("/api/programmes").json
    quick = next(p for p in answer["programmes"] if p["id"] == "quick-mix")
    assert quick["name"] == "Mix rapide" and quick["workouts"][0]["label"] == "Séance 1 sur 3"
    assert quick["progress"]["label"] == "Séance 1 sur 3"
    plans = {plan["id"]: plan for plan in client.get("/api/plans").json}
    assert plans["quick-mix-10"]["name"] == "Mix rapide : 10 minutes"
    assert plans["knee-friendly-10"]["name"] == "Doux pour les genoux 10"
    english = client.get("/api/programmes?lang=en").json["programmes"][0]
    assert english["name"] == "First steps backward" and english["workouts"][0]["label"] == "Week 1, session 1"
    assert client.get("/api/stats/week?lang=de").json["calories_note"] == TEXTS[stats.CALORIES_NEED_WEIGHT][1]


def test_an_unknown_language_is_a_400_not_english(client):
    response = client.get("/api/programmes?lang=it")
    assert response.status_code == 400 and response.json["error"] == "invalid_lang"
