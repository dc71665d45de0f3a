// The server's JSON API, with its one error shape turned into exceptions the screens can show.

import { t } from "./i18n.js";

/** How long an API call may take before the app treats the server as unreachable. */
const API_TIMEOUT_MS = 8000;

/** An answer from the server that says no: `error` is its short code, `message` a sentence. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} error
   * @param {string} message
   * @param {string[]} [problems]
   */
  constructor(status, error, message, problems = []) {
    super(message);
    this.status = status;
    this.error = error;
    /** One sentence per rule broken, when the server lists them (invalid_plan, invalid_settings). */
    this.problems = problems;
  }
}

/** The server could not be reached at all (no network, server down). */
export class Unreachable extends Error {}

/**
 * Call the API and return its JSON, or throw ApiError / Unreachable.
 * @param {string} path
 * @param {RequestInit & {json?: any}} [options]
 * @returns {Promise<any>}
 */
export async function call(path, options = {}) {
  const { json, ...init } = options;
  if (json !== undefined) {
    init.method = init.method || "POST";
    init.headers = { "Content-Type": "application/json", ...(init.headers || {}) };
    init.body = JSON.stringify(json);
  }
  init.credentials = "same-origin";
  let response;
  try {
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) });
  } catch (error) {
    throw new Unreachable(navigator.onLine === false ? t("You are offline.") : t("The RetroWalk server cannot be reached."));
  }
  if (response.status === 204) return null;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    if (response.status >= 502 && response.status <= 504 && !body) throw new Unreachable(t("The RetroWalk server cannot be reached."));
    throw new ApiError(response.status, body?.error || "http_error", body?.message || t("The server answered {status}.", { status: response.status }),
      Array.isArray(body?.problems) ? body.problems : []);
  }
  // The service worker answers from its cache when the network fails, and says so.
  if (response.headers.get("X-RetroWalk-Cache") === "offline") body = markOffline(body);
  return body;
}

/**
 * An answer that may come from the service worker's cache with no network: then `fromCache` is true.
 * @template T
 * @typedef {T & {fromCache?: boolean}} Cached
 */

/** Mark an answer as the cached one (not enumerable: it is never sent back or stored). */
function markOffline(body) {
  if (body && typeof body === "object") Object.defineProperty(body, "fromCache", { value: true });
  return body;
}

/** @returns {Promise<Cached<Array<object>>>} built-in plans, then this device's own */
export const getPlans = () => call("/api/plans");

/**
 * A walk prepared on the server, as POST /api/sessions answers (NEW_SESSION in server/openapi.py).
 * @typedef {{id: string, ws: string, state: string, created_at: number, plan: object, options: object,
 *   lead_ms: number, start_lead_ms: number, track?: string, track_lead_in_ms?: number,
 *   timeline: Array<object>, confirmations?: object|null}} NewSession
 */

/**
 * Create a live session of a plan; all its cue audio exists when this returns.
 * @param {string} planId
 * @returns {Promise<NewSession>}
 */
export const createSession = (planId) => call("/api/sessions", { json: { plan_id: planId } });

/**
 * Hand the server a walk played without it (idempotent per walk id: a retry never counts it twice).
 * @param {string} walkId made on the phone, 8-64 of [A-Za-z0-9_-]
 * @param {{plan_id: string, plan_name: string, segments: Array<object>, options: object, events: Array<{type: string, at: number}>,
 *   lead_ms?: number, end_ms?: number}} walk the log; lead_ms and end_ms as it was played (so it ends where the phone's did)
 * @returns {Promise<object>} the session as stored (201 the first time, 200 on a retry)
 */
export const putOfflineWalk = (walkId, walk) =>
  call(`/api/sessions/offline/${encodeURIComponent(walkId)}`, { method: "PUT", json: walk });

/**
 * Forget one of this device's finished walks.
 * @param {string} id
 * @returns {Promise<null>}
 */
export const deleteSession = (id) => call(`/api/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });

/** @returns {Promise<Cached<Array<object>>>} this device's past sessions, newest first */
export const getHistory = () => call("/api/history");

/** @returns {Promise<{url: string, secure: boolean, reachable: boolean}>} where a phone should open the app */
export const getPhoneAddress = () => call("/phone.json");

/**
 * Save a new plan of this device's own.
 * @param {{name: string, description?: string, segments: Array<object>}} plan
 * @returns {Promise<object>} the plan as stored, with its id
 */
export const createPlan = (plan) => call("/api/plans", { json: plan });

/**
 * Replace one of this device's plans.
 * @param {string} id
 * @param {{name: string, description?: string, segments: Array<object>}} plan
 * @returns {Promise<object>}
 */
export const updatePlan = (id, plan) => call(`/api/plans/${encodeURIComponent(id)}`, { method: "PUT", json: plan });

/**
 * Delete one of this device's plans.
 * @param {string} id
 * @returns {Promise<null>}
 */
export const deletePlan = (id) => call(`/api/plans/${encodeURIComponent(id)}`, { method: "DELETE" });

/** @returns {Promise<Cached<object>>} the programmes with this device's progress, and the next session offered */
export const getProgrammes = () => call("/api/programmes");

/**
 * Follow a programme from week 1, session 1.
 * @param {string} id
 * @returns {Promise<object>} the programme with its progress
 */
export const startProgramme = (id) => call(`/api/programmes/${encodeURIComponent(id)}/start`, { method: "POST" });

/** @returns {Promise<Cached<import("./settings.js").Settings>>} this device's settings */
export const getSettings = () => call("/api/settings");

/**
 * Change some settings (the others keep their value).
 * @param {object} changes
 * @returns {Promise<object>} every setting after the change
 */
export const putSettings = (changes) => call("/api/settings", { method: "PUT", json: changes });

/** @returns {Promise<Cached<object>>} this week's minutes, backward minutes, sessions, streak and calories */
export const getWeek = () => call("/api/stats/week");

/**
 * Chart data: a bar per week and a point per session.
 * @param {number} [weeks]
 * @returns {Promise<Cached<{weeks: Array<object>, sessions: Array<object>, target_minutes: number}>>}
 */
export const getWeeks = (weeks = 12) => call(`/api/stats/weeks?weeks=${weeks}`);

/**
 * One finished walk's minutes and calorie range.
 * @param {string} id
 * @returns {Promise<object>}
 */
export const getSessionStats = (id) => call(`/api/stats/sessions/${encodeURIComponent(id)}`);

/** Where the history downloads as a CSV file. */
export const HISTORY_CSV_URL = "/api/history.csv";
