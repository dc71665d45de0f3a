// The page's own words (the skip link, the tabs, the desktop's phone panel, the title) in the
// walker's language. index.html says them in English: a page in English needs none of this, so it
// loads only for another language, or when the walker changes it.

import { t } from "./i18n.js";

/** The page's own words (tabs, links, the title, the desktop panel) in the walker's language. */
export function translateChrome() {
  const texts = {
    ".skip-link": t("Skip to content"),
    '.tabs [data-tab="workouts"] span': t("Workouts"),
    '.tabs [data-tab="progress"] span': t("Progress"),
    '.tabs [data-tab="history"] span': t("History"),
    '.tabs [data-tab="settings"] span': t("Settings"),
  };
  for (const [selector, text] of Object.entries(texts)) {
    const element = document.querySelector(selector);
    if (element) element.textContent = text;
  }
  document.querySelector(".brand")?.setAttribute("aria-label", t("RetroWalk, back to workouts"));
  document.querySelector(".tabs")?.setAttribute("aria-label", t("Sections"));
  document.title = t("RetroWalk — backward walking coach");
  // The desktop panel (install.js: its notes depend on the phone's address) is made again, whole, in the new language.
  if (document.getElementById("phone-panel")) import("./install.js").then(({ showPhonePanel }) => showPhonePanel());
}
