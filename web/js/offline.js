// What the phone keeps so that walks go on without the server, and still count:
// - the track of each walk (the service worker keeps it, sw.js; the page only says which),
// - the event log of each walk played without the server ({type, at} in server-clock ms,
//   under an id made here), uploaded with PUT /api/sessions/offline/<walk_id> when the server
//   is reachable again (on load, when the network returns, when the page comes back, after a
//   walk ends). The server is idempotent per id, so a retry never counts a walk twice.

import { ApiError, Unreachable, putOfflineWalk } from "./api.js";
import { forgetLocalHistory, saveServerClockAhead, saveWalkLogs, serverClockAhead, walkLogs } from "./walkstore.js";
import { FINISHED, READY, WalkRefused, endAt, replay, segmentStarts, settle, step, walkEndMs } from "./walkclock.js";

/** Random bytes in a walk id: 128 bits, so two phones never make the same one. */
const WALK_ID_BYTES = 16;
/** The controls a walk log keeps, by the `event` of the local session's state messages ("stopped" is a stop). */
const LOG_EVENT = Object.freeze({ start: "start", pause: "pause", resume: "resume", skip: "skip", stop: "stop", stopped: "stop" });
/**
 * A walk that completed by itself is uploaded once its end is this far in the past on the
 * phone's estimate of the server clock, so a small clock error cannot make it look unfinished.
 */
const SETTLE_MARGIN_MS = 5000;
/** The most events the server takes in one walk's log (server/sessions/offline.py MAX_EVENTS); the last place is kept for the stop. */
const MAX_LOG_EVENTS = 1000;
/** Sent on window when walks reached the server (detail: {count}), so a screen showing history can refresh. */
export const WALKS_UPLOADED = "retrowalk:walks-uploaded";

/** Walks logged by this page that have not ended: not uploaded (nor closed as abandoned) while they run. */
const walkingHere = new Set();

/**
 * A new walk id: 22 URL-safe characters (8-64 of [A-Za-z0-9_-], as the server wants).
 * crypto.getRandomValues, unlike randomUUID, works on plain http too (a phone on the LAN).
 * @returns {string}
 */
export function newWalkId() {
  const bytes = crypto.getRandomValues(new Uint8Array(WALK_ID_BYTES));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Ask the service worker to keep a walk's track for offline use (the whole file, fetched in
 * the background) and mark it as played now, so it is the last to be evicted.
 * @param {string} url the session's `track`
 */
export function keepTrack(url) {
  if (typeof url !== "string" || !("serviceWorker" in navigator)) return;
  // `ready` never settles on plain http (no worker): then there is nothing to keep it in anyway.
  navigator.serviceWorker.ready.then((registration) => registration.active?.postMessage({ type: "keep-track", url }), () => {});
}

/**
 * Remember how far the server's clock is ahead of this phone's, from a live session's clock,
 * so a walk played later without the server is logged in server-clock time.
 * @param {{synced: boolean, offset: number|null}} clock a ServerClock (offset: server time - performance.now())
 */
export function rememberServerClock(clock) {
  if (clock?.synced && typeof clock.offset === "number") saveServerClockAhead(Math.round(clock.offset - performance.timeOrigin));
}

/** The server clock now, as well as this phone knows it. */
const serverNow = () => Date.now() + (serverClockAhead() ?? 0);

/**
 * The log's walk as the clock model sees it (segment starts, lead and end as the walk was played).
 * @param {{segments: Array<object>, offsets: number[], lead_ms: number, events: Array<object>}} log
 */
function walkOf(log) {
  const starts = segmentStarts(log.segments);
  return { starts, endMs: walkEndMs(starts, log.offsets), walk: replay(starts, log.events, log.lead_ms, walkEndMs(starts, log.offsets)) };
}

/**
 * Add an event to a walk log if the clock model accepts it (the server replays the log with
 * the same model and refuses the whole log at an event that does not apply).
 * @param {object} log
 * @param {{type: string, at: number}} event
 * @returns {boolean} true when added
 */
export function addEvent(log, event) {
  try {
    const { starts, endMs, walk } = walkOf(log);
    step(walk, starts, event, log.lead_ms, endMs);
  } catch (error) {
    if (error instanceof WalkRefused) return false;
    throw error;
  }
  log.events.push(event);
  return true;
}

/**
 * Close the log of a walk whose page went away before it ended: a walk that reached its end
 * completed by itself; one still running or paused is stopped at `now` (the first time the
 * phone notices); one never started is nothing to upload (null).
 * @param {object} log
 * @param {number} now server-clock ms
 * @returns {object|null} the log, ended
 */
export function closeAbandoned(log, now) {
  if (log.ended) return log;
  if (!log.events.length) return null;
  const { endMs, walk } = walkOf(log);
  if (walk.state === READY) return null;
  const settled = settle(walk, endMs, now);
  const events = settled.state === FINISHED ? log.events : [...log.events, { type: "stop", at: Math.max(now, walk.last_at) }];
  return { ...log, events, ended: true };
}

/**
 * True when an ended log's walk is over on the server's clock too: stopped, or completed by
 * itself with its end at least SETTLE_MARGIN_MS before `now`.
 * @param {object} log
 * @param {number} now server-clock ms
 */
export function settledBy(log, now) {
  const { endMs, walk } = walkOf(log);
  const end = endAt(walk, endMs);
  return end === null || end <= now - SETTLE_MARGIN_MS;
}

/**
 * Note a state message of a walk played without the server (from the coach): start opens
 * the walk's log on this phone; pause, resume, skip and stop join it.
 * @param {string} walkId the local session's id (newWalkId)
 * @param {{plan: object, options: object|null, timeline: Array<object>, leadMs: number}} walk
 * @param {{type: string, event?: string, server_time?: number, at?: number}} msg
 */
export function recordWalkEvent(walkId, walk, msg) {
  const type = LOG_EVENT[msg?.event];
  const stamp = msg?.at ?? msg?.server_time;
  if (msg?.type !== "state" || !type || typeof stamp !== "number") return;
  const logs = walkLogs();
  let log = logs.find((entry) => entry.id === walkId);
  if (!log) {
    if (type !== "start") return;
    log = {
      id: walkId, plan_id: walk.plan.id, plan_name: walk.plan.name, segments: walk.plan.segments,
      options: walk.options || {}, offsets: walk.timeline.map((cue) => cue.offset_ms), lead_ms: walk.leadMs,
      events: [], ended: false,
    };
    logs.push(log);
  }
  if (log.ended || (log.events.length >= MAX_LOG_EVENTS - 1 && type !== "stop")) return;
  const event = { type, at: Math.round(stamp + (serverClockAhead() ?? 0)) };
  if (!addEvent(log, event)) {
    console.info(`Not logged (the clock model refuses it): ${type}`);
    return;
  }
  walkingHere.add(walkId);
  saveWalkLogs(logs);
}

/**
 * The walk played without the server has ended: its log is complete; try to upload it now.
 * @param {string} walkId
 */
export function closeWalkLog(walkId) {
  walkingHere.delete(walkId);
  const logs = walkLogs();
  const log = logs.find((entry) => entry.id === walkId);
  if (log && !log.ended) {
    log.ended = true;
    saveWalkLogs(logs);
  }
  uploadWalks();
}

/** Replace (or with null drop) one log, read fresh: an upload in flight must not undo newer changes. */
function updateLog(id, next) {
  saveWalkLogs(walkLogs().flatMap((entry) => (entry.id !== id ? [entry] : next ? [next] : [])));
}

let uploading = null;
let settleTimer = null;

/**
 * Upload every ended walk log the server does not have yet; one run at a time.
 * @returns {Promise<number>} how many walks reached the server
 */
export function uploadWalks() {
  uploading ??= uploadAll().finally(() => { uploading = null; });
  return uploading;
}

/** Try the uploads again once a just-ended walk is clearly over on the server's clock. */
function retrySoon() {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => uploadWalks(), SETTLE_MARGIN_MS);
}

async function uploadAll() {
  let uploaded = 0;
  for (const stored of walkLogs()) {
    if (walkingHere.has(stored.id)) continue;
    let log = stored;
    try {
      log = closeAbandoned(stored, serverNow());
    } catch (error) {
      // A log the clock model cannot read (an older phone's): nothing the server would take either.
      console.warn("A walk log on this phone cannot be read; dropped.", error);
      log = null;
    }
    if (log !== stored) updateLog(stored.id, log);
    if (!log) continue;
    if (!settledBy(log, serverNow())) {
      // Completed a moment ago: upload once its end is clearly past on the server's clock too.
      retrySoon();
      continue;
    }
    // The lead it was played with and where it ended on its own (its last cue, if after the
    // plan's end), so the server's replay ends where the phone's did.
    const body = {
      plan_id: log.plan_id, plan_name: log.plan_name, segments: log.segments, options: log.options, events: log.events,
      lead_ms: log.lead_ms, end_ms: walkOf(log).endMs,
    };
    try {
      await putOfflineWalk(log.id, body);
    } catch (error) {
      if (error instanceof Unreachable) break;
      if (error instanceof ApiError && error.status === 400) {
        // The server will never take this log; it stays in this phone's own history.
        console.warn(`The server refused the walk played offline (${log.plan_name}): ${error.message}`);
        updateLog(log.id, null);
      } else if (error instanceof ApiError && error.error === "walk_not_finished") {
        // Still under way by the server's clock (the clocks differ a little): again in a moment.
        retrySoon();
      }
      // Anything else (a server without this route yet, a server error): kept for the next try.
      continue;
    }
    updateLog(log.id, null);
    forgetLocalHistory(log.id);
    uploaded += 1;
  }
  if (uploaded) window.dispatchEvent(new CustomEvent(WALKS_UPLOADED, { detail: { count: uploaded } }));
  return uploaded;
}

/** Upload the walks played offline now, and again whenever the network returns or the page comes back. */
export function uploadWhenReachable() {
  window.addEventListener("online", () => uploadWalks());
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") uploadWalks(); });
  uploadWalks();
}
