// The app on the walker's devices, loaded after the first screen (part of the page furniture,
// chrome.js, kept apart so the first screen does not wait for it): the service worker that keeps
// the app offline and offers a new version between walks (updates.js), and on a desktop the QR
// code that takes the app to the phone.

import { getPhoneAddress } from "./api.js";
import { loadScreenStyles, toast } from "./chrome.js";
import { h } from "./dom.js";
import { loadStrings, t } from "./i18n.js";
import { watchForUpdates } from "./updates.js";

/** Wide screens with a mouse are desktops: they show the QR code for the phone. */
const DESKTOP_QUERY = "(min-width: 960px) and (pointer: fine)";

/**
 * On a desktop, beside the app, the address to open on the phone as a QR code (its rules and strings
 * come with the later screens'; a phone's first screen carries none of it).
 */
export async function showPhonePanel() {
  if (!matchMedia(DESKTOP_QUERY).matches) return;
  let phone;
  try {
    [phone] = await Promise.all([getPhoneAddress(), loadScreenStyles(), loadStrings("more")]);
  } catch {
    return;
  }
  const notes = [];
  if (!phone.reachable) notes.push(t("This address only works on this computer: start the server with --host 0.0.0.0 to reach it from a phone."));
  if (!phone.secure) notes.push(t("Over plain http a phone can play workouts, but installing the app, keeping the screen awake and playing offline need https: serve it with a certificate (--certfile and --keyfile), or behind an https proxy or tunnel."));
  document.getElementById("phone-panel")?.remove();
  document.querySelector(".layout")?.append(
    h("aside", { id: "phone-panel", class: "phone-panel", "aria-labelledby": "phone-title" },
      h("h2", { id: "phone-title", text: t("Take it to the gym") }),
      h("p", { text: t("Scan this with your phone's camera to open RetroWalk there, then add it to your home screen.") }),
      h("img", { id: "phone-qr", src: "/phone-qr.svg", alt: t("QR code of the address to open on your phone"), width: 220, height: 220 }),
      h("p", { class: "phone-url" }, h("a", { id: "phone-url", href: phone.url, text: phone.url })),
      h("p", { id: "phone-note", class: "note", text: notes.join(" ") })));
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
