"""The programmes' texts in the walker's language: names, descriptions, audiences, "why" texts and
session labels in Spanish, German and French, and the calorie notes of the stats.

The English texts of server/programmes.py and server/stats.py are the keys; a text without a
translation stays in English (tests/test_programme_texts.py fails when one is missing, so a
changed English text cannot slip through). Translations keep speeds written as "N mph" so
`programmes.in_units` turns them into the walker's units afterwards; then the decimal point of
a speed becomes the comma these languages write ("2,5 mph", "3,2 km/h").

Everything here is plain data and pure functions; the API calls `localize_programme`,
`localize_plan`, `localize_progress` and `localize_text` on what it is about to answer.
"""

from __future__ import annotations

import re

from .phrases import LANGUAGES
from .programmes import in_units

# Languages that write a decimal comma.
DECIMAL_COMMA = ("es", "de", "fr")
# A speed (or range of speeds) as `in_units` writes it: "2.5 mph", "3.2-4.8 km/h".
_SPEED = re.compile(r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)? (?:mph|km/h)")

# English text -> (Spanish, German, French). Informal address, as the app's screens speak.
TEXTS: dict[str, tuple[str, str, str]] = {
    # -- First steps backward --
    "First steps backward": ("Primeros pasos hacia atrás", "Erste Schritte rückwärts", "Premiers pas en arrière"),
    "Start with 5 minutes of backward walking in 1-minute bouts between forward walking, and build to 14 minutes "
    "in longer bouts over six weeks, from under 2 mph towards 2-3 mph. Start indoors or on a treadmill, clip the "
    "safety key and hold the rail.": (
        "Empieza con 5 minutos hacia atrás en tandas de 1 minuto entre tramos hacia delante y llega a 14 minutos en "
        "tandas más largas en seis semanas, de menos de 2 mph hacia 2-3 mph. Empieza en interior o en una cinta, "
        "engancha la llave de seguridad y agárrate a la barra.",
        "Beginne mit 5 Minuten Rückwärtsgehen in 1-Minuten-Abschnitten zwischen Vorwärtsstrecken und steigere dich "
        "in sechs Wochen auf 14 Minuten in längeren Abschnitten, von unter 2 mph auf 2-3 mph. Fang drinnen oder auf "
        "dem Laufband an, klemm den Sicherheitsschlüssel an und halt dich am Griff fest.",
        "Commence par 5 minutes de marche arrière en séries d’une minute entre des passages en avant, puis monte à "
        "14 minutes en séries plus longues sur six semaines, de moins de 2 mph vers 2-3 mph. Commence en intérieur "
        "ou sur un tapis, accroche la clé de sécurité et tiens la barre.",
    ),
    "Anyone new to backward walking": (
        "Para quien empieza a caminar hacia atrás",
        "Für alle, die neu im Rückwärtsgehen sind",
        "Pour qui découvre la marche arrière",
    ),
    "Five 1-minute bouts under 2 mph: short enough to keep your form while your balance learns the new direction. "
    "Hold the rail.": (
        "Cinco tandas de 1 minuto por debajo de 2 mph: lo bastante cortas para mantener la técnica mientras tu "
        "equilibrio aprende la nueva dirección. Agárrate a la barra.",
        "Fünf 1-Minuten-Abschnitte unter 2 mph: kurz genug, um sauber zu gehen, während dein Gleichgewicht die neue "
        "Richtung lernt. Halt dich am Griff fest.",
        "Cinq séries d’une minute sous 2 mph : assez courtes pour garder une bonne posture pendant que ton équilibre "
        "apprend ce nouveau sens. Tiens la barre.",
    ),
    "One more 1-minute bout, a touch faster: six minutes backward. Add slowly.": (
        "Una tanda de 1 minuto más, un poco más rápido: seis minutos hacia atrás. Sube poco a poco.",
        "Ein 1-Minuten-Abschnitt mehr, einen Tick schneller: sechs Minuten rückwärts. Steigere langsam.",
        "Une série d’une minute en plus, un peu plus vite : six minutes en arrière. Augmente doucement.",
    ),
    "Longer 2-minute bouts let your stride settle into a rhythm. Still under 2 mph.": (
        "Tandas más largas de 2 minutos para que tu paso encuentre su ritmo. Aún por debajo de 2 mph.",
        "Längere 2-Minuten-Abschnitte lassen deinen Schritt in einen Rhythmus finden. Weiter unter 2 mph.",
        "Des séries plus longues de 2 minutes pour que ta foulée trouve son rythme. Toujours sous 2 mph.",
    ),
    "Ten minutes backward, the amount that brings benefits when done a few times a week.": (
        "Diez minutos hacia atrás, la cantidad que aporta beneficios si la haces varias veces por semana.",
        "Zehn Minuten rückwärts: die Menge, die wirkt, wenn du sie ein paar Mal pro Woche gehst.",
        "Dix minutes en arrière, la dose qui apporte des bienfaits quand tu la fais quelques fois par semaine.",
    ),
    "Three-minute bouts at 2.2 mph: backward walking starts to feel like work. Form first; slow down if you wobble.": (
        "Tandas de tres minutos a 2.2 mph: caminar hacia atrás empieza a costar. Primero la técnica; baja el ritmo "
        "si te tambaleas.",
        "Drei-Minuten-Abschnitte bei 2.2 mph: Rückwärtsgehen wird zur Arbeit. Technik zuerst; werde langsamer, "
        "wenn du wackelst.",
        "Séries de trois minutes à 2.2 mph : la marche arrière commence à demander un effort. La posture d’abord ; "
        "ralentis si tu vacilles.",
    ),
    "Fourteen minutes backward in long bouts: inside the 10-15 minutes a session that is enough to feel the "
    "benefits.": (
        "Catorce minutos hacia atrás en tandas largas: dentro de los 10-15 minutos por sesión que bastan para notar "
        "los beneficios.",
        "Vierzehn Minuten rückwärts in langen Abschnitten: innerhalb der 10-15 Minuten pro Einheit, die für spürbare "
        "Wirkung reichen.",
        "Quatorze minutes en arrière en longues séries : dans les 10-15 minutes par séance qui suffisent à en sentir "
        "les bienfaits.",
    ),
    # -- Knee-friendly --
    "Knee-friendly": ("Cuida tus rodillas", "Knieschonend", "Doux pour les genoux"),
    "Ten minutes of backward walking at a comfortable speed, three times a week for six weeks: the dose that "
    "reduced knee pain and disability in trials. Ask a physical therapist if you are unsure.": (
        "Diez minutos hacia atrás a una velocidad cómoda, tres veces por semana durante seis semanas: la dosis que "
        "redujo el dolor y la discapacidad de rodilla en ensayos. Consulta a un fisioterapeuta si tienes dudas.",
        "Zehn Minuten Rückwärtsgehen in angenehmem Tempo, dreimal pro Woche über sechs Wochen: die Dosis, die in "
        "Studien Knieschmerzen und Einschränkungen verringert hat. Frag eine Physiotherapeutin, wenn du unsicher bist.",
        "Dix minutes de marche arrière à une vitesse confortable, trois fois par semaine pendant six semaines : la "
        "dose qui a réduit la douleur et la gêne au genou dans les études. Demande conseil à un kiné en cas de doute.",
    ),
    "People with sore knees or knee osteoarthritis": (
        "Para quien tiene molestias o artrosis de rodilla",
        "Für Menschen mit Knieschmerzen oder Kniearthrose",
        "Pour les genoux douloureux ou l’arthrose du genou",
    ),
    "Ten minutes backward in two halves with a short rest: the dose that eased knee pain in trials. 1.5 mph is a "
    "hint; walk at the speed that feels comfortable.": (
        "Diez minutos hacia atrás en dos mitades con un breve descanso: la dosis que alivió el dolor de rodilla en "
        "ensayos. 1.5 mph es orientativo; camina a la velocidad que te resulte cómoda.",
        "Zehn Minuten rückwärts in zwei Hälften mit kurzer Pause: die Dosis, die in Studien Knieschmerzen gelindert "
        "hat. 1.5 mph ist ein Richtwert; geh in dem Tempo, das sich angenehm anfühlt.",
        "Dix minutes en arrière en deux moitiés avec un court repos : la dose qui a soulagé la douleur au genou dans "
        "les études. 1.5 mph est indicatif ; marche à la vitesse qui te semble confortable.",
    ),
    "The same ten minutes in one go, at your comfortable speed. Stop if your knee hurts.": (
        "Los mismos diez minutos de una vez, a tu velocidad cómoda. Para si te duele la rodilla.",
        "Dieselben zehn Minuten am Stück, in deinem angenehmen Tempo. Hör auf, wenn dein Knie schmerzt.",
        "Les mêmes dix minutes d’un coup, à ta vitesse confortable. Arrête-toi si ton genou fait mal.",
    ),
    # -- Steady balance --
    "Steady balance": ("Equilibrio firme", "Sicheres Gleichgewicht", "Équilibre stable"),
    "Ten gentle sessions for older walkers: short, slow backward bouts with a rest at the rail after each, growing "
    "from 2 to 6 minutes backward. Backward walking trains balance and body control; progress gently.": (
        "Diez sesiones suaves para personas mayores: tandas cortas y lentas hacia atrás con un descanso en la barra "
        "después de cada una, de 2 a 6 minutos hacia atrás. Caminar hacia atrás entrena el equilibrio y el control "
        "del cuerpo; avanza con calma.",
        "Zehn sanfte Einheiten für Ältere: kurze, langsame Rückwärtsabschnitte mit einer Pause am Griff nach jedem, "
        "von 2 auf 6 Minuten rückwärts. Rückwärtsgehen trainiert Gleichgewicht und Körperkontrolle; steigere dich "
        "behutsam.",
        "Dix séances douces pour les seniors : de courtes séries lentes en arrière avec un repos à la barre après "
        "chacune, de 2 à 6 minutes en arrière. La marche arrière travaille l’équilibre et le contrôle du corps ; "
        "progresse en douceur.",
    ),
    "Older walkers": ("Personas mayores", "Ältere Gehende", "Marcheurs seniors"),
    "Four 30-second bouts, very slow, each followed by a rest at the rail.": (
        "Cuatro tandas de 30 segundos, muy lentas, cada una seguida de un descanso en la barra.",
        "Vier 30-Sekunden-Abschnitte, sehr langsam, nach jedem eine Pause am Griff.",
        "Quatre séries de 30 secondes, très lentes, chacune suivie d’un repos à la barre.",
    ),
    "Bouts of 45 seconds. Small steps are fine; keep a hand on the rail.": (
        "Tandas de 45 segundos. Los pasos cortos están bien; deja una mano en la barra.",
        "Abschnitte von 45 Sekunden. Kleine Schritte sind in Ordnung; lass eine Hand am Griff.",
        "Des séries de 45 secondes. Les petits pas, c’est très bien ; garde une main sur la barre.",
    ),
    "One-minute bouts at 1 mph, with a rest after each.": (
        "Tandas de un minuto a 1 mph, con un descanso después de cada una.",
        "1-Minuten-Abschnitte bei 1 mph, nach jedem eine Pause.",
        "Séries d’une minute à 1 mph, avec un repos après chacune.",
    ),
    "Five one-minute bouts: five minutes backward in all.": (
        "Cinco tandas de un minuto: cinco minutos hacia atrás en total.",
        "Fünf 1-Minuten-Abschnitte: insgesamt fünf Minuten rückwärts.",
        "Cinq séries d’une minute : cinq minutes en arrière en tout.",
    ),
    "Ninety-second bouts: six minutes backward, still slow and steady.": (
        "Tandas de noventa segundos: seis minutos hacia atrás, aún despacio y con calma.",
        "90-Sekunden-Abschnitte: sechs Minuten rückwärts, weiter langsam und ruhig.",
        "Séries de quatre-vingt-dix secondes : six minutes en arrière, toujours lentement et sûrement.",
    ),
    # -- Quick mix --
    "Quick mix": ("Mezcla rápida", "Schneller Mix", "Mix rapide"),
    "Ten, twenty and thirty-minute sessions that alternate forward and backward walking, for variety. Offered in "
    "turn, round and round.": (
        "Sesiones de diez, veinte y treinta minutos que alternan caminar hacia delante y hacia atrás, para variar. "
        "Se proponen por turnos, una y otra vez.",
        "Einheiten von zehn, zwanzig und dreißig Minuten, die Vorwärts- und Rückwärtsgehen abwechseln, für "
        "Abwechslung. Der Reihe nach vorgeschlagen, immer wieder.",
        "Des séances de dix, vingt et trente minutes qui alternent marche avant et marche arrière, pour varier. "
        "Proposées à tour de rôle, encore et encore.",
    ),
    "Walkers who want variety": (
        "Para quien quiere variedad",
        "Für alle, die Abwechslung wollen",
        "Pour qui aime varier",
    ),
    "Ten minutes, three 1-minute bouts backward: for a busy day.": (
        "Diez minutos, tres tandas de 1 minuto hacia atrás: para un día ajetreado.",
        "Zehn Minuten, drei 1-Minuten-Abschnitte rückwärts: für einen vollen Tag.",
        "Dix minutes, trois séries d’une minute en arrière : pour une journée chargée.",
    ),
    "Twenty minutes: four rounds of 2 minutes forward and 90 seconds backward.": (
        "Veinte minutos: cuatro rondas de 2 minutos hacia delante y 90 segundos hacia atrás.",
        "Zwanzig Minuten: vier Runden aus 2 Minuten vorwärts und 90 Sekunden rückwärts.",
        "Vingt minutes : quatre tours de 2 minutes en avant et 90 secondes en arrière.",
    ),
    "Thirty minutes: six rounds of 2 minutes forward and 2 minutes backward.": (
        "Treinta minutos: seis rondas de 2 minutos hacia delante y 2 minutos hacia atrás.",
        "Dreißig Minuten: sechs Runden aus 2 Minuten vorwärts und 2 Minuten rückwärts.",
        "Trente minutes : six tours de 2 minutes en avant et 2 minutes en arrière.",
    ),
    # -- The foundation's plan ids, kept as quick starts --
    "Your first session: five 1-minute bouts of backward walking at under 2 mph, with forward walking in between. "
    "Hold the rail.": (
        "Tu primera sesión: cinco tandas de 1 minuto hacia atrás por debajo de 2 mph, con tramos hacia delante entre "
        "ellas. Agárrate a la barra.",
        "Deine erste Einheit: fünf 1-Minuten-Abschnitte rückwärts unter 2 mph, dazwischen vorwärts. Halt dich am "
        "Griff fest.",
        "Ta première séance : cinq séries d’une minute en arrière sous 2 mph, avec de la marche avant entre elles. "
        "Tiens la barre.",
    ),
    "Knee-friendly 10": ("Cuida tus rodillas 10", "Knieschonend 10", "Doux pour les genoux 10"),
    "Ten minutes of backward walking at a comfortable speed, the dose that eased knee pain in trials (3 times a "
    "week for 6 weeks).": (
        "Diez minutos hacia atrás a una velocidad cómoda, la dosis que alivió el dolor de rodilla en ensayos (3 veces "
        "por semana durante 6 semanas).",
        "Zehn Minuten Rückwärtsgehen in angenehmem Tempo, die Dosis, die in Studien Knieschmerzen gelindert hat "
        "(3-mal pro Woche über 6 Wochen).",
        "Dix minutes de marche arrière à une vitesse confortable, la dose qui a soulagé la douleur au genou dans les "
        "études (3 fois par semaine pendant 6 semaines).",
    ),
    "20-minute intervals": ("Intervalos de 20 minutos", "20-Minuten-Intervalle", "Intervalles de 20 minutes"),
    "Four rounds of 2 minutes forward and 90 seconds backward: six minutes of backward walking in a 20-minute walk.": (
        "Cuatro rondas de 2 minutos hacia delante y 90 segundos hacia atrás: seis minutos hacia atrás en una caminata "
        "de 20 minutos.",
        "Vier Runden aus 2 Minuten vorwärts und 90 Sekunden rückwärts: sechs Minuten rückwärts in 20 Minuten.",
        "Quatre tours de 2 minutes en avant et 90 secondes en arrière : six minutes de marche arrière en 20 minutes.",
    ),
    # -- Calories (server/stats.py) --
    "An estimate from METs, shown as a range: walking backwards at 3.5 mph is 6.0 METs (Compendium of Physical "
    "Activities, code 17320; Ainsworth et al., Medicine & Science in Sports & Exercise 2011), scaled to your speed; "
    "sources differ on the extra cost of walking backwards, and the 1-MET convention runs about 20% high (Byrne et "
    "al., Journal of Applied Physiology 2005).": (
        "Una estimación a partir de METs, mostrada como rango: caminar hacia atrás a 3.5 mph son 6,0 METs (Compendium "
        "of Physical Activities, código 17320; Ainsworth et al., Medicine & Science in Sports & Exercise 2011), "
        "ajustada a tu velocidad; las fuentes no coinciden en el gasto extra de caminar hacia atrás, y la convención "
        "de 1 MET da cifras un 20 % altas (Byrne et al., Journal of Applied Physiology 2005).",
        "Eine Schätzung über METs, als Spanne: Rückwärtsgehen bei 3.5 mph sind 6,0 METs (Compendium of Physical "
        "Activities, Code 17320; Ainsworth et al., Medicine & Science in Sports & Exercise 2011), auf dein Tempo "
        "umgerechnet; die Quellen sind sich über den Mehraufwand des Rückwärtsgehens uneins, und die 1-MET-Konvention "
        "liegt etwa 20 % zu hoch (Byrne et al., Journal of Applied Physiology 2005).",
        "Une estimation à partir des METs, donnée en fourchette : marcher en arrière à 3.5 mph vaut 6,0 METs "
        "(Compendium of Physical Activities, code 17320 ; Ainsworth et al., Medicine & Science in Sports & Exercise "
        "2011), ajustée à ta vitesse ; les sources divergent sur le surcoût de la marche arrière, et la convention "
        "du MET surestime d’environ 20 % (Byrne et al., Journal of Applied Physiology 2005).",
    ),
    "Set your weight in settings to see calories.": (
        "Indica tu peso en los ajustes para ver las calorías.",
        "Gib in den Einstellungen dein Gewicht ein, um Kalorien zu sehen.",
        "Indique ton poids dans les réglages pour voir les calories.",
    ),
}

# Labels and names made from numbers: English pattern -> (Spanish, German, French).
PATTERNS: dict[str, tuple[str, str, str]] = {
    "Week {week}, session {session}": (
        "Semana {week}, sesión {session}",
        "Woche {week}, Einheit {session}",
        "Semaine {week}, séance {session}",
    ),
    "Session {session} of {count}": (
        "Sesión {session} de {count}",
        "Einheit {session} von {count}",
        "Séance {session} sur {count}",
    ),
    "Programme complete": ("Programa completado", "Programm abgeschlossen", "Programme terminé"),
    "{programme}: week {week}, session {session}": (
        "{programme}: semana {week}, sesión {session}",
        "{programme}: Woche {week}, Einheit {session}",
        "{programme} : semaine {week}, séance {session}",
    ),
    "{programme}: {minutes} minutes": (
        "{programme}: {minutes} minutos",
        "{programme}: {minutes} Minuten",
        "{programme} : {minutes} minutes",
    ),
    # The progress screen's two definitions (stats.COUNTED_SESSION, ON_PLAN_WEEK_*).
    "A walk counts as a session when you walk backwards at least the minutes its plan sets "
    "(10 are always enough), and at least {minimum} minutes.": (
        "Una caminata cuenta como sesión cuando caminas hacia atrás al menos los minutos que marca su plan "
        "(10 siempre bastan), y como mínimo {minimum} minutos.",
        "Ein Training zählt als Einheit, wenn du mindestens so viele Minuten rückwärts gehst, wie sein Plan "
        "vorsieht (10 reichen immer), und mindestens {minimum} Minuten.",
        "Une marche compte comme séance quand tu marches en arrière au moins les minutes prévues par son plan "
        "(10 suffisent toujours), et au moins {minimum} minutes.",
    ),
    "A week is on plan with {n} session that counts: what {programme} asks for a week.": (
        "Una semana va según el plan con {n} sesión que cuente: lo que {programme} pide por semana.",
        "Eine Woche ist im Plan mit {n} Einheit, die zählt: so viel verlangt {programme} pro Woche.",
        "Une semaine suit le plan avec {n} séance qui compte : ce que {programme} demande par semaine.",
    ),
    "A week is on plan with {n} sessions that count: what {programme} asks for a week.": (
        "Una semana va según el plan con {n} sesiones que cuenten: lo que {programme} pide por semana.",
        "Eine Woche ist im Plan mit {n} Einheiten, die zählen: so viel verlangt {programme} pro Woche.",
        "Une semaine suit le plan avec {n} séances qui comptent : ce que {programme} demande par semaine.",
    ),
    "A week is on plan with {n} session that counts: what the guideline of a few times a week asks for.": (
        "Una semana va según el plan con {n} sesión que cuente: lo que pide la pauta de unas cuantas veces por semana.",
        "Eine Woche ist im Plan mit {n} Einheit, die zählt: "
        "so viel verlangt die Empfehlung von einigen Malen pro Woche.",
        "Une semaine suit le plan avec {n} séance qui compte : "
        "ce que demande la recommandation de quelques fois par semaine.",
    ),
    "A week is on plan with {n} sessions that count: what the guideline of a few times a week asks for.": (
        "Una semana va según el plan con {n} sesiones que cuenten: "
        "lo que pide la pauta de unas cuantas veces por semana.",
        "Eine Woche ist im Plan mit {n} Einheiten, die zählen: "
        "so viel verlangt die Empfehlung von einigen Malen pro Woche.",
        "Une semaine suit le plan avec {n} séances qui comptent : "
        "ce que demande la recommandation de quelques fois par semaine.",
    ),
}


def pattern(english: str, lang: str) -> str:
    """A sentence pattern of PATTERNS in the walker's language (English when it has none)."""
    return _pick(PATTERNS, english, lang)


def _pick(table: dict[str, tuple[str, str, str]], english: str, lang: str) -> str:
    """The translation of one text or pattern, or the English when there is none."""
    if lang == "en" or english not in table:
        return english
    return table[english][LANGUAGES.index(lang) - 1]


def _decimals(text: str, lang: str) -> str:
    """Speeds written with the decimal mark of the language ("2.5 mph" -> "2,5 mph" in Spanish)."""
    if lang not in DECIMAL_COMMA:
        return text
    return _SPEED.sub(lambda match: match.group(0).replace(".", ","), text)


def localize_text(text: str, units: str, lang: str) -> str:
    """A programme or stats text in the walker's language, speeds in their units and written their way."""
    return _decimals(in_units(_pick(TEXTS, text, lang), units), lang)


def _label(workout: dict, repeats: bool, count: int, lang: str) -> str:
    """A programme workout's place in the walker's language: "Semana 2, sesión 3" or "Séance 1 sur 3"."""
    if repeats:
        return _pick(PATTERNS, "Session {session} of {count}", lang).format(session=workout["session"], count=count)
    return _pick(PATTERNS, "Week {week}, session {session}", lang).format(
        week=workout["week"], session=workout["session"]
    )


def localize_progress(progress: dict, programme: dict, lang: str) -> dict:
    """A programme's progress (Progress.to_dict) with its label in the walker's language."""
    if lang == "en":
        return progress
    if progress["finished"]:
        label = _pick(PATTERNS, "Programme complete", lang)
    else:
        following = {"week": progress["next_week"], "session": progress["next_session"]}
        label = _label(following, programme["repeats"], len(programme["workouts"]), lang)
    return {**progress, "label": label}


def localize_plan(plan: dict, units: str, lang: str, programme_name: str | None = None) -> dict:
    """A built-in plan (Plan.to_dict, in English) with its name and description in the walker's language and units."""
    shown = {**plan, "description": localize_text(plan.get("description", ""), units, lang)}
    if lang == "en":
        return shown
    programme_id = plan.get("programme")
    if programme_id and programme_name is None:
        programme_name = plan["name"].split(":")[0]
    if programme_id and programme_id == "quick-mix":
        minutes = round(plan["total_seconds"] / 60)
        name = _pick(PATTERNS, "{programme}: {minutes} minutes", lang).format(
            programme=_pick(TEXTS, programme_name, lang), minutes=minutes
        )
    elif programme_id:
        name = _pick(PATTERNS, "{programme}: week {week}, session {session}", lang).format(
            programme=_pick(TEXTS, programme_name, lang), week=plan["week"], session=plan["session"]
        )
    else:
        name = _pick(TEXTS, plan["name"], lang)
    return {**shown, "name": name}


def localize_programme(programme: dict, units: str, lang: str) -> dict:
    """A programme (Programme.to_dict("mph"), texts in English) in the walker's language and units."""
    count = len(programme["workouts"])
    workouts = [
        {
            **workout,
            "label": _label(workout, programme["repeats"], count, lang) if lang != "en" else workout["label"],
            "why": localize_text(workout["why"], units, lang),
            "plan": localize_plan(workout["plan"], units, lang, programme["name"]),
        }
        for workout in programme["workouts"]
    ]
    return {
        **programme,
        "name": _pick(TEXTS, programme["name"], lang),
        "description": localize_text(programme["description"], units, lang),
        "audience": _pick(TEXTS, programme["audience"], lang),
        "source": in_units(programme["source"], units),
        "workouts": workouts,
    }
