// The app on the walker's devices, loaded after the first screen (part of the page furniture,
// chrome.js, kept apart so the first screen does not wait for it): the service worker that keeps
// the app offline and offers a new version between walks (updates.js), and on a desktop the QR
// code that takes the app to the phone.

import { getPhoneAddress } from "./api.js";
import { loadScreenStyles, toast } from "./chrome.js";
import { loadStrings, t } from "./i18n.js";
import { watchForUpdates } from "./updates.js";

/** Wide screens with a mouse are desktops: they show the QR code for the phone. */
const DESKTOP_QUERY = "(min-width: 960px) and (pointer: fine)";

/** On a desktop, the address to open on the phone as a QR code (its rules and strings come with the later screens'). */
export async function showPhonePanel() {
  if (!matchMedia(DESKTOP_QUERY).matches) return;
  const panel = /** @type {HTMLElement} */ (document.getElementById("phone-panel"));
  try {
    const [phone] = await Promise.all([getPhoneAddress(), loadScreenStyles(), loadStrings("more")]);
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
 * (updates.js).
 * @param {() => boolean} walking true while a walk is under way (the offer waits for its end)
 */
export function registerServiceWorker(walking) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((registration) => {
    // A browser that blocks service workers (a policy, a test harness) may answer with no registration.
    if (!registration) return;
    watchForUpdates(registration, {
      walking,
      // The offer's words are in the strings loaded with the later screens.
      offer: (update) => loadStrings("more").then(() =>
        toast(t("A new version of RetroWalk is ready."), { label: t("Reload to update"), run: update }, { stay: true })),
    });
  }, (error) => {
    // Plain http on a LAN address: no service worker, the app still works online.
    console.info("No offline support here:", error.message);
  });
}
