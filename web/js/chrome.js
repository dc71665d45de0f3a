// The page furniture around every screen: the toast over the tabs, the status line, the banner
// back to a walk under way, the desktop's "take it to the gym" panel, the page's own words in
// the walker's language, and the service worker (offline use, and a new version offered between walks).

import { h } from "./dom.js";
import { t } from "./i18n.js";

/** How long a message with an Undo stays on screen. */
export const TOAST_MS = 8000;
/** Wide screens with a mouse are desktops: they show the QR code for the phone. */
const DESKTOP_QUERY = "(min-width: 960px) and (pointer: fine)";

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

/** On a desktop, the address to open on the phone as a QR code. */
export async function showPhonePanel() {
  if (!matchMedia(DESKTOP_QUERY).matches) return;
  const panel = /** @type {HTMLElement} */ (document.getElementById("phone-panel"));
  try {
    const { getPhoneAddress } = await import("./api.js");
    const phone = await getPhoneAddress();
    const link = /** @type {HTMLAnchorElement} */ (document.getElementById("phone-url"));
    link.href = phone.url;
    link.textContent = phone.url;
    /** @type {HTMLImageElement} */ (document.getElementById("phone-qr")).src = "/phone-qr.svg";
    const notes = [];
    if (!phone.reachable) notes.push(t("This address only works on this computer: start the server with --host 0.0.0.0 to reach it from a phone."));
    if (!phone.secure) notes.push(t("Over plain http a phone can play workouts, but installing the app, keeping the screen awake and playing offline need https: serve it with a certificate (--certfile and --keyfile), or behind an https proxy or tunnel."));
    document.getElementById("phone-note").textContent = notes.join(" ");
    panel.hidden = false;
  } catch {
    panel.hidden = true;
  }
}

/**
 * The service worker keeps the app offline; a new version of it is offered between walks
 * (web/js/updates.js, loaded with the registration, after the first screen).
 * @param {() => boolean} walking true while a walk is under way (the offer waits for its end)
 */
export function registerServiceWorker(walking) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(async (registration) => {
    const { watchForUpdates } = await import("./updates.js");
    watchForUpdates(registration, {
      walking,
      offer: (update) => toast(t("A new version of RetroWalk is ready."), { label: t("Reload to update"), run: update }, { stay: true }),
    });
  }, (error) => {
    // Plain http on a LAN address: no service worker, the app still works online.
    console.info("No offline support here:", error.message);
  });
}

/** The page's own words (tabs, links, the desktop panel) in the walker's language. */
export function translateChrome() {
  const texts = {
    ".skip-link": t("Skip to content"),
    '.tabs [data-tab="workouts"] span': t("Workouts"),
    '.tabs [data-tab="progress"] span': t("Progress"),
    '.tabs [data-tab="history"] span': t("History"),
    '.tabs [data-tab="settings"] span': t("Settings"),
    "#phone-title": t("Take it to the gym"),
    "#phone-title + p": t("Scan this with your phone's camera to open RetroWalk there, then add it to your home screen."),
  };
  for (const [selector, text] of Object.entries(texts)) {
    const element = document.querySelector(selector);
    if (element) element.textContent = text;
  }
  document.querySelector(".brand")?.setAttribute("aria-label", t("RetroWalk, back to workouts"));
  document.querySelector(".tabs")?.setAttribute("aria-label", t("Sections"));
  document.getElementById("phone-qr")?.setAttribute("alt", t("QR code of the address to open on your phone"));
  document.title = t("RetroWalk — backward walking coach");
}
