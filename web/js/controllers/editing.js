// The walker's own plans: the editor (a new plan, one of theirs, a copy of any), and a plan
// coming in from a file or a shared link, checked and offered to save.

import { createPlan, deletePlan, updatePlan } from "../api.js";
import { toast } from "../chrome.js";
import { loadStrings, t } from "../i18n.js";
import { currentVisit, go, isCurrent, replaceWith, route } from "../router.js";
import { currentSettings } from "../settings.js";
import { app } from "./held.js";
import { findPlan, forgetPlan, missingPlan, rememberPlan } from "./planlist.js";

/** What a new plan starts from: a short beginner's walk to change (lengths and speeds in mph). */
const STARTER_PLAN = {
  name: "",
  description: "",
  segments: [
    { kind: "warmup", seconds: 120, speed_mph: 2.5 },
    { kind: "reverse", seconds: 60, speed_mph: 1.5 },
    { kind: "forward", seconds: 120, speed_mph: 2.5 },
    { kind: "reverse", seconds: 60, speed_mph: 1.5 },
    { kind: "cooldown", seconds: 120, speed_mph: 2.0 },
  ],
};

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** Where a new plan's draft stays in its own history entry (not a route parameter: those are taken once). */
const KEPT_DRAFT = "draft";

/**
 * A new plan: from the draft the navigation carried (an import to change), else the starter plan.
 * @param {{draft?: object}} params
 * @returns {Promise<import("../router.js").Screen|void>}
 */
export async function showNewPlan({ draft = null }) {
  // The draft stays with this history entry, so a reload (a phone reloads a page it put away) or a
  // return by Back opens the plan being changed again instead of the starter plan; Save replaces the entry.
  const kept = draft ?? history.state?.[KEPT_DRAFT] ?? null;
  if (kept) history.replaceState({ [KEPT_DRAFT]: kept }, "", location.href);
  return editPlan(null, kept);
}

/**
 * One of the walker's own plans in the editor (a built-in one becomes a copy).
 * @param {object} _params
 * @param {string} id
 * @returns {Promise<import("../router.js").Screen|void>}
 */
export async function showEditor(_params, id) {
  return editPlan(id, null);
}

/**
 * The plan editor: a plan of the walker's (`id`), or a new one from `draft` (a copy, an import).
 * @param {string|null} id
 * @param {(object & {copyOf?: string})|null} draft
 * @returns {Promise<import("../router.js").Screen|void>} leaving keeps unsaved edits for a return to this address
 */
async function editPlan(id, draft) {
  const visit = currentVisit();
  const [{ renderEditor }, plan] = await Promise.all([import("../screens/editor.js"), id ? findPlan(id, true) : null, loadStrings("more")]);
  if (!isCurrent(visit)) return;
  if (id && !plan) {
    missingPlan(main);
    return;
  }
  if (plan?.builtin) {
    replaceWith(`#/copy/${encodeURIComponent(id)}`);
    return;
  }
  const copyOf = id ? null : draft?.copyOf;
  // Edits left unsaved on this very screen (the walker went to another tab) come back.
  const here = location.hash;
  const resume = app.unsaved?.hash === here ? app.unsaved : null;
  app.unsaved = null;
  let done = false;
  const editor = renderEditor(main, {
    title: id ? t("Edit plan") : copyOf ? t("Copy of {name}", { name: copyOf }) : t("New plan"),
    plan: id ? plan : draft || STARTER_PLAN,
    units: currentSettings().units,
    saved: Boolean(id),
    resume,
    onSave: async (body) => {
      const saved = id ? await updatePlan(id, body) : await createPlan(body);
      rememberPlan(saved);
      done = true;
      toast(t("Saved “{name}”.", { name: saved.name }));
      replaceWith("#/", { focusPlan: saved.id });
    },
    onCancel: () => { done = true; go("#/"); },
    onCopy: () => { done = true; go(`#/copy/${encodeURIComponent(id)}`); },
    onDelete: async () => {
      try {
        await deletePlan(id);
      } catch (error) {
        toast(error.message);
        route();
        return;
      }
      forgetPlan(id);
      done = true;
      replaceWith("#/");
      toast(t("Deleted “{name}”.", { name: plan.name }), { label: t("Undo"), run: () => restorePlan(plan) });
    },
  });
  return {
    leave: () => {
      const unsaved = done ? null : editor.unsaved();
      if (unsaved) app.unsaved = { hash: here, ...unsaved };
    },
  };
}

/** Undo a delete: the plan is saved again (under a new id). */
async function restorePlan(plan) {
  try {
    const again = await createPlan({ name: plan.name, description: plan.description || "", segments: plan.segments });
    rememberPlan(again);
    if (location.hash === "#/" || !location.hash) replaceWith("#/", { focusPlan: again.id });
    toast(t("“{name}” is back.", { name: again.name }));
  } catch (error) {
    toast(t("Could not bring it back: {reason}", { reason: error.message }));
  }
}

/**
 * An editable copy of any plan, built-in ones included.
 * @param {object} _params
 * @param {string} id the plan copied
 * @returns {Promise<import("../router.js").Screen|void>}
 */
export async function showCopy(_params, id) {
  const visit = currentVisit();
  // A fresh list: the copy saved a moment ago may not be in the one the picker was still loading.
  const [{ copyName }, plan] = await Promise.all([import("../plans.js"), findPlan(id, true), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  if (!plan) {
    missingPlan(main);
    return;
  }
  // Numbered past the copies already made: a second Duplicate gives "(copy 2)", not another "(copy)".
  const taken = (app.plans || []).filter((p) => !p.builtin).map((p) => p.name);
  return editPlan(null, { name: copyName(plan.name, taken), description: plan.description || "", segments: plan.segments, copyOf: plan.name });
}

/**
 * A plan shared by link (`#share=...`): checked like an import, then "Save to my plans".
 * @param {object} _params
 * @param {string} packed the link's plan, packed
 */
export async function showShared(_params, packed) {
  const visit = currentVisit();
  const [{ decodeShare }, { renderIncoming }] = await Promise.all([import("../plans.js"), import("../screens/incoming.js"), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  offerPlan(renderIncoming, decodeShare(packed), "link");
}

/**
 * A plan file picked on the workouts screen (the picker reads it and comes here with it).
 * @param {{incoming?: {plan: object|null, problems: string[]}}} params
 */
export async function showImport({ incoming = null }) {
  const visit = currentVisit();
  if (!incoming) {
    // In place of this address (a reload or Back finds no file), so Back does not bounce here.
    replaceWith("#/");
    return;
  }
  const [{ renderIncoming }] = await Promise.all([import("../screens/incoming.js"), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  offerPlan(renderIncoming, incoming, "file");
}

/** Offer a plan that came in: save it, change it first, or let it go. */
function offerPlan(renderIncoming, { plan, problems }, source) {
  renderIncoming(main, {
    plan, problems, source, units: currentSettings().units,
    onSave: async () => {
      const saved = await createPlan(plan);
      rememberPlan(saved);
      toast(t("Saved “{name}” to your plans.", { name: saved.name }));
      replaceWith("#/", { focusPlan: saved.id });
    },
    onEdit: () => { app.unsaved = null; replaceWith("#/edit/new", { draft: plan }); },
    onCancel: () => replaceWith("#/"),
  });
}
