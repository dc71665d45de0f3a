// A plan that came from elsewhere (a shared link, a file): what it is, then "Save to my plans".

import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import { planOverview } from "./ready.js";

/**
 * Render a plan offered from a link or a file, or what is wrong with it.
 * @param {HTMLElement} root
 * @param {{plan: object|null, problems: string[], source: "link"|"file", units: string,
 *   onSave: () => Promise<void>, onEdit: () => void, onCancel: () => void}} props
 *   `onSave` rejects with an error whose message (and `problems`) are shown
 */
export function renderIncoming(root, { plan, problems, source, units, onSave, onEdit, onCancel }) {
  if (!plan) {
    fill(root,
      h("section", { class: "ready", "aria-labelledby": "incoming-title" },
        h("div", { class: "screen-head" },
          h("h1", { id: "incoming-title", tabIndex: -1, text: source === "link" ? t("This link does not hold a plan") : t("This file does not hold a plan") }),
          h("p", { text: t("Nothing was saved. Ask for the plan again, or build it yourself.") })),
        h("ul", { class: "error-box problems" }, problems.map((problem) => h("li", { text: problem }))),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "btn btn-secondary btn-block", onclick: onCancel }, t("Back to workouts")))));
    root.querySelector("h1").focus();
    return;
  }
  const message = h("div", { class: "note", role: "status" });
  const saveButton = h("button", { type: "button", class: "btn btn-primary btn-huge btn-block", id: "save-shared", onclick: async () => {
    saveButton.disabled = true;
    message.replaceChildren();
    try {
      await onSave();
    } catch (error) {
      saveButton.disabled = false;
      message.className = "error-box";
      fill(message, h("p", { text: error.message }),
        error.problems?.length ? h("ul", {}, error.problems.map((problem) => h("li", { text: problem }))) : null);
    }
  } }, t("Save to my plans"));
  fill(root,
    h("section", { class: "ready incoming", "aria-labelledby": "incoming-title" },
      h("div", {},
        h("p", { class: "eyebrow", text: source === "link" ? t("Shared with you") : t("From a file") }),
        h("h1", { id: "incoming-title", tabIndex: -1, text: plan.name }),
        plan.description ? h("p", { class: "note", style: { marginTop: "6px" }, text: plan.description }) : null),
      ...planOverview(plan, units),
      message,
      h("div", { class: "actions" },
        saveButton,
        h("div", { class: "pair" },
          h("button", { type: "button", class: "btn btn-secondary", onclick: onEdit }, t("Edit first")),
          h("button", { type: "button", class: "btn btn-secondary", onclick: onCancel }, t("Not now"))))),
  );
  root.querySelector("h1").focus({ preventScroll: true });
}
