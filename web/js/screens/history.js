// Past workouts: from the server, and those played on this phone without it.

import { HISTORY_CSV_URL } from "../api.js";
import { h, fill, svg } from "../dom.js";
import { clockText, walkFigures } from "../figures.js";
import { dateFormat, t } from "../i18n.js";

/**
 * How a walk's start is shown: "Tue 1 Dec, 18:05", in the walker's language.
 * @type {Intl.DateTimeFormatOptions}
 */
const DATE_OPTIONS = { weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" };

function badge(entry) {
  if (entry.state === "running" || entry.state === "paused") return h("span", { class: "badge", text: t("In progress") });
  if (entry.local) return h("span", { class: "badge badge-local", text: t("On this phone") });
  return entry.ended_by === "stopped"
    ? h("span", { class: "badge", text: t("Stopped early") })
    : h("span", { class: "badge badge-done", text: t("Complete") });
}

/** A walk the server has finished can be deleted (one under way, or kept on this phone only, cannot). */
const deletable = (entry) => !entry.local && entry.finished_at && entry.state === "finished";

/**
 * Render the history list.
 * @param {HTMLElement} root
 * @param {{entries: Array<object>, offline: boolean, error?: string, onDelete?: (entry: object) => void}} props
 *   `onDelete`: forget a finished walk (the screen offers it per entry when given)
 */
export function renderHistory(root, { entries, offline, error, onDelete }) {
  const shown = entries.filter((entry) => entry.started_at);
  const dates = dateFormat(DATE_OPTIONS);
  fill(root,
    h("div", { class: "screen-head screen-head-row" },
      h("div", {}, h("h1", { text: t("History") }), h("p", { text: t("Your workouts, newest first.") })),
      shown.length ? h("a", { class: "btn btn-small", href: HISTORY_CSV_URL, download: "", "aria-label": t("Download history as a CSV file") }, "CSV") : null),
    offline ? h("p", { class: "note-box", text: t("Offline: showing what this phone has seen.") }) : null,
    error ? h("p", { class: "error-box", text: error }) : null,
    shown.length
      ? h("ul", { class: "history" }, shown.map((entry) => {
        const summary = entry.summary || {};
        // Whole seconds shared out once, as the summary screen shows them.
        const figures = walkFigures(summary);
        const when = new Date(entry.started_at);
        const date = dates.format(when);
        return h("li", { "data-session": entry.id || "" },
          h("div", { class: "row" }, h("h2", { text: entry.plan_name }), badge(entry),
            onDelete && deletable(entry) && !offline
              ? h("button", { type: "button", class: "icon-btn icon-danger history-delete", "aria-label": t("Delete {name}, {date}", { name: entry.plan_name, date }),
                onclick: () => onDelete(entry) }, svg({ viewBox: "0 0 24 24" }, [["path", { d: "M5 7h14M10 11v6M14 11v6M7 7l1 13h8l1-13M9 7V4h6v3" }]]))
              : null),
          h("time", { datetime: when.toISOString(), text: date }),
          summary.walked_seconds !== undefined
            ? h("p", { class: "sub", text: t("{walked} walked · {backward} backward", { walked: clockText(figures.walked * 1000), backward: clockText(figures.backward * 1000) }) })
            : h("p", { class: "sub", text: t("{time} planned", { time: clockText((entry.planned_seconds || 0) * 1000) }) }));
      }))
      : h("p", { class: "empty", text: t("No workouts yet. Pick one and walk: it will show up here.") }),
  );
}
