// The plans list: fetched from the server and remembered on the phone for offline use, and a
// plan looked up by id (in the list, else in a timeline played on this phone), or said missing.

import { Unreachable, getPlans } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { lastPlans, savePlans } from "../store.js";
import { savedTimeline } from "../walkstore.js";
import { app } from "./held.js";

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
 * Keep a plan just saved in the list held and remembered, where the server lists it (a new one
 * last, a changed one in its place), so the picker's first draw already shows it.
 * @param {object} plan the plan as the server answered it
 */
export function rememberPlan(plan) {
  const plans = app.plans || lastPlans() || [];
  const at = plans.findIndex((p) => p.id === plan.id);
  app.plans = at < 0 ? [...plans, plan] : plans.map((p) => (p.id === plan.id ? plan : p));
  savePlans(app.plans);
}

/**
 * Drop a deleted plan from the list held and remembered, so the picker never draws it again.
 * @param {string} id
 */
export function forgetPlan(id) {
  app.plans = (app.plans || lastPlans() || []).filter((p) => p.id !== id);
  savePlans(app.plans);
}

/**
 * Say a plan asked for by its address does not exist.
 * @param {HTMLElement} root
 */
export function missingPlan(root) {
  root.replaceChildren(h("p", { class: "error-box", text: t("This workout does not exist (any more).") }));
}
