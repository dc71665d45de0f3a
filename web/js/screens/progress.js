// Progress: this week's minutes against 150, backward minutes against the suggested 10-15
// minutes a few times a week, sessions, the streak, calories, and the charts of 12 weeks.

import { HISTORY_CSV_URL } from "../api.js";
import { dayMonth, sessionChart, weekRing, weeklyChart } from "../charts.js";
import { fill, h, minutesFigure } from "../dom.js";
import { caloriesTile } from "./summary.js";

function tile(value, label, extra = "") {
  return h("div", { class: `stat ${extra}` }, h("b", { text: value }), h("span", { text: label }));
}

/**
 * Render the progress screen.
 * @param {HTMLElement} root
 * @param {{week: object|null, weeks: object|null, offline: boolean, error?: string}} props
 *   `week`: GET /api/stats/week; `weeks`: GET /api/stats/weeks
 */
export function renderProgress(root, { week, weeks, offline, error }) {
  if (!week || !weeks) {
    fill(root,
      h("div", { class: "screen-head" }, h("h1", { text: "Progress" })),
      h("p", { class: "error-box", text: error || "Your progress needs a connection the first time; afterwards this phone keeps the last one." }));
    return;
  }
  const target = week.target_minutes;
  const suggestion = week.backward_suggestion;
  const toGo = Math.max(target - week.minutes, 0);
  const backwardShare = Math.min(week.backward_minutes / suggestion.weekly_minutes, 1);
  fill(root,
    h("div", { class: "screen-head" },
      h("h1", { text: "Progress" }),
      h("p", { text: `This week: ${dayMonth(week.week_start)} to ${dayMonth(week.week_end)}.` })),
    offline ? h("p", { class: "note-box", text: "Offline: showing the figures this phone last saw." }) : null,
    h("section", { class: "week-card", "aria-labelledby": "week-title" },
      weekRing(week.minutes, target),
      h("div", { class: "week-text" },
        h("h2", { id: "week-title", text: "Minutes this week" }),
        week.target_met
          ? h("p", { class: "big", "data-figure": "minutes" }, h("b", { text: "Target met" }))
          : h("p", { class: "big", "data-figure": "minutes" }, h("b", { text: minutesFigure(toGo) }), " to go"),
        h("p", { class: "note small", text: `The American Heart Association advises ${target} minutes of moderate exercise a week.` }))),
    h("section", { class: "backward-card", "aria-labelledby": "backward-title" },
      h("div", { class: "row" },
        h("h2", { id: "backward-title", text: "Backward" }),
        h("p", { class: "big", "data-figure": "backward" }, h("b", { text: minutesFigure(week.backward_minutes) }), ` of ${suggestion.weekly_minutes} min`)),
      h("div", { class: "meter", role: "img", "aria-label": `${minutesFigure(week.backward_minutes)} of ${suggestion.weekly_minutes} backward minutes this week` },
        h("span", { style: { width: `${(backwardShare * 100).toFixed(1)}%` } }),
        Array.from({ length: suggestion.sessions - 1 }, (_, i) => h("i", { style: { left: `${((i + 1) * 100) / suggestion.sessions}%` } }))),
      h("p", { class: "note", text: `Aim for ${suggestion.minutes_per_session[0]}–${suggestion.minutes_per_session[1]} minutes backward, ${suggestion.sessions} times a week: `
        + `${week.backward_goal_sessions} of ${suggestion.sessions} session${suggestion.sessions === 1 ? "" : "s"} so far.` })),
    h("div", { class: "stats" },
      tile(String(week.sessions), week.sessions === 1 ? "session this week" : "sessions this week"),
      tile(String(week.streak_weeks), week.streak_weeks === 1 ? "week in a row on plan" : "weeks in a row on plan", "stat-streak"),
      caloriesTile(week, "burned this week")),
    h("h2", { class: "section-title", text: "Last 12 weeks" }),
    weeklyChart(weeks.weeks, weeks.target_minutes),
    h("h2", { class: "section-title", text: "Backward minutes per walk" }),
    sessionChart(weeks.sessions, suggestion.minutes_per_session),
    h("p", { class: "note", text: "A week is on plan with 2 complete sessions, or 30 minutes backward." }),
    h("a", { class: "btn btn-secondary btn-block csv", href: HISTORY_CSV_URL, download: "" }, "Download history (CSV)"),
  );
}
