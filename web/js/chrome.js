// The page furniture around every screen: the toast over the tabs, the status line, the banner
// back to a walk under way, and the later screens' stylesheet. What the first screen does not
// need is loaded after it: the service worker and the desktop's phone panel (install.js), and
// the page's own words in another language than its English (pagewords.js).

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** How long a message with an Undo stays on screen. */
export const TOAST_MS = 8000;
/** A page that paints no frame (hidden) waits at most this long for one before going on. */
const FRAME_WAIT_MS = 100;
/** The later screens' rules (get ready, player, summary, history, editor, settings, progress). */
const SCREENS_CSS = "/css/screens.css";

const statusLine = /** @type {HTMLElement} */ (document.getElementById("status"));
const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));
const toastBox = /** @type {HTMLElement} */ (document.getElementById("toast"));

let toastTimer = null;

/**
 * A short message over the tabs, with an optional action (Undo).
 * @param {string} text
 * @param {{label: string, run: () => void}} [action]
 * @param {{stay?: boolean}} [options] `stay`: shown until tapped or replaced (an offer that must not slip by)
 */
export function toast(text, action, { stay = false } = {}) {
  clearTimeout(toastTimer);
  // replaceChildren would write a missing action as the text "null": only what there is goes in.
  const parts = [h("span", { text })];
  if (action) parts.push(h("button", { type: "button", class: "btn btn-small", onclick: () => { toastBox.hidden = true; action.run(); } }, action.label));
  toastBox.replaceChildren(...parts);
  toastBox.hidden = false;
  if (!stay) toastTimer = setTimeout(() => { toastBox.hidden = true; }, TOAST_MS);
}

/**
 * The status line under the brand: a word and its tone ("off" when offline), or nothing.
 * @param {string} text
 * @param {string} [tone]
 */
export function setStatus(text, tone = "") {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

/** The status line says "Offline" while the browser knows it is. */
export function showOnlineStatus() {
  if (navigator.onLine === false) setStatus(t("Offline"), "off");
  else setStatus("", "");
}

/**
 * A walk running while another screen is shown: a way back to it.
 * @param {{plan: {name: string}, state: {state: string}}|null} walk the coach of the walk under way, if any
 */
export function showBanner(walk) {
  const walking = walk && (walk.state.state === "running" || walk.state.state === "paused");
  banner.hidden = !walking || location.hash === "#/workout";
  if (!banner.hidden) {
    banner.replaceChildren(
      h("span", { text: walk.state.state === "paused" ? t("{name} is paused.", { name: walk.plan.name }) : t("{name} is running.", { name: walk.plan.name }) }),
      h("a", { class: "btn btn-primary", href: "#/workout" }, t("Back to it")));
  }
}

/** The main thread's next idle moment (Safari has no requestIdleCallback: the next task stands in). */
const whenIdle = window.requestIdleCallback?.bind(window) ?? ((run) => setTimeout(run, 0));

/**
 * Resolves once what is on screen now has been painted and shown: what the screen does not need waits for this.
 * A frame is rasterized and shown after its main-thread work, by threads that later work (modules, the service
 * worker, the API) would take the cores from: one frame more, then an idle moment, gives them the time.
 * @returns {Promise<void>}
 */
export function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, FRAME_WAIT_MS);
    const done = () => { clearTimeout(timer); resolve(); };
    // The timer above bounds the idle wait too.
    requestAnimationFrame(() => requestAnimationFrame(() => whenIdle(done)));
  });
}

/** @type {Promise<void>|null} the later screens' stylesheet, once asked for (the page holds the rest) */
let screenStyles = null;

/**
 * The later screens' stylesheet, applied once; resolves when it applies (or failed: offline and never cached).
 * @returns {Promise<void>}
 */
export function loadScreenStyles() {
  if (!screenStyles) {
    const link = h("link", { rel: "stylesheet", href: SCREENS_CSS });
    screenStyles = new Promise((resolve) => { link.onload = link.onerror = () => resolve(); });
    document.head.append(link);
  }
  return screenStyles;
}
