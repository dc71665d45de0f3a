// Settings for this device: units, body weight, the coach's voice (language, countdown,
// halfway, time remaining), how it plays (pocket or screen-on), the programme followed, and
// the time zone weeks are counted in.
// Each change is saved at once and applies from the next workout.

import { fill, h } from "../dom.js";
import { language, number, t } from "../i18n.js";
import { SETTINGS_RULES } from "../settings.js";

/** Pounds in a kilogram. */
const LB_PER_KG = 2.20462262;

/** A language's name in the walker's language ("Spanish", "Spanisch"), for the buttons' tooltips. */
function languageName(code) {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

/** A weight in kg as shown in the walker's units (whole pounds, or kg to the tenth). */
function weightField(kg, units) {
  if (typeof kg !== "number") return "";
  return units === "kmh" ? number(Math.round(kg * 10) / 10) : number(Math.round(kg * LB_PER_KG));
}

/**
 * Tick a choice again (the server refused the change to another).
 * @param {HTMLElement} group the choices' fieldset
 * @param {string|number} value
 */
function checkAgain(group, value) {
  /** @type {HTMLInputElement} */ (group.querySelector(`input[value="${value}"]`)).checked = true;
}

/**
 * A weight as typed in the walker's units, checked by the server's bounds.
 * @param {string} text
 * @param {string} units "mph" (pounds) or "kmh" (kilograms)
 * @returns {{kg: number|null, error?: undefined}|{error: string, kg?: undefined}} one or the other
 */
function parseWeight(text, units) {
  const value = String(text).trim().replace(",", ".");
  if (!value) return { kg: null };
  const typed = /^\d{1,4}(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const kg = units === "kmh" ? typed : typed / LB_PER_KG;
  const lo = units === "kmh" ? SETTINGS_RULES.MIN_WEIGHT_KG : Math.ceil(SETTINGS_RULES.MIN_WEIGHT_KG * LB_PER_KG);
  const hi = units === "kmh" ? SETTINGS_RULES.MAX_WEIGHT_KG : Math.floor(SETTINGS_RULES.MAX_WEIGHT_KG * LB_PER_KG);
  const unit = units === "kmh" ? "kg" : "lb";
  if (!Number.isFinite(typed) || typed < lo || typed > hi) return { error: t("Give a weight from {low} to {high} {unit}, or leave it empty.", { low: lo, high: hi, unit }) };
  return { kg: Math.round(kg * 10) / 10 };
}

/** A group of big radio buttons. */
function choices(name, legend, options, value, onPick) {
  return h("fieldset", { class: "choices", "data-setting": name },
    h("legend", { text: legend }),
    h("div", { class: "choice-row" }, options.map(([optionValue, label, extra = {}]) => {
      const input = h("input", { type: "radio", name, value: String(optionValue), checked: optionValue === value,
        onchange: () => { if (input.checked) onPick(optionValue, input); } });
      return h("label", { class: "choice", ...extra }, input, h("span", { text: label }));
    })));
}

/** An on/off switch with its explanation. */
function toggle(id, title, detail, checked, onFlip) {
  const input = h("input", { type: "checkbox", role: "switch", id, checked, onchange: () => onFlip(input.checked, input) });
  return h("label", { class: "toggle", for: id }, h("span", {}, h("b", { text: title }), detail), input);
}

/**
 * Render the settings screen.
 * @param {HTMLElement} root
 * @param {{settings: object, programmeName: string|null, offline: boolean,
 *   onChange: (changes: object) => Promise<object>}} props
 *   `programmeName`: the name of the programme followed; `onChange` saves and resolves to every setting
 */
export function renderSettings(root, { settings, programmeName, offline, onChange }) {
  let current = { ...settings };
  const status = h("p", { class: "save-status", role: "status", "aria-live": "polite" });

  /** Save a change; on failure say why and put the control back. */
  async function change(changes, saidAs, revert) {
    // Said right under the setting just changed, so it never covers the next one.
    const anchor = document.activeElement?.closest?.(".settings fieldset, .settings .toggle, .settings .field, .settings .setting-card");
    if (anchor) anchor.after(status);
    status.dataset.tone = "busy";
    status.textContent = t("Saving…");
    try {
      current = await onChange(changes);
      status.dataset.tone = "ok";
      status.textContent = t("Saved: {what}. From your next workout.", { what: saidAs });
      return true;
    } catch (error) {
      status.dataset.tone = "error";
      status.textContent = t("Not saved: {reason}", { reason: error.message });
      revert?.();
      return false;
    }
  }

  const weightInput = h("input", { id: "weight", type: "text", inputMode: "decimal", autocomplete: "off", "aria-describedby": "weight-help weight-error" });
  const weightUnit = h("span", { class: "unit", "aria-hidden": "true" });
  const weightError = h("p", { class: "field-error", id: "weight-error", hidden: true });
  const weightLabel = h("label", { for: "weight" });
  const unitsNote = h("p", { class: "note" });
  const showWeight = () => {
    const unit = current.units === "kmh" ? "kg" : "lb";
    unitsNote.textContent = current.units === "kmh"
      ? t("Treadmill speeds on screen and in the coach’s voice in kilometres per hour; weight in kilograms.")
      : t("Treadmill speeds on screen and in the coach’s voice in miles per hour; weight in pounds.");
    weightInput.value = weightField(current.weight_kg, current.units);
    weightUnit.textContent = unit;
    weightLabel.textContent = t("Body weight, {unit} (optional)", { unit });
  };
  weightInput.addEventListener("change", async () => {
    const parsed = parseWeight(weightInput.value, current.units);
    weightError.hidden = !("error" in parsed);
    weightError.textContent = parsed.error || "";
    if ("error" in parsed) {
      weightInput.setAttribute("aria-invalid", "true");
      return;
    }
    weightInput.removeAttribute("aria-invalid");
    if (parsed.kg === current.weight_kg) return;
    await change({ weight_kg: parsed.kg }, parsed.kg === null ? t("no weight, so no calories") : t("weight {weight}", { weight: `${weightInput.value.trim()} ${weightUnit.textContent}` }), showWeight);
  });
  weightInput.addEventListener("keydown", (event) => { if (event.key === "Enter") weightInput.blur(); });
  showWeight();

  const unitsGroup = choices("units", t("Speed units"),
    [["mph", "mph", { title: t("miles per hour") }], ["kmh", "km/h", { title: t("kilometres per hour") }]], current.units,
    async (units) => {
      const before = current.units;
      const ok = await change({ units }, units === "kmh" ? t("kilometres per hour") : t("miles per hour"), () => {
        checkAgain(unitsGroup, before);
      });
      if (ok) showWeight();
    });

  // Each language is offered in its own words ("Deutsch"), whatever the screens speak now.
  const languages = choices("lang", t("Language"),
    Object.entries(SETTINGS_RULES.LANGUAGES).map(([code, name]) => [code, name, { lang: code, title: languageName(code) }]),
    current.lang, (lang) => {
      const before = current.lang;
      change({ lang }, t("screens and voice in {language}", { language: SETTINGS_RULES.LANGUAGES[lang] }), () => {
        checkAgain(languages, before);
      });
    });

  const countdown = choices("countdown", t("Countdown before each switch"),
    SETTINGS_RULES.COUNTDOWN_CHOICES.map((n) => [n, n ? `${n} s` : t("Off")]), current.countdown, (n) => {
      const before = current.countdown;
      change({ countdown: n }, n ? t("a {n}-second countdown", { n }) : t("no countdown"), () => { checkAgain(countdown, before); });
    });

  const MODE_SENTENCES = {
    pocket: t("Pocket: the screen may lock; your music pauses."),
    screen: t("Screen on: your music keeps playing; the screen stays on and is locked against touches."),
  };
  const modeNote = h("p", { class: "note", id: "audio-mode-note", text: MODE_SENTENCES[current.audio_mode] || MODE_SENTENCES.pocket });
  const audioMode = choices("audio_mode", t("How the coach plays"),
    [["pocket", t("Pocket")], ["screen", t("Screen on")]], current.audio_mode, (mode) => {
      const before = current.audio_mode;
      modeNote.textContent = MODE_SENTENCES[mode];
      change({ audio_mode: mode }, mode === "pocket" ? t("pocket mode") : t("screen-on mode"), () => {
        checkAgain(audioMode, before);
        modeNote.textContent = MODE_SENTENCES[before];
      });
    });

  const programmeBlock = h("div", { class: "setting-card" });
  const showProgramme = () => {
    if (current.programme && programmeName) {
      fill(programmeBlock,
        h("p", {}, t("You follow {name}. The workouts screen offers its next session.", { name: programmeName })),
        h("button", { type: "button", class: "btn btn-secondary btn-block", id: "stop-following", onclick: async () => {
          if (await change({ programme: null }, t("no longer following {name}", { name: programmeName }))) showProgramme();
        } }, t("Stop following")));
    } else {
      fill(programmeBlock, h("p", { class: "note", text: t("No programme followed. Pick one on the workouts screen: it offers each session in turn.") }));
    }
  };
  showProgramme();

  const zone = current.timezone || "UTC";
  fill(root,
    h("section", { class: "settings", "aria-labelledby": "settings-title" },
      h("div", { class: "screen-head" },
        h("h1", { id: "settings-title", text: t("Settings") }),
        h("p", { text: t("Each change is saved at once and applies from your next workout.") })),
      offline ? h("p", { class: "note-box", text: t("You are offline: changes cannot be saved until you are connected.") }) : null,
      h("h2", { class: "section-title", text: t("Units and weight") }),
      unitsGroup,
      unitsNote,
      h("div", { class: "field weight" },
        weightLabel,
        h("div", { class: "with-unit" }, weightInput, weightUnit),
        h("small", { id: "weight-help", text: t("Only used to estimate calories. Leave it empty to skip them.") }),
        weightError),
      h("h2", { class: "section-title", text: t("Language and voice") }),
      languages,
      countdown,
      h("div", { class: "toggles" },
        toggle("halfway", t("Halfway"), t("Say when you are halfway through the workout."), current.halfway,
          (on, input) => change({ halfway: on }, on ? t("halfway said") : t("halfway not said"), () => { input.checked = !on; })),
        toggle("time-remaining", t("Time remaining"), t("Say how many minutes are left in long intervals."), current.time_remaining,
          (on, input) => change({ time_remaining: on }, on ? t("time remaining said") : t("time remaining not said"), () => { input.checked = !on; }))),
      h("h2", { class: "section-title", text: t("With the screen off") }),
      audioMode,
      modeNote,
      h("h2", { class: "section-title", text: t("Programme") }),
      programmeBlock,
      h("h2", { class: "section-title", text: t("Weeks") }),
      h("p", { class: "note", id: "timezone-note", text: current.timezone
        ? t("Weeks run Monday to Sunday in {zone}, this phone’s time zone.", { zone }) : t("Weeks run Monday to Sunday in {zone}.", { zone }) }),
      status),
  );
}
