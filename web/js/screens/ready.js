// Before a workout: the one-time safety check, then the plan, the audio being prepared, how
// the coach plays (pocket or screen-on), and Start.

import { fill, h, minutesText } from "../dom.js";
import { clockText } from "../figures.js";
import { N_, number, plural, t } from "../i18n.js";
import { isInstalled } from "../phone.js";
import { kindInfo, speedText, totals } from "../workout.js";
import { segmentStrip, stripLegend } from "./picker.js";

/** The safety check, from trainers' treadmill advice (docs/sources.md), in English; shown translated. */
export const SAFETY_ITEMS = [
  [N_("Indoors, or on a treadmill"), N_("Not outdoors at first: obstacles and uneven ground are hard to feel walking backwards.")],
  [N_("A rail or wall within reach"), N_("Hold the treadmill rails or keep a hand near a wall until your balance improves.")],
  [N_("Safety key clipped on"), N_("On a treadmill, clip the safety key to your clothes so the belt stops if you slip.")],
  [N_("Clear space behind you"), N_("Nothing to trip over, and start slow: under {speed}. Stop if you feel unsteady.")],
];
/** "Start slow" in the safety check: under this speed (trainers' advice for beginners). */
const START_SLOW_MPH = 2;

/**
 * Render the one-time safety check.
 * @param {HTMLElement} root
 * @param {{plan: object, units?: string, onConfirm: () => void, onCancel: () => void}} props `units`: the
 *   speeds' units ("mph" or "kmh") the check's advice names
 */
export function renderSafety(root, { plan, units = "mph", onConfirm, onCancel }) {
  const boxes = [];
  const confirm = h("button", { type: "button", id: "safety-confirm", class: "btn btn-primary btn-huge btn-block", disabled: true, onclick: onConfirm },
    t("I’m ready"));
  const update = () => { confirm.disabled = !boxes.every((box) => box.checked); };
  const items = SAFETY_ITEMS.map(([title, detail], index) => {
    const box = h("input", { type: "checkbox", id: `safety-${index}`, onchange: update });
    boxes.push(box);
    return h("li", {}, h("label", { for: `safety-${index}` }, box, h("span", {}, h("b", { text: t(title) }), t(detail, { speed: speedText(START_SLOW_MPH, units) }))));
  });
  fill(root,
    h("section", { class: "ready safety", "aria-labelledby": "safety-title" },
      h("div", { class: "screen-head" },
        h("h1", { id: "safety-title", text: t("Before your first walk backwards") }),
        h("p", { text: t("Check each one, then start “{name}”. You will only be asked once.", { name: plan.name }) })),
      h("ul", { class: "checklist" }, items),
      h("div", { class: "actions" },
        confirm,
        h("button", { type: "button", class: "btn btn-secondary btn-block", onclick: onCancel }, t("Not now")))),
  );
  boxes[0].focus({ preventScroll: true });
}

/**
 * A plan at a glance: its totals, its strip of intervals and the list of them.
 * @param {{segments: object[]}} plan
 * @param {string} units the walker's speed units
 * @returns {HTMLElement[]}
 */
export function planOverview(plan, units) {
  const { total, reverse } = totals(plan.segments);
  return [
    h("div", { class: "facts" },
      h("div", { class: "fact" }, h("b", { text: clockText(total * 1000) }), h("span", { text: t("total") })),
      h("div", { class: "fact" }, h("b", { text: clockText(reverse * 1000) }), h("span", { text: t("backward") })),
      h("div", { class: "fact" }, h("b", { text: number(plan.segments.length) }), h("span", { text: t("intervals") }))),
    h("div", {}, segmentStrip(plan.segments), stripLegend(plan.segments)),
    h("ol", { class: "segments", "aria-label": t("Intervals") }, plan.segments.map((segment) => h("li", {},
      h("i", { class: `k-${segment.kind}` }),
      h("span", { text: kindInfo(segment.kind).label }),
      segment.speed_mph ? h("span", { class: "note", text: speedText(segment.speed_mph, units) }) : null,
      h("span", { class: "len", text: minutesText(segment.seconds) })))),
  ];
}

/** The two ways the coach can play, each in one honest sentence (what it does to the walker's music). */
export const AUDIO_MODE_CHOICES = [
  ["pocket", N_("Pocket"), N_("The screen may lock; your music pauses.")],
  ["screen", N_("Screen on"), N_("Your music keeps playing; the screen stays on and is locked against touches.")],
];

/**
 * The choice of audio mode: two big radio cards.
 * @param {string} mode the one chosen
 * @param {(mode: string) => void} onPick
 * @returns {{element: HTMLElement, value: () => string, allowPocket: (ok: boolean) => void}}
 */
function modeChoice(mode, onPick) {
  const inputs = {};
  const unavailable = h("p", { class: "note", id: "mode-unavailable", hidden: true,
    text: t("Pocket mode needs this walk’s track, which this phone does not have: the coach plays clips with the screen on.") });
  const element = h("fieldset", { class: "modes", "aria-describedby": "mode-unavailable" },
    h("legend", { text: t("How the coach plays") }),
    AUDIO_MODE_CHOICES.map(([value, title, sentence]) => {
      const input = h("input", { type: "radio", name: "audio-mode", value, id: `mode-${value}`, checked: value === mode,
        onchange: () => { if (input.checked) onPick(value); } });
      inputs[value] = input;
      return h("label", { class: "mode", for: `mode-${value}` }, input, h("span", {}, h("b", { text: t(title) }), t(sentence)));
    }),
    unavailable);
  return {
    element,
    value: () => (inputs.pocket.checked && !inputs.pocket.disabled ? "pocket" : "screen"),
    allowPocket(ok) {
      inputs.pocket.disabled = !ok;
      unavailable.hidden = ok;
      if (!ok) inputs.screen.checked = true;
    },
  };
}

/**
 * Render the get-ready screen. Returns functions to show preparation progress and readiness.
 * @param {HTMLElement} root
 * @param {{plan: object, units: string, mode?: string, onMode?: (mode: string) => void, onStart: (mode: string) => void,
 *   onBack: () => void, onEdit?: (() => void)|null, onCopy?: () => void}} props
 *   `units`: the walker's speed units; `mode`: the audio mode last chosen ("pocket" or "screen"), `onMode` remembers
 *   a new choice; `onStart` gets the mode chosen; `onEdit`: change the plan (the walker's own); `onCopy`: make an editable copy
 * @returns {{progress: (done: number, total: number) => void, ready: (info: {offline: boolean, failed: number, track?: boolean}) => void,
 *   fail: (message: string) => void}}
 */
export function renderReady(root, { plan, units, mode = "pocket", onMode = () => {}, onStart, onBack, onEdit, onCopy }) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": t("Preparing the coach’s voice") });
  const label = h("span", { text: t("Preparing the coach’s voice…") });
  const count = h("span", { text: "" });
  const message = h("p", { class: "note", role: "status", text: "" });
  const start = h("button", {
    type: "button", class: "btn btn-primary btn-huge btn-block", disabled: true, id: "start",
    onclick: () => { start.disabled = true; onStart(modes.value()); },
  }, h("span", {}, t("Start")));
  const modes = modeChoice(mode, onMode);
  const notes = [];
  if (!isInstalled()) {
    notes.push(h("p", { class: "note", text: t("Tip: add RetroWalk to your home screen to open it like an app, even offline.") }));
  }
  // How far the voice is prepared and the choice of mode right under the plan's totals: seen
  // before Start without scrolling (Start stays under the thumb, over what scrolls).
  const [facts, ...overview] = planOverview(plan, units);
  fill(root,
    h("section", { class: "ready", "aria-labelledby": "ready-title" },
      h("div", {},
        h("h1", { id: "ready-title", text: plan.name }),
        plan.description ? h("p", { class: "note", style: { marginTop: "6px" }, text: plan.description }) : null,
        onEdit || onCopy
          ? h("button", { type: "button", class: "btn btn-small ready-tool", onclick: onEdit || onCopy }, onEdit ? t("Edit this plan") : t("Copy and edit"))
          : null),
      facts,
      h("div", { class: "prepare" }, h("div", { class: "prepare-label" }, label, count), bar, message),
      modes.element,
      ...overview,
      notes,
      h("div", { class: "actions" },
        start,
        h("button", { type: "button", class: "btn btn-secondary btn-block", onclick: onBack }, t("Back to workouts")))),
  );
  return {
    progress(done, all) {
      bar.max = Math.max(all, 1);
      bar.value = done;
      count.textContent = all ? t("{done} of {total}", { done: number(done), total: number(all) }) : "";
    },
    ready({ offline, failed, track = true }) {
      modes.allowPocket(track);
      bar.value = bar.max;
      label.textContent = t("Ready. Tap Start, then put your phone away.");
      count.textContent = "";
      message.textContent = [
        offline ? t("No connection: this workout plays from this phone.") : "",
        failed ? plural(failed, "{n} phrase will be spoken by the phone’s own voice.", "{n} phrases will be spoken by the phone’s own voice.") : "",
      ].filter(Boolean).join(" ");
      start.disabled = false;
      start.focus({ preventScroll: true });
    },
    fail(text) {
      label.textContent = t("Cannot start this workout");
      message.textContent = text;
      message.className = "error-box";
    },
  };
}
