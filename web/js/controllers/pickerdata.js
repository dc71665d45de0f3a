// The picker's work with the server, loaded after the first screen: the plans, the programmes
// and the plans this phone can play offline, fetched and remembered for the next first draw;
// following a programme; reading a plan file to import.

import { Unreachable, getProgrammes, startProgramme } from "../api.js";
import { toast } from "../chrome.js";
import { announce } from "../dom.js";
import { loadStrings, t } from "../i18n.js";
import { go, replaceWith } from "../router.js";
import { savePlayable, saveProgrammes } from "../store.js";
import { savedTimelines } from "../walkstore.js";
import { app } from "./held.js";
import { loadPlans } from "./planlist.js";

/** The cache the service worker keeps cue audio in (see sw.js). */
const AUDIO_CACHE = "retrowalk-audio";
/** A plan file bigger than this is not a plan (200 intervals fit in far less). */
const MAX_PLAN_FILE_BYTES = 256 * 1024;

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
 * What the picker shows, from the server (remembered on the phone for the next first draw).
 * @param {{plans: Array<object>, programmes: object|null, offline: boolean, playable: string[]}} shown what is drawn now
 * @returns {Promise<{plans: Array<object>, programmes: object|null, offline: boolean, playable: string[]}>} the same, fresh
 * @throws {import("../api.js").ApiError} when the server refuses the plans (unreachable is not an error: offline)
 */
export async function freshPickerData(shown) {
  const [plans, playable, programmes] = await Promise.allSettled([loadPlans(), offlinePlayable(), getProgrammes()]);
  if (plans.status === "fulfilled") app.plans = plans.value.plans;
  else if (!(plans.reason instanceof Unreachable)) throw plans.reason;
  if (programmes.status === "fulfilled" && !programmes.value.fromCache) saveProgrammes(programmes.value);
  const fresh = {
    // Unreachable with nothing remembered: the built-in plans stay, marked as needing the server once.
    plans: plans.status === "fulfilled" ? plans.value.plans : shown.plans,
    programmes: programmes.status === "fulfilled" ? programmes.value : shown.programmes,
    offline: plans.status === "rejected" || plans.value.offline,
    playable: playable.status === "fulfilled" ? [...playable.value].sort() : shown.playable,
  };
  savePlayable(fresh.playable);
  return fresh;
}

/**
 * Fetch the plans and programmes again for the picker's next first draw (their names, units and
 * progress change with the settings).
 * @returns {Promise<void>}
 */
export async function refreshRemembered() {
  await Promise.allSettled([loadPlans(), getProgrammes().then(saveProgrammes)]);
}

/** Follow a programme from its first workout, then show it offered at the top. */
export async function followProgramme(programme) {
  const here = location.hash;
  try {
    const [followed] = await Promise.all([startProgramme(programme.id), loadStrings("more")]);
    // The picker is drawn from the programmes last fetched: fetched again first, it is drawn once, following.
    await getProgrammes().then(saveProgrammes, () => {});
    // A walker who went to another screen meanwhile stays there (the picker shows it next time).
    if (location.hash !== here) return;
    replaceWith(here || "#/", { focusPlan: followed.progress.next_plan_id });
    announce(t("Following {name}. Next: {label}.", { name: followed.name, label: followed.progress.label }));
  } catch (error) {
    toast(error.message);
    if (location.hash === here) replaceWith(here || "#/");
  }
}

/** Read a plan file the walker picked, then offer it to save. */
export async function importFile(file) {
  const [{ planFromFile }] = await Promise.all([import("../plans.js"), loadStrings("more")]);
  const incoming = file.size > MAX_PLAN_FILE_BYTES
    ? { plan: null, problems: [t("This file is too big to be a RetroWalk plan.")] }
    : planFromFile(await file.text());
  go("#/import", { incoming });
}
