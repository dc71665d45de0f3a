// The settings tab: units, weight, cue options, the programme followed, and the language,
// which redraws every screen in it at once.

import { getProgrammes } from "../api.js";
import { showOnlineStatus, toast } from "../chrome.js";
import { language, loadStrings, t, useLanguage } from "../i18n.js";
import { translateChrome } from "../pagewords.js";
import { currentVisit, isCurrent, route } from "../router.js";
import { SETTINGS_RULES, changeSettings, loadSettings } from "../settings.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** The device's settings, each saved as soon as it changes. */
export async function showSettings() {
  const visit = currentVisit();
  showOnlineStatus();
  const [{ renderSettings }, settings, programmes] = await Promise.all([
    import("../screens/settings.js"), loadSettings(), getProgrammes().catch(() => null), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  const followed = programmes?.programmes.find((p) => p.id === settings.programme);
  renderSettings(main, {
    settings,
    programmeName: followed?.name || null,
    offline: navigator.onLine === false || Boolean(settings.fromCache),
    onChange: async (changes) => {
      const saved = await changeSettings(changes);
      // The picker draws from the answers last fetched: plan names and units, and the programme followed, change with these.
      if (["lang", "units", "programme"].some((name) => name in changes)) import("./pickerdata.js").then((data) => data.refreshRemembered());
      // A new language: every screen in it from now on, this one redrawn at once in it.
      if (changes.lang && changes.lang !== language()) {
        await useLanguage(saved.lang);
        translateChrome();
        setTimeout(() => {
          route();
          toast(t("Saved: screens and voice in {language}.", { language: SETTINGS_RULES.LANGUAGES[saved.lang] || saved.lang }));
        }, 0);
      }
      return saved;
    },
  });
}
