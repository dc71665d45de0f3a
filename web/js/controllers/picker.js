// The workouts tab: the picker, following a programme, and reading a plan file to import.

import { getProgrammes, startProgramme } from "../api.js";
import { showOnlineStatus, setStatus, toast } from "../chrome.js";
import { announce, h } from "../dom.js";
import { loadStrings, t } from "../i18n.js";
import { go, isCurrent, currentVisit, replaceWith } from "../router.js";
import { renderPicker } from "../screens/picker.js";
import { savedTimelines } from "../store.js";
import { app, loadPlans } from "./held.js";

/** The cache the service worker keeps cue audio in (see sw.js). */
const AUDIO_CACHE = "retrowalk-audio";
/** A plan file bigger than this is not a plan (200 intervals fit in far less). */
const MAX_PLAN_FILE_BYTES = 256 * 1024;

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** Plans whose timeline and every cue file this phone has: they can be played with no server. */
async function offlinePlayable() {
  const playable = new Set();
  if (!("caches" in window)) return playable;
  const cache = await caches.open(AUDIO_CACHE);
  for (const [planId, saved] of Object.entries(savedTimelines())) {
    const urls = [...new Set(saved.timeline.map((cue) => cue.audio))];
    const hits = await Promise.all(urls.map((url) => cache.match(url)));
    if (hits.every(Boolean)) playable.add(planId);
  }
  return playable;
}

/**
 * Pick a workout.
 * @param {{focusPlan?: string}} params `focusPlan`: a plan to scroll to and focus (one just saved or offered next)
 */
export async function showPicker({ focusPlan = null }) {
  const visit = currentVisit();
  showOnlineStatus();
  let result;
  let playable = new Set();
  let programmes = null;
  try {
    // All at once, so the picker is drawn once, with its "Works offline" marks and programme progress in place.
    [result, playable, programmes] = await Promise.all([
      loadPlans(), offlinePlayable().catch(() => new Set()), getProgrammes().catch(() => null)]);
  } catch (error) {
    if (!isCurrent(visit)) return;
    main.replaceChildren(h("div", { class: "screen-head" }, h("h1", { text: t("Pick a workout") })),
      h("p", { class: "error-box", text: `${error.message} ${t("Try again when you are connected.")}` }));
    return;
  }
  app.plans = result.plans;
  if (!isCurrent(visit)) return;
  if (result.offline) setStatus(t("Offline"), "off");
  renderPicker(main, {
    plans: result.plans,
    programmes,
    offline: result.offline,
    playable,
    focusPlan,
    onPick: (plan) => go(`#/plan/${encodeURIComponent(plan.id)}`),
    onFollow: followProgramme,
    onEdit: (plan) => go(`#/edit/${encodeURIComponent(plan.id)}`),
    onCopy: (plan) => go(`#/copy/${encodeURIComponent(plan.id)}`),
    onNew: () => { app.unsaved = null; go("#/edit/new"); },
    onImport: importFile,
  });
}

/** Follow a programme from its first session, then show it offered at the top. */
async function followProgramme(programme) {
  try {
    const followed = await startProgramme(programme.id);
    replaceWith(location.hash || "#/", { focusPlan: followed.progress.next_plan_id });
    announce(t("Following {name}. Next: {label}.", { name: followed.name, label: followed.progress.label }));
  } catch (error) {
    toast(error.message);
    replaceWith(location.hash || "#/");
  }
}

/** Read a plan file the walker picked, then offer it to save. */
async function importFile(file) {
  const [{ planFromFile }] = await Promise.all([import("../plans.js"), loadStrings("more")]);
  const incoming = file.size > MAX_PLAN_FILE_BYTES
    ? { plan: null, problems: [t("This file is too big to be a RetroWalk plan.")] }
    : planFromFile(await file.text());
  go("#/import", { incoming });
}
