"""Device settings: defaults, partial changes, and one clear sentence per bad field."""

import pytest

from server.cues import CueOptions, CueOptionsInvalid, parse_cue_options
from server.settings import (
    Settings,
    SettingsInvalid,
    apply_changes,
    from_stored,
    start_programme,
    valid_timezone,
)


def test_a_new_device_starts_from_the_defaults():
    assert Settings().to_dict() == {
        "units": "mph",
        "weight_kg": None,
        "countdown": 3,
        "halfway": True,
        "time_remaining": True,
        "lang": "en",
        "timezone": None,
        "programme": None,
        "audio_mode": "pocket",
    }


def test_changes_touch_only_the_fields_sent():
    changed = apply_changes(Settings(), {"units": "kmh", "weight_kg": 72.25, "timezone": "Europe/Madrid"})
    assert (changed.units, changed.weight_kg, changed.timezone) == ("kmh", 72.2, "Europe/Madrid")
    assert changed.lang == "en" and changed.countdown == 3
    again = apply_changes(changed, {"lang": "es"})
    assert (again.units, again.lang) == ("kmh", "es")


def test_null_clears_the_optional_fields():
    chosen = apply_changes(Settings(), {"weight_kg": 80, "timezone": "UTC", "programme": "first-steps"})
    cleared = apply_changes(chosen, {"weight_kg": None, "timezone": None, "programme": None})
    assert cleared == Settings()


def test_cue_options_come_from_the_settings():
    chosen = apply_changes(Settings(), {"countdown": 10, "halfway": False, "lang": "de", "units": "kmh"})
    assert chosen.cue_options() == CueOptions(countdown=10, halfway=False, time_remaining=True, lang="de", units="kmh")


@pytest.mark.parametrize(
    "option",
    [
        {"countdown": 4},
        {"countdown": 3.0},
        {"countdown": True},
        {"halfway": "yes"},
        {"time_remaining": 1},
        {"lang": "it"},
        {"lang": ["en"]},
        {"units": "knots"},
    ],
)
def test_a_cue_option_is_refused_with_the_same_sentence_in_settings_and_for_a_new_session(option):
    with pytest.raises(SettingsInvalid) as in_settings:
        apply_changes(Settings(), option)
    with pytest.raises(CueOptionsInvalid) as for_a_session:
        parse_cue_options(option, Settings().cue_options())
    assert in_settings.value.problems == [for_a_session.value.message]


def test_a_new_session_takes_the_settings_options_it_is_not_given():
    chosen = apply_changes(Settings(), {"countdown": 10, "lang": "fr"}).cue_options()
    assert parse_cue_options(None, chosen) == chosen
    assert parse_cue_options({"halfway": False}, chosen) == CueOptions(countdown=10, halfway=False, lang="fr")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"units": "knots"}, 'Units must be "mph" or "kmh"'),
        ({"weight_kg": 10}, "from 25 to 300"),
        ({"weight_kg": 301}, "from 25 to 300"),
        ({"weight_kg": "70"}, "from 25 to 300"),
        ({"weight_kg": True}, "from 25 to 300"),
        ({"countdown": 4}, "one of 0, 3, 5, 10"),
        ({"countdown": True}, "one of 0, 3, 5, 10"),
        ({"halfway": "yes"}, "halfway must be true or false"),
        ({"time_remaining": 1}, "time_remaining must be true or false"),
        ({"lang": "it"}, "en, es, de, fr"),
        ({"timezone": "Mars/Olympus"}, "IANA name"),
        ({"timezone": "../../etc/passwd"}, "IANA name"),
        ({"timezone": ["UTC"]}, "IANA name"),
        ({"programme": "couch-to-marathon"}, "first-steps"),
        ({"programme": ["first-steps"]}, "first-steps"),
        ({"colour": "blue"}, "Unknown setting(s): colour"),
        ({"audio_mode": "loud"}, "pocket, screen"),
        ({"audio_mode": None}, "pocket, screen"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(change, message):
    with pytest.raises(SettingsInvalid) as caught:
        apply_changes(Settings(), change)
    assert message in str(caught.value)


def test_every_bad_field_is_named_at_once():
    with pytest.raises(SettingsInvalid) as caught:
        apply_changes(Settings(), {"units": "knots", "lang": "it"})
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize("body", [None, [], "kmh", 3])
def test_settings_must_be_an_object(body):
    with pytest.raises(SettingsInvalid):
        apply_changes(Settings(), body)


def test_time_zones_are_iana_names():
    assert valid_timezone("America/New_York") and valid_timezone("UTC")
    assert not valid_timezone("") and not valid_timezone("America") and not valid_timezone(None)


def test_stored_settings_survive_a_round_trip_and_bad_stored_values_fall_back():
    chosen = start_programme(apply_changes(Settings(), {"units": "kmh"}), "knee-friendly", 1234)
    again = from_stored(chosen.to_stored())
    assert again == chosen and again.programme_starts == {"knee-friendly": 1234}
    assert "programme_starts" not in again.to_dict()
    assert from_stored({"units": "knots", "lang": "fr", "retired": 1}) == Settings(lang="fr")
    assert from_stored("not a dict") == Settings()


def test_starting_a_programme_follows_it_and_remembers_when():
    started = start_programme(Settings(), "first-steps", 99)
    assert started.programme == "first-steps" and started.programme_starts == {"first-steps": 99}
