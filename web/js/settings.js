// The device's settings (units, weight, cue options, voice language, time zone, audio mode): fetched from
// the server, remembered on the phone for offline use, and the time zone sent once.

import { getSettings, putSettings } from "./api.js";
import { lastSettings, saveSettingsCopy } from "./store.js";

/**
 * A device's settings (server/settings.py); `fromCache` when the service worker answered with no network.
 * @typedef {{units: string, weight_kg: number|null, countdown: number, halfway: boolean, time_remaining: boolean,
 *   lang: string, timezone: string|null, programme: string|null, audio_mode: string, fromCache?: boolean}} Settings
 */

/**
 * What a new device starts with (server/settings.py).
 * @type {Readonly<Settings>}
 */
export const DEFAULT_SETTINGS = Object.freeze({
  units: "mph", weight_kg: null, countdown: 3, halfway: true, time_remaining: true, lang: "en", timezone: null, programme: null,
  audio_mode: "pocket",
});

/** The server's rules for settings (server/settings.py, server/cues.py); tests/test_web.py checks they match. */
export const SETTINGS_RULES = Object.freeze({
  MIN_WEIGHT_KG: 25,
  MAX_WEIGHT_KG: 300,
  COUNTDOWN_CHOICES: [0, 3, 5, 10],
  LANGUAGES: { en: "English", es: "Español", de: "Deutsch", fr: "Français" },
});

/** The phone's own IANA time zone ("Europe/Madrid"), or null where the browser does not say. */
export function phoneTimezone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/**
 * The settings as last known on this phone (defaults until the server has answered once).
 * @returns {Settings}
 */
export function currentSettings() {
  return { ...DEFAULT_SETTINGS, ...(lastSettings() || {}) };
}

/** @type {Promise<Settings>|null} the load under way, shared by whoever asks meanwhile */
let loading = null;

/**
 * Fetch the settings, and tell the server the phone's time zone when it does not know it
 * yet (weeks start on Monday in the walker's own zone). Offline: the remembered ones.
 * @returns {Promise<Settings>}
 */
export function loadSettings() {
  // One load at a time: the app's start and the settings screen may both ask.
  loading ??= fetchSettings().finally(() => { loading = null; });
  return loading;
}

async function fetchSettings() {
  let settings;
  try {
    settings = await getSettings();
  } catch {
    return currentSettings();
  }
  saveSettingsCopy(settings);
  const zone = phoneTimezone();
  if (zone && settings.timezone !== zone && !settings.fromCache) {
    // Once per zone: a phone that travels sends its new zone, a settled one never again.
    try { settings = await changeSettings({ timezone: zone }); } catch { /* an unknown zone name: weeks stay in UTC */ }
  }
  return settings;
}

/**
 * Change some settings on the server and remember the result here.
 * @param {Partial<Settings>} changes
 * @returns {Promise<Settings>} every setting after the change
 * @throws {import("./api.js").ApiError|import("./api.js").Unreachable}
 */
export async function changeSettings(changes) {
  const settings = await putSettings(changes);
  saveSettingsCopy(settings);
  return settings;
}
