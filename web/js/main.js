// RetroWalk's phone app starts here: the screens in the walker's language, a walk left
// running rejoined, then the screen the address names (router.js); after the first screen,
// what it did not need: the service worker (chrome.js), walks played offline sent to the
// server (offline.js), the desktop's phone panel.
//
// The module map: router.js (addresses -> controllers, one-shot parameters in history.state),
// chrome.js (toast, status line, banner, phone panel, service worker), controllers/*.js (what
// each screen fetches and does; held.js is what they hold between screens), screens/*.js (each
// screen drawn from plain data and callbacks), and the walk machinery that loads with the first walk (coach.js).

import { showBanner, showOnlineStatus, showPhonePanel, registerServiceWorker, translateChrome } from "./chrome.js";
import { app, walking } from "./controllers/held.js";
// The picker is the first screen of almost every visit: its controller comes with the page.
import "./controllers/picker.js";
import { language, useLanguage } from "./i18n.js";
import { route, startRouting } from "./router.js";
import { currentSettings, loadSettings } from "./settings.js";
import { activeWorkout } from "./store.js";

/** The screens in the language last chosen on this phone, then in the one the server has (another phone may have changed it). */
async function startInLanguage() {
  await useLanguage(currentSettings().lang);
  translateChrome();
  loadSettings().then(async (settings) => {
    if (settings.lang === language()) return;
    await useLanguage(settings.lang);
    translateChrome();
    route();
  }, () => {});
}

/** A walk left running (a reload, the phone closed the page): rejoined before any screen, when there is one. */
async function rejoinWalk() {
  if (!activeWorkout()?.session) return;
  const { rejoin } = await import("./controllers/walk.js");
  await rejoin();
}

/** What the first screen does not need, once it is drawn. */
async function afterFirstScreen() {
  registerServiceWorker(walking);
  showPhonePanel();
  const { WALKS_UPLOADED, uploadWhenReachable } = await import("./offline.js");
  // Walks played without the server go to it now, and whenever it is reachable again.
  uploadWhenReachable();
  // Screens that show them are drawn again with the walks just counted.
  window.addEventListener(WALKS_UPLOADED, () => { if (["#/history", "#/progress"].includes(location.hash)) route(); });
}

window.addEventListener("online", showOnlineStatus);
window.addEventListener("offline", showOnlineStatus);
Promise.allSettled([rejoinWalk(), startInLanguage()]).then(() => {
  startRouting({ enter: () => showBanner(app.coach) });
  afterFirstScreen();
});
