// Build or change a plan of the walker's own: a name, intervals (kind, length, speed), totals as
// they type, the server's rules checked inline, and the plan as a file or a link to share.

import { announce, fill, h, svg } from "../dom.js";
import { clockText } from "../figures.js";
import { number, plural, t } from "../i18n.js";
import {
  PLAN_RULES, SEGMENT_KINDS, checkDraft, draftOf, parseLength, parseSpeed, planFileName, planFileText, shareLink, speedBounds,
  speedField,
} from "../plans.js";
import { SPEED_UNITS, kindInfo } from "../workout.js";
import { segmentStrip } from "./picker.js";

/** A second tap on Delete within this time deletes (a stray tap does not). */
const DELETE_CONFIRM_MS = 3000;
/** The length a new interval gets when no interval of its kind came before. */
const DEFAULT_LENGTH = "1:00";
/** The − and + buttons beside a length move it by this much. */
const LENGTH_STEP_S = 15;

let keys = 0;

const ICONS = {
  up: "M12 19V5M6 11l6-6 6 6",
  down: "M12 5v14M6 13l6 6 6-6",
  remove: "M6 6l12 12M18 6L6 18",
  minus: "M6 12h12",
  plus: "M12 6v12M6 12h12",
  file: "M12 4v11M7 10l5 5 5-5M5 20h14",
  share: "M16 6l-4-3-4 3M12 3v12M6 11H5v9h14v-9h-1",
  copy: "M8 8h11v11H8zM5 15V5h10",
  trash: "M5 7h14M10 11v6M14 11v6M7 7l1 13h8l1-13M9 7V4h6v3",
};

function icon(name) {
  return svg({ viewBox: "0 0 24 24" }, [["path", { d: ICONS[name] }]]);
}

/** A field's error line, tied to the field for screen readers. */
function fieldError(id) {
  return h("p", { class: "field-error", id, hidden: true });
}

function showError(input, line, message) {
  line.textContent = message || "";
  line.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/**
 * Render the plan editor.
 * @param {HTMLElement} root
 * @param {{title: string, plan: {name?: string, description?: string, segments?: Array<object>}, units: string,
 *   saved: boolean, resume?: {draft: object, units: string}|null, onSave: (body: object) => Promise<void>, onCancel: () => void,
 *   onCopy?: () => void, onDelete?: () => void}} props
 *   `saved`: the plan is on the server already (Duplicate and Delete are offered);
 *   `resume`: edits left unsaved on this screen earlier, shown instead of `plan`;
 *   `onSave` rejects with an ApiError whose `problems` the editor shows
 * @returns {{unsaved: () => ({draft: object, units: string}|null)}} the edits not saved yet, to keep when the walker leaves
 */
export function renderEditor(root, { title, plan, units, saved, resume, onSave, onCancel, onCopy, onDelete }) {
  const original = JSON.stringify(draftOf(plan, units));
  const start = resume ? resumed(resume, units) : draftOf(plan, units);
  const rows = start.segments.map((segment) => ({ ...segment, key: keys++ }));
  const touched = new Set();
  let showAll = false;
  let result = null;
  const unitLabel = SPEED_UNITS[units] || "mph";
  const [speedLo, speedHi] = speedBounds(units);

  const nameInput = h("input", { id: "plan-name", type: "text", value: start.name, autocomplete: "off", maxLength: PLAN_RULES.MAX_NAME_LENGTH + 20,
    "aria-describedby": "plan-name-error", enterKeyHint: "next" });
  const nameError = fieldError("plan-name-error");
  const descInput = h("textarea", { id: "plan-desc", rows: 2, value: start.description, "aria-describedby": "plan-desc-error" });
  const descError = fieldError("plan-desc-error");
  const serverBox = h("div", { class: "error-box", role: "alert", tabIndex: -1, hidden: true });
  const list = h("ol", { class: "seg-list", "aria-label": t("Intervals") });
  const planError = h("p", { class: "field-error", id: "plan-error", role: "alert", hidden: true });
  const stripHolder = h("div", { class: "editor-strip" });
  const totalText = h("b", { text: "0:00" });
  const backText = h("b", { text: "0:00" });
  const countText = h("b", { text: "0" });
  const addButton = h("button", { type: "button", class: "btn btn-secondary btn-block", id: "add-interval", onclick: () => addInterval() },
    icon("plus"), t("Add interval"));
  const saveButton = h("button", { type: "button", class: "btn btn-primary", id: "save-plan", onclick: () => save() }, t("Save plan"));
  const status = h("p", { class: "note", role: "status" });

  /** @type {Array<[HTMLInputElement|HTMLTextAreaElement, string]>} */
  const textFields = [[nameInput, "name"], [descInput, "description"]];
  for (const [input, key] of textFields) {
    input.addEventListener("input", () => { start[key] = input.value; refresh(); });
    input.addEventListener("change", () => { touched.add(input.id); refresh(); });
  }

  function segmentRow(row, index) {
    const id = `seg-${row.key}`;
    const kind = h("select", { id: `${id}-kind`, onchange: () => {
      row.kind = kind.value;
      item.dataset.kind = row.kind;
      refresh();
    } }, SEGMENT_KINDS.map((k) => h("option", { value: k, text: kindInfo(k).label, selected: k === row.kind })));
    const length = h("input", {
      id: `${id}-length`, type: "text", value: row.length, autocomplete: "off", spellcheck: false, class: "length",
      "aria-describedby": `seg-help ${id}-length-error`, enterKeyHint: "next",
      oninput: () => { row.length = length.value; refresh(); },
      onchange: () => { touched.add(length.id); refresh(); },
    });
    const step = (delta) => {
      const parsed = parseLength(row.length);
      const base = "seconds" in parsed ? parsed.seconds : 60;
      const seconds = Math.min(PLAN_RULES.MAX_SEGMENT_SECONDS, Math.max(PLAN_RULES.MIN_SEGMENT_SECONDS,
        delta > 0 ? Math.floor(base / LENGTH_STEP_S) * LENGTH_STEP_S + LENGTH_STEP_S : Math.ceil(base / LENGTH_STEP_S) * LENGTH_STEP_S - LENGTH_STEP_S));
      row.length = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
      length.value = row.length;
      touched.add(length.id);
      refresh();
    };
    const speed = h("input", {
      id: `${id}-speed`, type: "text", inputMode: "decimal", value: row.speed, autocomplete: "off", placeholder: t("none"),
      "aria-describedby": `seg-help ${id}-speed-error`, enterKeyHint: "done",
      oninput: () => { row.speed = speed.value; refresh(); },
      onchange: () => { touched.add(speed.id); refresh(); },
    });
    const label = t("Interval {n}", { n: number(index + 1) });
    const item = h("li", { class: "seg", "data-kind": row.kind, "data-key": row.key, role: "group", "aria-labelledby": `${id}-num` },
      h("div", { class: "seg-head" },
        h("span", { class: "seg-num", id: `${id}-num`, "aria-label": label, text: String(index + 1) }),
        h("label", { for: kind.id, class: "visually-hidden", text: t("Kind of interval {n}", { n: number(index + 1) }) }),
        kind,
        h("div", { class: "seg-tools" },
          h("button", { type: "button", class: "icon-btn", id: `${id}-up`, "aria-label": t("Move interval {n} up", { n: number(index + 1) }), disabled: index === 0,
            onclick: () => move(row, -1, "up") }, icon("up")),
          h("button", { type: "button", class: "icon-btn", id: `${id}-down`, "aria-label": t("Move interval {n} down", { n: number(index + 1) }), disabled: index === rows.length - 1,
            onclick: () => move(row, 1, "down") }, icon("down")),
          h("button", { type: "button", class: "icon-btn icon-danger", "aria-label": t("Remove interval {n}", { n: number(index + 1) }), onclick: () => remove(row) }, icon("remove")))),
      h("div", { class: "seg-fields" },
        h("div", { class: "field field-length" },
          h("label", { for: length.id, text: t("Length") }),
          h("div", { class: "stepper" },
            h("button", { type: "button", class: "icon-btn", "aria-label": t("{interval}: {n} seconds shorter", { interval: label, n: LENGTH_STEP_S }), onclick: () => step(-1) }, icon("minus")),
            length,
            h("button", { type: "button", class: "icon-btn", "aria-label": t("{interval}: {n} seconds longer", { interval: label, n: LENGTH_STEP_S }), onclick: () => step(1) }, icon("plus")))),
        h("div", { class: "field field-speed" },
          h("label", { for: speed.id, text: t("Speed, {unit}", { unit: unitLabel }) }),
          speed)),
      fieldError(`${id}-length-error`),
      fieldError(`${id}-speed-error`));
    return item;
  }

  function renderList(focusId) {
    list.replaceChildren(...rows.map(segmentRow));
    refresh();
    if (focusId) document.getElementById(focusId)?.focus();
  }

  function addInterval() {
    if (rows.length >= PLAN_RULES.MAX_SEGMENTS) {
      status.textContent = t("A plan has at most {n} intervals.", { n: PLAN_RULES.MAX_SEGMENTS });
      return;
    }
    const last = rows.at(-1);
    const kind = !last ? "warmup" : last.kind === "reverse" ? "forward" : "reverse";
    const like = rows.findLast((row) => row.kind === kind);
    const row = { kind, length: like?.length || DEFAULT_LENGTH, speed: like?.speed || "", key: keys++ };
    rows.push(row);
    renderList();
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
    announce(t("Interval {n} added: {kind}, {length}.", { n: number(rows.length), kind: kindInfo(kind).label, length: row.length }));
  }

  function move(row, delta, direction) {
    const from = rows.indexOf(row);
    const to = from + delta;
    if (to < 0 || to >= rows.length) return;
    rows.splice(from, 1);
    rows.splice(to, 0, row);
    const edge = (direction === "up" && to === 0) || (direction === "down" && to === rows.length - 1);
    renderList(`seg-${row.key}-${edge ? (direction === "up" ? "down" : "up") : direction}`);
    announce(t("Moved to interval {n}.", { n: number(to + 1) }));
  }

  function remove(row) {
    const index = rows.indexOf(row);
    rows.splice(index, 1);
    const after = rows[index] || rows[index - 1];
    renderList(after ? `seg-${after.key}-kind` : "add-interval");
    announce(t("Interval {n} removed. {left} left.", { n: number(index + 1), left: number(rows.length) }));
  }

  /** Recount the totals and show the errors of the fields the walker has left (or all, after Save). */
  function refresh() {
    result = checkDraft({ name: start.name, description: start.description, segments: rows }, units);
    const shown = (id) => showAll || touched.has(id);
    showError(nameInput, nameError, shown(nameInput.id) ? result.errors.name : "");
    showError(descInput, descError, shown(descInput.id) ? result.errors.description : "");
    rows.forEach((row, index) => {
      const errors = result.errors.segments[index] || {};
      for (const field of ["length", "speed"]) {
        const input = document.getElementById(`seg-${row.key}-${field}`);
        const line = document.getElementById(`seg-${row.key}-${field}-error`);
        if (input && line) showError(input, line, shown(input.id) ? errors[field] : "");
      }
    });
    planError.textContent = showAll || rows.length === 0 || result.seconds > PLAN_RULES.MAX_PLAN_SECONDS ? result.errors.plan || "" : "";
    planError.hidden = !planError.textContent;
    addButton.disabled = rows.length >= PLAN_RULES.MAX_SEGMENTS;
    totalText.textContent = clockText(result.seconds * 1000);
    backText.textContent = clockText(result.backward * 1000);
    countText.textContent = String(rows.length);
    const valid = rows.map((row) => ({ kind: row.kind, seconds: parseLength(row.length).seconds || 0 })).filter((s) => s.seconds);
    stripHolder.replaceChildren(valid.length ? segmentStrip(valid) : h("div", { class: "strip strip-empty", "aria-hidden": "true" }));
  }

  /** The first field with an error, to take the walker there. */
  /** @returns {HTMLElement|null} the first field marked in red, or Add interval when the plan as a whole is wrong */
  function firstInvalid() {
    return root.querySelector("[aria-invalid=true]") || (planError.hidden ? null : addButton);
  }

  async function save() {
    showAll = true;
    serverBox.hidden = true;
    refresh();
    if (!result.plan) {
      const count = root.querySelectorAll("[aria-invalid=true]").length + (planError.hidden ? 0 : 1);
      status.textContent = plural(count, "Fix the one thing marked in red, then save.", "Fix the {n} things marked in red, then save.");
      firstInvalid()?.focus();
      firstInvalid()?.scrollIntoView({ block: "center" });
      return;
    }
    saveButton.disabled = true;
    saveButton.textContent = t("Saving…");
    status.textContent = "";
    try {
      await onSave(result.plan);
    } catch (error) {
      saveButton.disabled = false;
      saveButton.textContent = t("Save plan");
      const problems = error.problems?.length ? error.problems : [error.message];
      fill(serverBox,
        h("p", { text: error.problems?.length ? t("The server did not accept this plan:") : t("The plan could not be saved:") }),
        h("ul", {}, problems.map((problem) => h("li", { text: problem }))));
      serverBox.hidden = false;
      serverBox.scrollIntoView({ block: "center" });
      serverBox.focus({ preventScroll: true });
    }
  }

  /** The draft as a plan, or null (after saying what to fix) when it breaks a rule. */
  function validPlan() {
    refresh();
    if (result.plan) return result.plan;
    showAll = true;
    refresh();
    status.textContent = t("Fix the fields marked in red first.");
    firstInvalid()?.focus();
    return null;
  }

  function exportFile() {
    const body = validPlan();
    if (!body) return;
    const url = URL.createObjectURL(new Blob([planFileText(body)], { type: "application/json" }));
    const link = h("a", { href: url, download: planFileName(body), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.textContent = t("Saved {file} to your downloads.", { file: planFileName(body) });
  }

  const sharePanel = h("div", { class: "share-panel", hidden: true });
  function share() {
    const body = validPlan();
    if (!body) return;
    const url = shareLink(body, location.origin);
    const field = h("input", { id: "share-link", type: "url", readOnly: true, value: url, onfocus: () => field.select() });
    const copied = h("p", { class: "note", role: "status" });
    fill(sharePanel,
      h("label", { for: "share-link", text: t("Link to this plan") }),
      field,
      h("div", { class: "share-actions" },
        h("button", { type: "button", class: "btn btn-secondary", onclick: async () => {
          try {
            await navigator.clipboard.writeText(url);
            copied.textContent = t("Link copied. Paste it in a message.");
          } catch {
            field.select();
            copied.textContent = t("Select the link and copy it.");
          }
        } }, icon("copy"), t("Copy link")),
        typeof navigator.share === "function"
          ? h("button", { type: "button", class: "btn btn-secondary", onclick: () => navigator.share({ title: body.name, text: t("A RetroWalk plan: {name}", { name: body.name }), url }).catch(() => {}) },
            icon("share"), t("Share…"))
          : null),
      copied,
      h("p", { class: "note", text: t("The plan travels inside the link: whoever opens it can save their own copy.") }));
    sharePanel.hidden = false;
    field.focus({ preventScroll: true });
    sharePanel.scrollIntoView({ block: "end", behavior: "instant" });
  }

  let deleteTimer = null;
  const deleteButton = h("button", { type: "button", class: "btn btn-danger", id: "delete-plan", onclick: () => {
    if (!deleteTimer) {
      deleteButton.replaceChildren(icon("trash"), t("Tap again to delete"));
      deleteTimer = setTimeout(() => { deleteTimer = null; deleteButton.replaceChildren(icon("trash"), t("Delete")); }, DELETE_CONFIRM_MS);
      return;
    }
    clearTimeout(deleteTimer);
    deleteButton.disabled = true;
    onDelete();
  } }, icon("trash"), t("Delete"));

  fill(root,
    h("section", { class: "editor", "aria-labelledby": "editor-title" },
      h("div", { class: "screen-head" },
        h("h1", { id: "editor-title", text: title }),
        h("p", { text: t("Intervals of forward and backward walking; the coach speaks every switch.") })),
      resume ? h("p", { class: "note-box", id: "resumed", text: t("Your unsaved changes are back. Save them, or Cancel to drop them.") }) : null,
      serverBox,
      h("div", { class: "field" }, h("label", { for: "plan-name", text: t("Name") }), nameInput, nameError),
      h("div", { class: "field" }, h("label", { for: "plan-desc", text: t("Description (optional)") }), descInput, descError),
      h("h2", { class: "section-title", text: t("Intervals") }),
      h("p", { class: "note seg-help", id: "seg-help", text: `${t("Length as min:sec (1:30) or minutes ({example}), from 0:05 to 60:00.", { example: number(1.5) })} `
        + t("Speed from {low} to {high} {unit}, or empty for no speed hint.", { low: number(speedLo), high: number(speedHi), unit: unitLabel }) }),
      list,
      planError,
      addButton,
      h("h2", { class: "section-title", text: t("Take it elsewhere") }),
      h("div", { class: "more-actions" },
        h("button", { type: "button", class: "btn btn-secondary", id: "export-plan", onclick: exportFile }, icon("file"), t("Export file")),
        h("button", { type: "button", class: "btn btn-secondary", id: "share-plan", onclick: share }, icon("share"), t("Share link")),
        saved && onCopy ? h("button", { type: "button", class: "btn btn-secondary", id: "copy-plan", onclick: onCopy }, icon("copy"), t("Duplicate")) : null,
        saved && onDelete ? deleteButton : null),
      sharePanel,
      h("div", { class: "editor-bar" },
        h("div", { class: "editor-totals", "aria-label": t("Plan totals") },
          stripHolder,
          h("p", {}, h("span", {}, totalText, " ", t("total")), h("span", { class: "back" }, backText, " ", t("backward")), h("span", {}, countText, " ", t("intervals")))),
        status,
        h("div", { class: "editor-buttons" },
          h("button", { type: "button", class: "btn btn-secondary", onclick: onCancel }, t("Cancel")),
          saveButton))),
  );
  renderList();
  if (!start.name) nameInput.focus({ preventScroll: true });
  return {
    unsaved() {
      const draft = { name: start.name, description: start.description, segments: rows.map(({ kind, length, speed }) => ({ kind, length, speed })) };
      return JSON.stringify(draft) === original ? null : { draft, units };
    },
  };
}

/** Edits kept from an earlier visit, their speeds in today's units (the walker may have switched). */
function resumed({ draft, units: then }, units) {
  if (then === units) return draft;
  return {
    ...draft,
    segments: draft.segments.map((segment) => {
      const speed = parseSpeed(segment.speed, then);
      return { ...segment, speed: "mph" in speed && speed.mph !== null ? speedField(speed.mph, units) : segment.speed };
    }),
  };
}
