"""The closed set of phrases the coach can say, in every voice language it speaks."""

from __future__ import annotations

from .plans import MAX_SEGMENT_SECONDS, MAX_SPEED_MPH, MIN_SPEED_MPH, SEGMENT_KINDS

LANGUAGES = ("en", "es", "de", "fr")
UNITS = ("mph", "kmh")
KM_PER_MILE = 1.609344
# Countdowns are spoken one number a second; ten is the longest a walker can choose.
MAX_COUNTDOWN = 10
# Long segments hear how long is left at these whole minutes (see cues.remaining_marks).
REMAINING_STEP_MINUTES = 5

_TABLES: dict[str, dict] = {
    "en": {
        "switch": {
            "warmup": "Warm up. Walk forward at an easy pace.",
            "forward": "Switch to forward.",
            "reverse": "Switch to reverse.",
            "rest": "Rest. Hold the rail and breathe.",
            "cooldown": "Cool down. Walk forward, nice and easy.",
        },
        "numbers": ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"],
        "speed": {"mph": "Speed {n} miles per hour.", "kmh": "Speed {n} kilometres per hour."},
        "decimal": ".",
        "halfway": "Halfway there.",
        "one_minute": "One minute to go.",
        "minutes": "{n} minutes to go.",
        "complete": "Workout complete. Well done!",
    },
    "es": {
        "switch": {
            "warmup": "Calentamiento. Camina hacia delante a ritmo suave.",
            "forward": "Cambia a hacia delante.",
            "reverse": "Cambia a marcha atrás.",
            "rest": "Descansa. Sujétate a la barra y respira.",
            "cooldown": "Vuelta a la calma. Camina hacia delante, con calma.",
        },
        "numbers": ["Uno", "Dos", "Tres", "Cuatro", "Cinco", "Seis", "Siete", "Ocho", "Nueve", "Diez"],
        "speed": {"mph": "Velocidad {n} millas por hora.", "kmh": "Velocidad {n} kilómetros por hora."},
        "decimal": ",",
        "halfway": "Vas por la mitad.",
        "one_minute": "Queda un minuto.",
        "minutes": "Quedan {n} minutos.",
        "complete": "Entrenamiento completado. ¡Bien hecho!",
    },
    "de": {
        "switch": {
            "warmup": "Aufwärmen. Geh locker vorwärts.",
            "forward": "Wechsel auf vorwärts.",
            "reverse": "Wechsel auf rückwärts.",
            "rest": "Pause. Halte dich am Geländer fest und atme durch.",
            "cooldown": "Ausgehen. Geh ganz locker vorwärts.",
        },
        "numbers": ["Eins", "Zwei", "Drei", "Vier", "Fünf", "Sechs", "Sieben", "Acht", "Neun", "Zehn"],
        "speed": {"mph": "Tempo {n} Meilen pro Stunde.", "kmh": "Tempo {n} Kilometer pro Stunde."},
        "decimal": ",",
        "halfway": "Halbzeit.",
        "one_minute": "Noch eine Minute.",
        "minutes": "Noch {n} Minuten.",
        "complete": "Training geschafft. Gut gemacht!",
    },
    "fr": {
        "switch": {
            "warmup": "Échauffement. Marche en avant, tranquillement.",
            "forward": "On passe en marche avant.",
            "reverse": "On passe en marche arrière.",
            "rest": "Repos. Tiens la rampe et respire.",
            "cooldown": "Retour au calme. Marche en avant, doucement.",
        },
        "numbers": ["Un", "Deux", "Trois", "Quatre", "Cinq", "Six", "Sept", "Huit", "Neuf", "Dix"],
        "speed": {"mph": "Vitesse {n} miles à l'heure.", "kmh": "Vitesse {n} kilomètres à l'heure."},
        "decimal": ",",
        "halfway": "Mi-parcours.",
        "one_minute": "Encore une minute.",
        "minutes": "Encore {n} minutes.",
        "complete": "Séance terminée. Bravo !",
    },
}


class PhraseUnknown(Exception):
    """A language or unit the coach cannot speak."""


def _table(lang: str) -> dict:
    """The phrase table of one language."""
    try:
        return _TABLES[lang]
    except KeyError:
        raise PhraseUnknown(f"Voice language must be one of {', '.join(LANGUAGES)}.") from None


def switch(kind: str, lang: str = "en") -> str:
    """What the coach says when a segment of this kind begins."""
    return _table(lang)["switch"][kind]


def count(number: int, lang: str = "en") -> str:
    """One number of a countdown, with a full stop so each is spoken as its own word."""
    return _table(lang)["numbers"][number - 1] + "."


def speed_value(speed_mph: float, units: str) -> float:
    """A segment's speed in the walker's units, to the tenth the coach says."""
    if units not in UNITS:
        raise PhraseUnknown(f"Units must be one of {', '.join(UNITS)}.")
    return round(speed_mph * KM_PER_MILE, 1) if units == "kmh" else round(speed_mph, 1)


def speed(speed_mph: float, units: str = "mph", lang: str = "en") -> str:
    """The treadmill speed hint, in the walker's units and language."""
    table = _table(lang)
    # "2 miles per hour" reads better than "2.0"; tenths keep their digit.
    value = f"{speed_value(speed_mph, units):.1f}".removesuffix(".0").replace(".", table["decimal"])
    return table["speed"][units].format(n=value)


def halfway(lang: str = "en") -> str:
    """Said at the workout's midpoint."""
    return _table(lang)["halfway"]


def minutes_left(minutes: int, lang: str = "en") -> str:
    """How long is left of the current segment."""
    table = _table(lang)
    return table["one_minute"] if minutes == 1 else table["minutes"].format(n=minutes)


def complete(lang: str = "en") -> str:
    """Said when the workout ends."""
    return _table(lang)["complete"]


def all_speeds_mph() -> list[float]:
    """Every speed a plan may hold, in the tenths the coach speaks."""
    low, high = round(MIN_SPEED_MPH * 10), round(MAX_SPEED_MPH * 10)
    return [tenths / 10 for tenths in range(low, high + 1)]


def standard_phrases(lang: str = "en") -> list[str]:
    """Every phrase any plan can need in one language, for prerendering (in a stable order)."""
    phrases = [switch(kind, lang) for kind in SEGMENT_KINDS]
    phrases += [count(n, lang) for n in range(1, MAX_COUNTDOWN + 1)]
    phrases += [speed(mph, units, lang) for units in UNITS for mph in all_speeds_mph()]
    phrases.append(halfway(lang))
    longest = MAX_SEGMENT_SECONDS // 60
    phrases += [minutes_left(1, lang)] + [
        minutes_left(m, lang) for m in range(REMAINING_STEP_MINUTES, longest, REMAINING_STEP_MINUTES)
    ]
    phrases.append(complete(lang))
    return list(dict.fromkeys(phrases))
