// The server's JSON API, with its one error shape turned into exceptions the screens can show.

/** How long an API call may take before the app treats the server as unreachable. */
const API_TIMEOUT_MS = 8000;

/** An answer from the server that says no: `error` is its short code, `message` a sentence. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} error
   * @param {string} message
   */
  constructor(status, error, message) {
    super(message);
    this.status = status;
    this.error = error;
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
    throw new Unreachable(navigator.onLine === false ? "You are offline." : "The RetroWalk server cannot be reached.");
  }
  if (response.status === 204) return null;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    if (response.status >= 502 && response.status <= 504 && !body) throw new Unreachable("The RetroWalk server cannot be reached.");
    throw new ApiError(response.status, body?.error || "http_error", body?.message || `The server answered ${response.status}.`);
  }
  // The service worker answers from its cache when the network fails, and says so.
  if (response.headers.get("X-RetroWalk-Cache") === "offline") body = markOffline(body);
  return body;
}

function markOffline(body) {
  if (body && typeof body === "object") Object.defineProperty(body, "fromCache", { value: true });
  return body;
}

/** @returns {Promise<Array<object>>} built-in plans, then this device's own */
export const getPlans = () => call("/api/plans");

/**
 * Create a live session of a plan; all its cue audio exists when this returns.
 * @param {string} planId
 * @returns {Promise<{id: string, ws: string, timeline: Array<object>}>}
 */
export const createSession = (planId) => call("/api/sessions", { json: { plan_id: planId } });

/** @returns {Promise<Array<object>>} this device's past sessions, newest first */
export const getHistory = () => call("/api/history");

/** @returns {Promise<{url: string, secure: boolean, reachable: boolean}>} where a phone should open the app */
export const getPhoneAddress = () => call("/phone.json");
