// The workouts tab: the picker, drawn at once from what the phone has (its last answers, else
// builtin.js), then again only if the server's answers differ (pickerdata.js), keeping what
// the walker opened and where the focus was.

import { BUILTIN_PLANS, NEW_DEVICE_PROGRAMMES } from "../builtin.js";
import { afterPaint, setStatus, showOnlineStatus } from "../chrome.js";
import { h } from "../dom.js";
import { N_, t } from "../i18n.js";
import { currentVisit, go, isCurrent } from "../router.js";
import { renderPicker } from "../screens/picker.js";
import { lastPlans, lastPlayable, lastProgrammes } from "../store.js";
import { app } from "./held.js";

/** The API's messages (api.js loads after the first screen) the picker shows: marked here, they are in the core strings. */
const SERVER_MESSAGES = Object.freeze([N_("You are offline."), N_("The RetroWalk server cannot be reached."), N_("The server answered {status}.")]);

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** The picker's work with the server (its answers, following a programme, reading a plan file): after the first screen. */
const serverSide = () => import("./pickerdata.js");

/**
 * True when two answers hold the same data, whatever the order of their keys.
 * @param {any} a
 * @param {any} b
 * @returns {boolean}
 */
export function sameData(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameData(a[key], b[key]));
}

/**
 * What the walker opened on the picker (a programme's workouts, a description's "More") and
 * where the focus is, to be put back after the picker is drawn again.
 * @param {HTMLElement} root
 * @returns {() => void} puts it back
 */
function keepPlace(root) {
  const open = [...root.querySelectorAll("details[open]")].map((details) => details.closest("[data-programme]")?.getAttribute("data-programme"));
  const unclamped = [...root.querySelectorAll(".desc-box .desc:not(.clamp)")].map((text) => text.id);
  const active = document.activeElement;
  const focusKey = active && root.contains(active)
    ? ["data-plan", "data-follow", "data-edit", "id"].map((name) => [name, active.getAttribute(name)]).find(([, value]) => value)
    : null;
  return () => {
    for (const id of open) root.querySelector(`[data-programme="${CSS.escape(id || "")}"] details`)?.setAttribute("open", "");
    for (const id of unclamped) /** @type {HTMLElement|null} */ (root.querySelector(`#${CSS.escape(id)} + .link-btn`))?.click();
    if (focusKey) /** @type {HTMLElement|null} */ (root.querySelector(`[${focusKey[0]}="${CSS.escape(focusKey[1])}"]`))?.focus({ preventScroll: true });
  };
}

/**
 * Pick a workout.
 * @param {{focusPlan?: string}} params `focusPlan`: a plan to scroll to and focus (one just saved or offered next)
 */
export async function showPicker({ focusPlan = null }) {
  const visit = currentVisit();
  showOnlineStatus();
  const remembered = lastPlans();
  let shown = {
    plans: remembered || BUILTIN_PLANS,
    // A phone that has plans but no programmes answer yet (an older version kept only plans) draws the programmes from its plans.
    programmes: lastProgrammes() || (remembered ? null : NEW_DEVICE_PROGRAMMES),
    offline: navigator.onLine === false,
    playable: [...lastPlayable()].sort(),
  };
  app.plans ??= shown.plans;
  draw(shown, focusPlan);
  let fresh;
  try {
    // Painted first, then asked of the server.
    await afterPaint();
    fresh = await (await serverSide()).freshPickerData(shown);
  } catch (error) {
    // The server said no (not merely unreachable): say so instead of a picker that may be wrong.
    if (!isCurrent(visit)) return;
    main.replaceChildren(h("div", { class: "screen-head" }, h("h1", { text: t("Pick a workout") })),
      h("p", { class: "error-box", text: `${error.message} ${t("Try again when you are connected.")}` }));
    return;
  }
  if (!isCurrent(visit)) return;
  if (fresh.offline) setStatus(t("Offline"), "off");
  if (sameData(fresh, shown)) return;
  const putBack = keepPlace(main);
  shown = fresh;
  draw(shown, focusPlan);
  putBack();
}

/**
 * Draw the picker from plain data.
 * @param {{plans: Array<object>, programmes: object|null, offline: boolean, playable: string[]}} data
 * @param {string|null} focusPlan
 */
function draw({ plans, programmes, offline, playable }, focusPlan) {
  renderPicker(main, {
    plans,
    programmes,
    offline,
    playable: new Set(playable),
    focusPlan,
    onPick: (plan) => go(`#/plan/${encodeURIComponent(plan.id)}`),
    onFollow: (programme) => serverSide().then((side) => side.followProgramme(programme)),
    onEdit: (plan) => go(`#/edit/${encodeURIComponent(plan.id)}`),
    onCopy: (plan) => go(`#/copy/${encodeURIComponent(plan.id)}`),
    onNew: () => { app.unsaved = null; go("#/edit/new"); },
    onImport: (file) => serverSide().then((side) => side.importFile(file)),
  });
}
