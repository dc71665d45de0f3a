// RetroWalk's phone app starts here: the screens in the walker's language, a walk left
// running rejoined, then the screen the address names (router.js); once it is painted, what
// it did not need. The README's Layout section maps the modules.

import { afterPaint, loadScreenStyles, showBanner, showOnlineStatus } from "./chrome.js";
import { app, walking } from "./controllers/held.js";
import { language, useLanguage } from "./i18n.js";
import { route, startRouting } from "./router.js";
import { activeWorkout, lastSettings } from "./store.js";

/** The screens in the language last chosen on this phone (the settings module and the API under it load after the first screen). */
async function startInLanguage() {
  const lang = lastSettings()?.lang || "en";
  // The page's own words come beside the strings; index.html already says them in English.
  const words = lang === "en" ? null : import("./pagewords.js");
  await useLanguage(lang);
  (await words)?.translateChrome();
}

/** Fresh settings (units, language) and, once, the phone's time zone; another phone may have changed the language. */
async function followServerLanguage() {
  const { loadSettings } = await import("./settings.js");
  const settings = await loadSettings();
  if (settings.lang === language()) return;
  await useLanguage(settings.lang);
  (await import("./pagewords.js")).translateChrome();
  route();
}

/** A walk left running (a reload, the phone closed the page): rejoined before any screen, when there is one. */
async function rejoinWalk() {
  if (!activeWorkout()?.session) return;
  const { rejoin } = await import("./controllers/walk.js");
  await rejoin();
}

/** What the first screen does not need, once it is painted. */
async function afterFirstScreen() {
  await afterPaint();
  // The later screens' rules, ready before the walker taps a workout.
  loadScreenStyles();
  followServerLanguage().catch(() => {});
  import("./install.js").then(({ registerServiceWorker, showPhonePanel }) => {
    registerServiceWorker(walking);
    showPhonePanel();
  });
  const { WALKS_UPLOADED, uploadWhenReachable } = await import("./offline.js");
  // Walks played without the server go to it now, and whenever it is reachable again.
  uploadWhenReachable();
  // Screens that show them are drawn again with the walks just counted.
  window.addEventListener(WALKS_UPLOADED, () => { if (["#/history", "#/progress"].includes(location.hash)) route(); });
}

window.addEventListener("online", showOnlineStatus);
window.addEventListener("offline", showOnlineStatus);
// The page holds the first screen's rules: the picker is drawn as soon as the language and a walk to rejoin are known.
Promise.allSettled([rejoinWalk(), startInLanguage()]).then(() => {
  startRouting({ enter: () => showBanner(app.coach) });
  afterFirstScreen();
});
