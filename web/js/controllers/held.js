// What the app holds between screens: the plans list last fetched, the walk under way, the
// walk just finished, edits left unsaved in the editor, and walks being deleted. Only the
// controllers read and change it; one-shot route parameters travel in history.state instead
// (router.js).

import { Unreachable, getPlans } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { lastPlans, savePlans, savedTimeline } from "../store.js";

/** What the app holds between screens. */
export const app = {
  /** @type {Array<object>|null} the plans as last fetched (built-in ones, then the device's own) */
  plans: null,
  /** @type {import("../coach.js").Coach|null} the walk being prepared or walked */
  coach: null,
  /** @type {{plan: object, summary: object, sessionId: string|null}|null} the walk that just ended, for the summary */
  finished: null,
  /** @type {{hash: string, draft: object, units: string}|null} edits left unsaved in the editor, by its address */
  unsaved: null,
  /** @type {Set<string>} history entries deleted on screen whose Undo has not run out yet */
  deleting: new Set(),
};

/** @returns {boolean} true while a walk runs or is paused (not while it is only prepared) */
export const walking = () => app.coach?.state.state === "running" || app.coach?.state.state === "paused";

/**
 * The plans from the server, remembered for offline use; offline, the ones last remembered.
 * @returns {Promise<{plans: Array<object>, offline: boolean}>}
 */
export async function loadPlans() {
  try {
    const plans = await getPlans();
    savePlans(plans);
    return { plans, offline: Boolean(plans.fromCache) };
  } catch (error) {
    const remembered = lastPlans();
    if (error instanceof Unreachable && remembered) return { plans: remembered, offline: true };
    throw error;
  }
}

/**
 * A plan by id: from the list held (fetched again when `fresh`), else from a timeline played here.
 * @param {string} id
 * @param {boolean} [fresh] fetch the list again first (a plan saved a moment ago)
 * @returns {Promise<object|null>}
 */
export async function findPlan(id, fresh = false) {
  if (!app.plans || fresh) {
    try { app.plans = (await loadPlans()).plans; } catch { app.plans = app.plans || []; }
  }
  return app.plans.find((p) => p.id === id) || savedTimeline(id)?.plan || null;
}

/**
 * Say a plan asked for by its address does not exist.
 * @param {HTMLElement} root
 */
export function missingPlan(root) {
  root.replaceChildren(h("p", { class: "error-box", text: t("This workout does not exist (any more).") }));
}
