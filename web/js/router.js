// The app's addresses: one hash route per screen, the controller that shows it and the tab it
// belongs to. A controller's module loads when its screen is first opened, with the later
// screens' stylesheet (the picker's comes with the page; the others are precached all the same).
//
// One-shot parameters of a route (the draft the editor opens with, a plan file being imported,
// the plan the picker scrolls to) travel in `history.state` with the navigation that asks for
// them and are read once on arrival, so no screen leaves hidden arguments for the next one.
//
// The screen contract: a controller is `show(params, ...parts)`, with `params` the route's
// one-shot parameters ({} when none) and `parts` the address's decoded parts (a plan id). It
// draws into #main and returns, or resolves to, a Screen handle or nothing. A controller that
// awaits anything checks `isCurrent(visit)` (visit = `currentVisit()` on entry) before drawing,
// so a screen that finished loading late never draws over a newer one.

import { loadScreenStyles } from "./chrome.js";
import * as pickerControllers from "./controllers/picker.js";

/**
 * What a controller hands back: `leave()` runs once when the walker goes to another address
 * (cancel work under way, keep unsaved edits).
 * @typedef {{leave: () => void}} Screen
 */

/** @typedef {() => (Record<string, any>|Promise<Record<string, any>>)} Controllers a screen's controllers module, loaded on first use */

/**
 * A later screen's controllers, with the later screens' stylesheet (the page holds only the picker's and the shared rules).
 * @param {Promise<any>} loading
 */
const withScreenStyles = (loading) => Promise.all([loading, loadScreenStyles()]).then(([controllers]) => controllers);

/**
 * The picker is the first screen of almost every visit: its controllers come with the page (no import round).
 * @type {Controllers}
 */
const picker = () => pickerControllers;
/** @type {Controllers} */
const walk = () => withScreenStyles(import("./controllers/walk.js"));
/** @type {Controllers} */
const editing = () => withScreenStyles(import("./controllers/editing.js"));
/** @type {Controllers} */
const records = () => withScreenStyles(import("./controllers/records.js"));
/** @type {Controllers} */
const settings = () => withScreenStyles(import("./controllers/settings.js"));

/**
 * The routes: a hash pattern, the controllers' module, the controller's name in it, the tab it belongs to.
 * @type {Array<[RegExp, Controllers, string, string]>}
 */
const ROUTES = [
  [/^#\/plan\/(.+)$/, walk, "showPlan", "workouts"],
  [/^#\/edit\/new$/, editing, "showNewPlan", "workouts"],
  [/^#\/edit\/(.+)$/, editing, "showEditor", "workouts"],
  [/^#\/copy\/(.+)$/, editing, "showCopy", "workouts"],
  [/^#share=(.+)$/, editing, "showShared", "workouts"],
  [/^#\/import$/, editing, "showImport", "workouts"],
  [/^#\/workout$/, walk, "showPlayer", "workouts"],
  [/^#\/summary$/, walk, "showSummary", "workouts"],
  [/^#\/history$/, records, "showHistory", "history"],
  [/^#\/progress$/, records, "showProgress", "progress"],
  [/^#\/settings$/, settings, "showSettings", "settings"],
  [/^#?\/?$/, picker, "showPicker", "workouts"],
];

/** Counts screen changes, so a screen that finished loading late does not draw over a newer one. */
let visits = 0;
/** @type {Screen|null} the screen shown now, told when the walker leaves it */
let shown = null;
/** @type {() => void} what the page furniture does on every screen change (the walk banner) */
let onEnter = () => {};

/** @returns {number} the screen change under way now */
export const currentVisit = () => visits;

/**
 * True while the screen entered at visit `visit` is still the current one.
 * @param {number} visit
 */
export const isCurrent = (visit) => visit === visits;

/**
 * The one-shot parameters the navigation to here carried, taken once: a reload or a later
 * Back to this address finds none (the screen then does what it does without them).
 * @returns {Record<string, any>}
 */
function takeParams() {
  const params = history.state?.params;
  if (!params) return {};
  history.replaceState(null, "", location.href);
  return params;
}

/**
 * An address part as it was before it was encoded; a malformed one (a hand-typed `%`) as it stands.
 * @param {string} part
 */
function decodePart(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Show the screen of the address now in the location bar. */
export function route() {
  visits += 1;
  const visit = visits;
  const leaving = shown;
  shown = null;
  leaving?.leave();
  const hash = location.hash || "#/";
  const params = takeParams();
  for (const [pattern, load, name, tab] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll(".tabs a"))) {
      if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.body.dataset.screen = "";
    onEnter();
    window.scrollTo(0, 0);
    const parts = match.slice(1).map(decodePart);
    Promise.resolve(load())
      .then((controllers) => (isCurrent(visit) ? controllers[name](params, ...parts) : null))
      .then((screen) => {
        if (!screen) return;
        // A handle that arrives after the walker left is told at once.
        if (isCurrent(visit)) shown = screen;
        else screen.leave();
      }, (error) => console.error(`The ${name} screen failed:`, error));
    return;
  }
  // No screen here: replaced, or Back would come back and be sent on again.
  replaceWith("#/");
}

/**
 * Go to a screen, leaving the one before in the back history.
 * @param {string} hash
 * @param {Record<string, any>|null} [params] one-shot parameters for the screen (structured-cloneable)
 */
export function go(hash, params = null) {
  if (params) {
    if (location.hash === hash) history.replaceState({ params }, "", hash);
    else history.pushState({ params }, "", hash);
    route();
  } else if (location.hash === hash) route();
  else location.hash = hash;
}

/**
 * Go to a screen without leaving the one before in the back history (a link that was used up).
 * @param {string} hash
 * @param {Record<string, any>|null} [params] one-shot parameters for the screen
 */
export function replaceWith(hash, params = null) {
  history.replaceState(params ? { params } : null, "", hash);
  route();
}

/**
 * Follow the location bar from now on, and show the screen it names.
 * @param {{enter?: () => void}} [furniture] `enter`: run on every screen change (before the screen draws)
 */
export function startRouting({ enter } = {}) {
  if (enter) onEnter = enter;
  window.addEventListener("hashchange", route);
  route();
}
