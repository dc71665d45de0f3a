"""The closed set of phrases the coach can say, in every voice language it speaks.

Every phrase is built from a language's table by one of the functions below, so the set is
closed and can be prerendered: a speed is said to the tenth, a segment's length in the
natural words of `spoken_length` (rounded), minutes left at 1 and every 5.

The tables address the walker informally (tú, du, tu), as a coach at the treadmill would.
"""

from __future__ import annotations

from functools import lru_cache

from .plans import MAX_SEGMENT_SECONDS, MAX_SPEED_MPH, MIN_SEGMENT_SECONDS, MIN_SPEED_MPH, SEGMENT_KINDS

# The voice languages: the one list the settings, the voice, the programme texts and the CLI check against
# (web/js/i18n.js mirrors it).
LANGUAGES = ("en", "es", "de", "fr")
UNITS = ("mph", "kmh")
KM_PER_MILE = 1.609344
# Countdowns are spoken one number a second; ten is the longest a walker can choose.
MAX_COUNTDOWN = 10
# Long segments hear how long is left at these whole minutes (see cues._remaining_marks).
REMAINING_STEP_MINUTES = 5

# The phrase functions are pure over a closed set: cache them, since the compiler asks for the
# same few phrases thousands of times (bench/bench_cues.py).
PHRASE_CACHE_SIZE = 16_384

# How a segment's length is said when it starts: to 5 seconds under a minute, to the half
# minute under ten minutes, to the minute under twenty, then to 5 minutes (the countdown and
# the minutes-left cues give the exact end; a rounded length is what a coach would say).
SECONDS_STEP = 5
HALF_MINUTE_UNTIL_S = 10 * 60
WHOLE_MINUTE_UNTIL_S = 20 * 60
LONG_STEP_MINUTES = 5
SECONDS_PER_MINUTE = 60

# Segment kinds walked facing forward, for the first cue ("Start walking forward ...").
_FORWARD_START = {"warmup": "warmup", "forward": "forward", "cooldown": "forward", "reverse": "reverse", "rest": "rest"}

_TABLES: dict[str, dict] = {
    "en": {
        # The first cue of a walk: how to start, with the speed to set before the first step.
        "start": {
            "warmup": ("Warm up: start walking forward at an easy pace.", "Warm up: start walking forward at {speed}."),
            "forward": ("Start walking forward.", "Start walking forward at {speed}."),
            "reverse": ("Start walking backward, slowly.", "Start walking backward at {speed}."),
            "rest": ("Stand at the rail and breathe.", "Stand at the rail and breathe; belt at {speed}."),
        },
        # Every later segment: what comes and for how long.
        "switch": {
            "warmup": "Warm up, {length}. Walk forward at an easy pace.",
            "forward": "Switch to forward, {length}.",
            "reverse": "Switch to reverse, {length}.",
            "rest": "Rest, {length}. Hold the rail and breathe.",
            "cooldown": "Cool down, {length}. Walk forward, nice and easy.",
        },
        "seconds": "{n} seconds",
        "one_minute": "one minute",
        "one_and_half": "one and a half minutes",
        "n_and_half": "{n} and a half minutes",
        "minutes": "{n} minutes",
        "numbers": ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"],
        "unit": {"mph": ("mile per hour", "miles per hour"), "kmh": ("kilometre per hour", "kilometres per hour")},
        "slow": "Slow down to {speed}.",
        "faster": "Speed up to {speed}.",
        "set": "Set the speed to {speed}.",
        "decimal": ".",
        "halfway": "Halfway there.",
        # Minutes left, saying what ends: the segment, or (in the last one) the walk.
        "left": {
            "warmup": ("One minute left in the warm-up.", "{n} minutes left in the warm-up."),
            "forward": ("One minute left walking forward.", "{n} minutes left walking forward."),
            "reverse": ("One minute left walking backward.", "{n} minutes left walking backward."),
            "rest": ("One minute left of the rest.", "{n} minutes left of the rest."),
            "cooldown": ("One minute left in the cool-down.", "{n} minutes left in the cool-down."),
            "end": ("One minute to the end.", "{n} minutes to the end."),
        },
        "complete": "Workout complete. Well done!",
        "confirm": {"pause": "Paused.", "resume": "Resuming.", "skip": "Skipping ahead."},
    },
    "es": {
        "start": {
            "warmup": (
                "Calentamiento: empieza a caminar hacia delante a ritmo suave.",
                "Calentamiento: empieza a caminar hacia delante a {speed}.",
            ),
            "forward": ("Empieza a caminar hacia delante.", "Empieza a caminar hacia delante a {speed}."),
            "reverse": ("Empieza a caminar hacia atrás, despacio.", "Empieza a caminar hacia atrás a {speed}."),
            "rest": ("Quédate junto a la barra y respira.", "Quédate junto a la barra y respira; cinta a {speed}."),
        },
        "switch": {
            "warmup": "Calentamiento, {length}. Camina hacia delante a ritmo suave.",
            "forward": "Ahora hacia delante, {length}.",
            "reverse": "Ahora hacia atrás, {length}.",
            "rest": "Descanso, {length}. Sujétate a la barra y respira.",
            "cooldown": "Vuelta a la calma, {length}. Camina hacia delante, suavemente.",
        },
        "seconds": "{n} segundos",
        "one_minute": "un minuto",
        "one_and_half": "un minuto y medio",
        "n_and_half": "{n} minutos y medio",
        "minutes": "{n} minutos",
        "numbers": ["Uno", "Dos", "Tres", "Cuatro", "Cinco", "Seis", "Siete", "Ocho", "Nueve", "Diez"],
        "unit": {"mph": ("milla por hora", "millas por hora"), "kmh": ("kilómetro por hora", "kilómetros por hora")},
        "slow": "Baja la velocidad a {speed}.",
        "faster": "Sube la velocidad a {speed}.",
        "set": "Pon la velocidad a {speed}.",
        "decimal": ",",
        "halfway": "Vas por la mitad.",
        "left": {
            "warmup": ("Queda un minuto de calentamiento.", "Quedan {n} minutos de calentamiento."),
            "forward": ("Queda un minuto caminando hacia delante.", "Quedan {n} minutos caminando hacia delante."),
            "reverse": ("Queda un minuto caminando hacia atrás.", "Quedan {n} minutos caminando hacia atrás."),
            "rest": ("Queda un minuto de descanso.", "Quedan {n} minutos de descanso."),
            "cooldown": ("Queda un minuto de vuelta a la calma.", "Quedan {n} minutos de vuelta a la calma."),
            "end": ("Queda un minuto para terminar.", "Quedan {n} minutos para terminar."),
        },
        "complete": "Entrenamiento completado. ¡Bien hecho!",
        "confirm": {"pause": "En pausa.", "resume": "Seguimos.", "skip": "Pasamos al siguiente tramo."},
    },
    "de": {
        "start": {
            "warmup": ("Aufwärmen: Geh locker vorwärts los.", "Aufwärmen: Geh mit {speed} vorwärts los."),
            "forward": ("Geh vorwärts los.", "Geh mit {speed} vorwärts los."),
            "reverse": ("Geh langsam rückwärts los.", "Geh mit {speed} rückwärts los."),
            "rest": (
                "Halte dich am Haltegriff fest und atme durch.",
                "Halte dich am Haltegriff fest und atme durch; Band auf {speed}.",
            ),
        },
        "switch": {
            "warmup": "Aufwärmen, {length}. Geh locker vorwärts.",
            "forward": "Jetzt vorwärts, {length}.",
            "reverse": "Jetzt rückwärts, {length}.",
            "rest": "Pause, {length}. Halte dich am Haltegriff fest und atme durch.",
            "cooldown": "Abwärmen, {length}. Geh ganz locker vorwärts.",
        },
        "seconds": "{n} Sekunden",
        "one_minute": "eine Minute",
        "one_and_half": "anderthalb Minuten",
        "n_and_half": "{word}einhalb Minuten",
        "minutes": "{n} Minuten",
        "numbers": ["Eins", "Zwei", "Drei", "Vier", "Fünf", "Sechs", "Sieben", "Acht", "Neun", "Zehn"],
        "unit": {
            "mph": ("Meile pro Stunde", "Meilen pro Stunde"),
            "kmh": ("Kilometer pro Stunde", "Kilometer pro Stunde"),
        },
        "slow": "Langsamer, auf {speed}.",
        "faster": "Schneller, auf {speed}.",
        "set": "Stell das Tempo auf {speed}.",
        "decimal": ",",
        "halfway": "Halbzeit.",
        "left": {
            "warmup": ("Noch eine Minute Aufwärmen.", "Noch {n} Minuten Aufwärmen."),
            "forward": ("Noch eine Minute vorwärts.", "Noch {n} Minuten vorwärts."),
            "reverse": ("Noch eine Minute rückwärts.", "Noch {n} Minuten rückwärts."),
            "rest": ("Noch eine Minute Pause.", "Noch {n} Minuten Pause."),
            "cooldown": ("Noch eine Minute Abwärmen.", "Noch {n} Minuten Abwärmen."),
            "end": ("Noch eine Minute bis zum Ende.", "Noch {n} Minuten bis zum Ende."),
        },
        "complete": "Training geschafft. Gut gemacht!",
        "confirm": {"pause": "Angehalten.", "resume": "Weiter geht's.", "skip": "Weiter zum nächsten Abschnitt."},
    },
    "fr": {
        "start": {
            "warmup": (
                "Échauffement : commence à marcher en avant, tranquillement.",
                "Échauffement : commence à marcher en avant à {speed}.",
            ),
            "forward": ("Commence à marcher en avant.", "Commence à marcher en avant à {speed}."),
            "reverse": ("Commence à marcher à reculons, doucement.", "Commence à marcher à reculons à {speed}."),
            "rest": ("Tiens la barre et respire.", "Tiens la barre et respire ; tapis à {speed}."),
        },
        "switch": {
            "warmup": "Échauffement, {length}. Marche en avant, tranquillement.",
            "forward": "Maintenant en avant, {length}.",
            "reverse": "Maintenant à reculons, {length}.",
            "rest": "Repos, {length}. Tiens la barre et respire.",
            "cooldown": "Retour au calme, {length}. Marche en avant, doucement.",
        },
        "seconds": "{n} secondes",
        "one_minute": "une minute",
        "one_and_half": "une minute et demie",
        "n_and_half": "{n} minutes et demie",
        "minutes": "{n} minutes",
        "numbers": ["Un", "Deux", "Trois", "Quatre", "Cinq", "Six", "Sept", "Huit", "Neuf", "Dix"],
        "unit": {"mph": ("mile à l'heure", "miles à l'heure"), "kmh": ("kilomètre à l'heure", "kilomètres à l'heure")},
        "slow": "Ralentis à {speed}.",
        "faster": "Accélère à {speed}.",
        "set": "Règle la vitesse à {speed}.",
        "decimal": ",",
        "halfway": "Tu es à mi-parcours.",
        "left": {
            "warmup": ("Encore une minute d'échauffement.", "Encore {n} minutes d'échauffement."),
            "forward": ("Encore une minute en avant.", "Encore {n} minutes en avant."),
            "reverse": ("Encore une minute à reculons.", "Encore {n} minutes à reculons."),
            "rest": ("Encore une minute de repos.", "Encore {n} minutes de repos."),
            "cooldown": ("Encore une minute de retour au calme.", "Encore {n} minutes de retour au calme."),
            "end": ("Encore une minute avant la fin.", "Encore {n} minutes avant la fin."),
        },
        "complete": "Séance terminée. Bravo !",
        "confirm": {"pause": "En pause.", "resume": "On reprend.", "skip": "On passe à la suite."},
    },
}

# German joins the number word to "einhalb" ("zweieinhalb Minuten"); digits would not.
_GERMAN_NUMBER_WORDS = {2: "zwei", 3: "drei", 4: "vier", 5: "fünf", 6: "sechs", 7: "sieben", 8: "acht", 9: "neun"}
# French counts a quantity below 2 as singular ("1,5 kilomètre à l'heure"); the others only 1.
_SINGULAR_BELOW = {"fr": 2.0}

CONFIRMATIONS = ("pause", "resume", "skip")


class PhraseUnknown(Exception):
    """A language or unit the coach cannot speak."""


def _table(lang: str) -> dict:
    """The phrase table of one language."""
    try:
        return _TABLES[lang]
    except KeyError:
        raise PhraseUnknown(f"Voice language must be one of {', '.join(LANGUAGES)}.") from None


def spoken_length(seconds: int) -> tuple[str, float]:
    """A segment's length as the coach rounds it: ("seconds"|"minutes", value); see SECONDS_STEP."""
    if seconds < SECONDS_PER_MINUTE - SECONDS_STEP / 2:
        return "seconds", max(SECONDS_STEP, int(seconds / SECONDS_STEP + 0.5) * SECONDS_STEP)
    if seconds < HALF_MINUTE_UNTIL_S - SECONDS_PER_MINUTE / 4:
        return "minutes", max(1.0, int(seconds / 30 + 0.5) / 2)
    if seconds < WHOLE_MINUTE_UNTIL_S - SECONDS_PER_MINUTE / 2:
        return "minutes", float(int(seconds / SECONDS_PER_MINUTE + 0.5))
    step = LONG_STEP_MINUTES * SECONDS_PER_MINUTE
    return "minutes", float(int(seconds / step + 0.5) * LONG_STEP_MINUTES)


def length_words(seconds: int, lang: str = "en") -> str:
    """A segment's length in natural words: "30 seconds", "one minute", "2 and a half minutes"."""
    table = _table(lang)
    unit, value = spoken_length(seconds)
    if unit == "seconds":
        return table["seconds"].format(n=int(value))
    whole, half = int(value), value != int(value)
    if whole == 1:
        return table["one_and_half"] if half else table["one_minute"]
    if half:
        return table["n_and_half"].format(n=whole, word=_GERMAN_NUMBER_WORDS.get(whole, str(whole)))
    return table["minutes"].format(n=whole)


@lru_cache(maxsize=PHRASE_CACHE_SIZE)
def start(kind: str, speed_mph: float | None, units: str = "mph", lang: str = "en") -> str:
    """The first cue of a walk: how to start, with the speed to set before the first step."""
    without, with_speed = _table(lang)["start"][_FORWARD_START[kind]]
    return without if speed_mph is None else with_speed.format(speed=speed_words(speed_mph, units, lang))


@lru_cache(maxsize=PHRASE_CACHE_SIZE)
def switch(kind: str, seconds: int, lang: str = "en") -> str:
    """What the coach says when a later segment begins: what comes and for how long."""
    return _table(lang)["switch"][kind].format(length=length_words(seconds, lang))


def count(number: int, lang: str = "en") -> str:
    """One number of a countdown, with a full stop so each is spoken as its own word."""
    return _table(lang)["numbers"][number - 1] + "."


def speed_value(speed_mph: float, units: str) -> float:
    """A segment's speed in the walker's units, to the tenth the coach says."""
    if units not in UNITS:
        raise PhraseUnknown(f"Units must be one of {', '.join(UNITS)}.")
    return round(speed_mph * KM_PER_MILE, 1) if units == "kmh" else round(speed_mph, 1)


def speed_words(speed_mph: float, units: str = "mph", lang: str = "en") -> str:
    """A speed with its unit in words, singular or plural as the language wants: "2.5 miles per hour"."""
    table = _table(lang)
    value = speed_value(speed_mph, units)
    # "2 miles per hour" reads better than "2.0"; tenths keep their digit.
    number = f"{value:.1f}".removesuffix(".0").replace(".", table["decimal"])
    singular, plural = table["unit"][units]
    return f"{number} {singular if value == 1 or value < _SINGULAR_BELOW.get(lang, 0) else plural}"


SPEED_CHANGES = ("slow", "faster", "set")


@lru_cache(maxsize=PHRASE_CACHE_SIZE)
def speed(speed_mph: float, units: str = "mph", lang: str = "en", change: str = "set") -> str:
    """The treadmill speed hint: "Slow down to ...", "Speed up to ..." or (speed unknown) "Set the speed to ..."."""
    return _table(lang)[change].format(speed=speed_words(speed_mph, units, lang))


def halfway(lang: str = "en") -> str:
    """Said at the workout's midpoint."""
    return _table(lang)["halfway"]


@lru_cache(maxsize=PHRASE_CACHE_SIZE)
def minutes_left(minutes: int, kind: str = "end", lang: str = "en") -> str:
    """How long is left, saying what ends: a segment of `kind`, or the walk ("end")."""
    one, many = _table(lang)["left"][kind]
    return one if minutes == 1 else many.format(n=minutes)


def complete(lang: str = "en") -> str:
    """Said when the workout ends."""
    return _table(lang)["complete"]


def confirmation(control: str, lang: str = "en") -> str:
    """The short phrase the phone plays when the walker pauses, resumes or skips."""
    return _table(lang)["confirm"][control]


def all_speeds_mph() -> list[float]:
    """Every speed a plan may hold, in the tenths the coach speaks."""
    low, high = round(MIN_SPEED_MPH * 10), round(MAX_SPEED_MPH * 10)
    return [tenths / 10 for tenths in range(low, high + 1)]


def all_spoken_lengths() -> list[int]:
    """One segment length (seconds) for every distinct way a length is said."""
    seen: dict[tuple[str, float], int] = {}
    for seconds in range(MIN_SEGMENT_SECONDS, MAX_SEGMENT_SECONDS + 1):
        seen.setdefault(spoken_length(seconds), seconds)
    return list(seen.values())


def standard_phrases(lang: str = "en") -> list[str]:
    """Every phrase any plan can need in one language, for prerendering (in a stable order)."""
    speeds = [None, *all_speeds_mph()]
    out = [start(kind, mph, units, lang) for kind in SEGMENT_KINDS for units in UNITS for mph in speeds]
    out += [switch(kind, seconds, lang) for kind in SEGMENT_KINDS for seconds in all_spoken_lengths()]
    out += [count(n, lang) for n in range(1, MAX_COUNTDOWN + 1)]
    out += [speed(mph, units, lang, change) for change in SPEED_CHANGES for units in UNITS for mph in all_speeds_mph()]
    out.append(halfway(lang))
    longest = MAX_SEGMENT_SECONDS // SECONDS_PER_MINUTE
    marks = [1, *range(REMAINING_STEP_MINUTES, longest, REMAINING_STEP_MINUTES)]
    out += [minutes_left(m, kind, lang) for kind in (*SEGMENT_KINDS, "end") for m in marks]
    out.append(complete(lang))
    out += [confirmation(control, lang) for control in CONFIRMATIONS]
    return list(dict.fromkeys(out))
