// What the phone remembers between visits (localStorage): the safety check, the timelines
// of workouts played before (for playing them offline), workouts played offline and their
// event logs until the server has them, the workout in progress.

const PREFIX = "retrowalk.";
/** Workouts played offline kept on the phone. */
const MAX_LOCAL_HISTORY = 100;

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    if (value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch (error) {
    console.warn("Could not save on this phone:", error);
  }
}

/** @returns {boolean} true once the walker has confirmed the safety check */
export const safetyConfirmed = () => read("safety", null) !== null;

/** Remember that the safety check was confirmed (and when). */
export const confirmSafety = () => write("safety", { at: Date.now() });

/**
 * A plan's compiled timeline as this phone remembers it, to play the plan without the server.
 * @typedef {{plan: object, timeline: Array<object>, options?: object|null, track?: string|null,
 *   track_lead_in_ms?: number|null, confirmations?: object|null, savedAt?: number}} SavedTimeline
 */

/**
 * Keep a plan's compiled timeline so it can be played without the server.
 * @param {object} plan the plan as the API gives it
 * @param {Array<object>} timeline cues with offset_ms, kind, text, audio, segment
 * @param {{options?: object|null, track?: string|null, trackLeadInMs?: number|null, confirmations?: object|null}} [extras]
 *   the cue options it was compiled with (units, language); the walk's track (pocket mode plays
 *   it offline from the service worker's cache) and the quiet before its position 0; what
 *   pause, resume and skip say (the session's `confirmations`)
 */
export function saveTimeline(plan, timeline, { options = null, track = null, trackLeadInMs = null, confirmations = null } = {}) {
  const all = read("timelines", {});
  all[plan.id] = { plan, timeline, options, track, track_lead_in_ms: trackLeadInMs, confirmations, savedAt: Date.now() };
  write("timelines", all);
}

/**
 * A plan's remembered timeline, if it was played here before.
 * @param {string} planId
 * @returns {SavedTimeline|null}
 */
export const savedTimeline = (planId) => read("timelines", {})[planId] || null;

/** @returns {Record<string, SavedTimeline>} every remembered timeline */
export const savedTimelines = () => read("timelines", {});

/** @returns {Array<object>} the plans list as last fetched (for the picker when offline) */
export const lastPlans = () => read("plans", null);

/** @param {Array<object>} plans */
export const savePlans = (plans) => write("plans", plans);

/** @returns {object|null} the programmes answer as last fetched (the picker is drawn from it before the server answers) */
export const lastProgrammes = () => read("programmes", null);

/** @param {object} programmes GET /api/programmes */
export const saveProgrammes = (programmes) => write("programmes", programmes);

/** @returns {string[]} the plans found playable with no server when the picker last looked (its first draw marks them) */
export const lastPlayable = () => read("playable", []);

/** @param {string[]} planIds */
export const savePlayable = (planIds) => write("playable", planIds);

/**
 * Add a workout played offline to this phone's own history.
 * @param {object} entry
 */
export function addLocalHistory(entry) {
  const list = read("history", []);
  list.unshift(entry);
  write("history", list.slice(0, MAX_LOCAL_HISTORY));
}

/** @returns {Array<object>} workouts played offline on this phone, newest first */
export const localHistory = () => read("history", []);

/**
 * Forget a workout of this phone's own history (the server has it now, so it is shown from there).
 * @param {string} id
 */
export const forgetLocalHistory = (id) => write("history", read("history", []).filter((entry) => entry.id !== id));

/** Logs of walks played without the server kept for upload (a walk is a few events; the oldest go first). */
const MAX_WALK_LOGS = 100;

/** @returns {Array<object>} event logs of walks played without the server, not yet on the server, oldest first */
export const walkLogs = () => read("walklogs", []);

/** @param {Array<object>} logs */
export const saveWalkLogs = (logs) => write("walklogs", logs.slice(-MAX_WALK_LOGS));

/** @returns {number|null} how far the server's clock was ahead of this phone's when they last talked (ms) */
export const serverClockAhead = () => read("clockahead", null);

/** @param {number} ms */
export const saveServerClockAhead = (ms) => write("clockahead", ms);

/**
 * Remember (or forget, with null) the workout in progress, to rejoin it after a reload.
 * @param {object|null} active
 */
export const saveActive = (active) => write("active", active ?? undefined);

/** @returns {object|null} the workout in progress when the page was last open */
export const activeWorkout = () => read("active", null);

/** @returns {object|null} the device's settings as last fetched or saved (see settings.js) */
export const lastSettings = () => read("settings", null);

/** @param {object} settings */
export const saveSettingsCopy = (settings) => write("settings", settings);
