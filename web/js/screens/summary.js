// The finished workout: what was walked, forward and backward.

import { clockText, h, svg, fill } from "../dom.js";

function stat(value, label, extra = "") {
  return h("div", { class: `stat ${extra}` }, h("b", { text: value }), h("span", { text: label }));
}

/**
 * Render the summary of a finished workout.
 * @param {HTMLElement} root
 * @param {{plan: object, summary: object, onDone: () => void, onHistory: () => void}} props
 */
export function renderSummary(root, { plan, summary, onDone, onHistory }) {
  const complete = summary.ended_by !== "stopped";
  const seconds = (value) => clockText((value || 0) * 1000);
  const note = summary.local
    ? "Played without the server: saved in this phone’s history."
    : summary.unconfirmed
      ? "The server could not be reached at the end; it keeps the workout when it is back."
      : "Saved to your history.";
  const title = h("h1", { text: complete ? "Workout complete" : "Workout stopped" });
  fill(root,
    h("section", { class: "summary", "aria-labelledby": "summary-title" },
      h("div", { class: "summary-hero", "data-ended": complete ? "complete" : "stopped" },
        svg({ viewBox: "0 0 72 72" }, complete
          ? [["circle", { cx: "36", cy: "36", r: "32" }], ["path", { d: "M22 37l10 10 19-21" }]]
          : [["circle", { cx: "36", cy: "36", r: "32" }], ["path", { d: "M26 26h20v20H26z" }]]),
        Object.assign(title, { id: "summary-title", tabIndex: -1 }),
        h("p", { text: `${plan.name}${complete ? " — well walked." : ""}` })),
      h("div", { class: "stats" },
        stat(seconds(summary.walked_seconds), "walked"),
        stat(seconds(summary.backward_seconds), "backward", "stat-reverse"),
        stat(seconds(summary.forward_seconds), "forward"),
        stat(seconds(summary.duration_seconds), summary.paused_seconds >= 1 ? `total time, ${seconds(summary.paused_seconds)} paused` : "total time")),
      h("p", { class: "note", role: "status", text: note }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-primary btn-huge btn-block", onclick: onDone }, "Done"),
        h("button", { type: "button", class: "btn btn-secondary btn-block", onclick: onHistory }, "See history"))),
  );
  title.focus();
}
