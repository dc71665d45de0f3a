"""Per-device settings: units, body weight, cue options, voice language, time zone, programme, audio mode.

Pure: validation and defaults over plain dicts; the API reads and writes the `settings`
table (one JSON row per device) at the edge.

A change is a partial update: the fields sent are changed, the others keep their value, and
`null` clears the optional ones (weight, time zone, programme). Unknown fields are refused,
so a typo never passes silently.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from .cues import CUE_OPTION_FIELDS, DEFAULT_COUNTDOWN, CueOptions, cue_option_problem
from .numbers import is_number
from .programmes import PROGRAMMES
from .refusals import Refusal

# Body weight only feeds the calorie estimate; outside this range it is surely a typo.
MIN_WEIGHT_KG = 25
MAX_WEIGHT_KG = 300
# IANA names are short ("America/Argentina/ComodRivadavia" is among the longest).
MAX_TIMEZONE_LENGTH = 64
# How the phone makes the sound: "pocket" plays the walk as one track (cues heard with the
# screen locked; other apps' music pauses), "screen" plays cue clips over the walker's music
# with the screen kept on and locked against touches.
AUDIO_MODES = ("pocket", "screen")
DEFAULT_AUDIO_MODE = "pocket"
# Stored beside the walker's fields in the same JSON row, but set only by the server.
PROGRAMME_STARTS_KEY = "programme_starts"


class SettingsInvalid(Refusal):
    """Settings a walker cannot choose; `problems` holds one sentence per field."""

    def __init__(self, problems: list[str]):
        """A 400 `invalid_settings` naming every problem, each also listed in `problems`."""
        super().__init__("invalid_settings", " ".join(problems), problems=problems)
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    """One device's choices, with the defaults a new device starts from."""

    units: str = "mph"
    weight_kg: float | None = None
    countdown: int = DEFAULT_COUNTDOWN
    halfway: bool = True
    time_remaining: bool = True
    lang: str = "en"
    timezone: str | None = None
    programme: str | None = None
    audio_mode: str = DEFAULT_AUDIO_MODE
    # When the walker (re)started each programme, epoch ms; progress counts from there.
    programme_starts: dict[str, int] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The walker's fields, as GET /api/settings shows them (and PUT accepts them back)."""
        out = asdict(self)
        out.pop(PROGRAMME_STARTS_KEY)
        return out

    def to_stored(self) -> dict[str, Any]:
        """Everything, as the settings row keeps it."""
        return asdict(self)

    def cue_options(self) -> CueOptions:
        """The cue options a new session of this device starts with."""
        return CueOptions(
            countdown=self.countdown,
            halfway=self.halfway,
            time_remaining=self.time_remaining,
            lang=self.lang,
            units=self.units,
        )


FIELDS = frozenset(Settings().to_dict())


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    """Every IANA time zone name this machine knows (read once)."""
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(name: Any) -> bool:
    """True for an IANA time zone name such as "Europe/Madrid" (never a file path)."""
    return isinstance(name, str) and len(name) <= MAX_TIMEZONE_LENGTH and name in _timezones()


def timezone_problem(name: Any) -> str | None:
    """The sentence saying what is wrong with a time zone name, or None when it is fine."""
    if valid_timezone(name):
        return None
    return 'The time zone must be an IANA name such as "Europe/Madrid" or "America/New_York".'


def _check(name: str, value: Any) -> tuple[Any, str | None]:
    """One field's value, normalised, or the sentence saying why it cannot be chosen."""
    if name in CUE_OPTION_FIELDS:
        problem = cue_option_problem(name, value)
        if problem is not None:
            return None, problem
    elif name == "weight_kg":
        if value is None:
            return None, None
        if not is_number(value) or not MIN_WEIGHT_KG <= value <= MAX_WEIGHT_KG:
            return None, f"Weight must be a number of kilograms from {MIN_WEIGHT_KG} to {MAX_WEIGHT_KG}, or null."
        return round(float(value), 1), None
    elif name == "timezone":
        if value is not None and not valid_timezone(value):
            return None, timezone_problem(value)
    elif name == "audio_mode":
        if value not in AUDIO_MODES:
            return (
                None,
                f"The audio mode must be one of {', '.join(AUDIO_MODES)} "
                '("pocket" plays one track, "screen" plays clips over your music).',
            )
    elif name == "programme" and value is not None and (not isinstance(value, str) or value not in PROGRAMMES):
        return None, f"The programme must be one of {', '.join(PROGRAMMES)}, or null."
    return value, None


def apply_changes(current: Settings, raw: Any) -> Settings:
    """`current` with the fields of `raw` changed, or SettingsInvalid naming every bad field."""
    if not isinstance(raw, dict):
        raise SettingsInvalid(['Settings must be a JSON object, such as {"units": "kmh"}.'])
    problems = []
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        problems.append(f"Unknown setting(s): {', '.join(map(str, unknown))}. Known: {', '.join(sorted(FIELDS))}.")
    changes = {}
    for name in sorted(set(raw) & FIELDS):
        value, problem = _check(name, raw[name])
        if problem:
            problems.append(problem)
        else:
            changes[name] = value
    if problems:
        raise SettingsInvalid(problems)
    return replace(current, **changes)


def from_stored(data: Any) -> Settings:
    """Settings from a stored row, keeping every field that is still valid (defaults for the rest)."""
    if not isinstance(data, dict):
        return Settings()
    kept = {}
    for name in FIELDS & set(data):
        value, problem = _check(name, data[name])
        if problem is None:
            kept[name] = value
    starts = data.get(PROGRAMME_STARTS_KEY)
    if isinstance(starts, dict):
        kept[PROGRAMME_STARTS_KEY] = {k: v for k, v in starts.items() if k in PROGRAMMES and is_number(v)}
    return Settings(**kept)


def start_programme(current: Settings, programme_id: str, now_ms: int) -> Settings:
    """Follow a programme from its first workout: progress counts completions from `now_ms`."""
    starts = {**current.programme_starts, programme_id: now_ms}
    return replace(current, programme=programme_id, programme_starts=starts)
