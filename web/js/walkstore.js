// What the phone keeps of walks (localStorage, through store.js): the safety check, the
// timelines of workouts played before (for playing them offline), workouts played offline and
// their event logs until the server has them, how far the server's clock is ahead; and, for this
// tab only, the walk just ended. Loaded with the first walk or after the first screen, not with the page.

import { read, write } from "./store.js";

/** This tab's storage (the store's `area`): what lasts across its reloads, not between visits. */
const TAB = () => sessionStorage;

/** @typedef {{plan: object, summary: object, sessionId: string|null}} FinishedWalk */

/** @type {FinishedWalk|null} the walk this tab last ended, held here too for a tab whose storage is off or full */
let finishedHere = null;

/**
 * Keep the walk that just ended for this tab (sessionStorage): a phone that discards the page while
 * it is locked (the walk over, its sound stopped) reloads it at the summary.
 * @param {FinishedWalk} finished
 */
export function keepFinishedWalk(finished) {
  finishedHere = finished;
  write("finished", finished, TAB);
}

/** @returns {FinishedWalk|null} the walk that last ended in this tab, after a reload too */
export const finishedWalkOfTab = () => finishedHere ?? read("finished", null, TAB);

/**
 * Forget the walk this tab last ended when it is the one deleted from history: its summary is not
 * shown again (Back to it, a reload at #/summary).
 * @param {string} sessionId
 */
export function forgetFinishedWalk(sessionId) {
  if (finishedWalkOfTab()?.sessionId !== sessionId) return;
  finishedHere = null;
  write("finished", undefined, TAB);
}

/** Workouts played offline kept on the phone. */
const MAX_LOCAL_HISTORY = 100;

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
