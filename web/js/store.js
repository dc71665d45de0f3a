// What the phone remembers between visits (localStorage) that the first screen reads: the plans,
// programmes and settings last fetched, the workout in progress. What it keeps of walks (the
// safety check, timelines, walks played offline) is walkstore.js, loaded with the first walk.

const PREFIX = "retrowalk.";

/**
 * A value this phone remembers, or `fallback` (never saved, unreadable, storage off).
 * @param {string} key
 * @param {any} fallback
 * @param {() => Storage} [area] this tab's: () => sessionStorage
 * @returns {any}
 */
export function read(key, fallback, area = () => localStorage) {
  try {
    const raw = area().getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

/**
 * Remember a value on this phone (undefined forgets it); a full or disabled storage is only logged.
 * @param {string} key
 * @param {any} value
 * @param {() => Storage} [area] this tab's: () => sessionStorage
 */
export function write(key, value, area = () => localStorage) {
  try {
    if (value === undefined) area().removeItem(PREFIX + key);
    else area().setItem(PREFIX + key, JSON.stringify(value));
  } catch (error) {
    console.warn("Could not save on this phone:", error);
  }
}

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
