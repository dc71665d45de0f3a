// Progress: this week's minutes against 150, backward minutes against the suggested 10-15
// minutes a few times a week, sessions, the streak, calories, and the charts of 12 weeks.

import { HISTORY_CSV_URL } from "../api.js";
import { dayMonth, sessionChart, weekRing, weeklyChart } from "../charts.js";
import { fill, h } from "../dom.js";
import { minutesFigure, minutesToGo } from "../figures.js";
import { language, number, plural, t } from "../i18n.js";
import { caloriesTile } from "./summary.js";

/** What a week asks for, in words: a range of minutes, or one figure when a programme's week sets one ("10–10" reads oddly). */
function aim(suggestion) {
  const [low, high] = suggestion.minutes_per_session;
  return low === high
    ? t("Aim for {minutes} minutes backward, {n} times a week:", { minutes: number(low), n: number(suggestion.sessions) })
    : t("Aim for {low}–{high} minutes backward, {n} times a week:", { low: number(low), high: number(high), n: number(suggestion.sessions) });
}

/**
 * What counts as a session and as a week on plan: the server's own two definitions (GET
 * /api/stats/week `definitions`, in the walker's language), said once for every screen and
 * the API; a week saved before the server gave them is said from its figures.
 * @param {object} week
 * @returns {string}
 */
function definitionsText(week) {
  const definitions = week.definitions;
  if (definitions?.counted_session && definitions?.on_plan_week) return `${definitions.counted_session} ${definitions.on_plan_week}`;
  return `${t("A walk counts when you walk backwards at least the minutes its plan sets (10 are always enough).")} `
    + plural(week.backward_suggestion.sessions, "A week is on plan with {n} session that counts.", "A week is on plan with {n} sessions that count.");
}

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
      h("div", { class: "screen-head" }, h("h1", { text: t("Progress") })),
      h("p", { class: "error-box", text: error || t("Your progress needs a connection the first time; afterwards this phone keeps the last one.") }));
    return;
  }
  const target = week.target_minutes;
  const suggestion = week.backward_suggestion;
  // From the figure the ring shows, so the two add up to the target.
  const toGo = minutesToGo(week.minutes, target);
  const backwardShare = Math.min(week.backward_minutes / suggestion.weekly_minutes, 1);
  fill(root,
    h("div", { class: "screen-head" },
      h("h1", { text: t("Progress") }),
      h("p", { text: t("This week: {start} to {end}.", { start: dayMonth(week.week_start), end: dayMonth(week.week_end) }) })),
    offline ? h("p", { class: "note-box", text: t("Offline: showing the figures this phone last saw.") }) : null,
    h("section", { class: "week-card", "aria-labelledby": "week-title" },
      weekRing(week.minutes, target),
      h("div", { class: "week-text" },
        h("h2", { id: "week-title", text: t("Minutes this week") }),
        week.target_met
          ? h("p", { class: "big", "data-figure": "minutes" }, h("b", { text: t("Target met") }))
          : h("p", { class: "big", "data-figure": "minutes" }, h("b", { text: number(toGo) }), " ", t("to go")),
        h("p", { class: "note small", text: t("The American Heart Association advises {n} minutes of moderate exercise a week.", { n: number(target) }) }))),
    h("section", { class: "backward-card", "aria-labelledby": "backward-title" },
      h("div", { class: "row" },
        h("h2", { id: "backward-title", text: t("Backward") }),
        h("p", { class: "big", "data-figure": "backward" }, h("b", { text: minutesFigure(week.backward_minutes) }), " ", t("of {n} min", { n: number(suggestion.weekly_minutes) }))),
      h("div", { class: "meter", role: "img", "aria-label": t("{done} of {target} backward minutes this week", { done: minutesFigure(week.backward_minutes), target: number(suggestion.weekly_minutes) }) },
        h("span", { style: { width: `${(backwardShare * 100).toFixed(1)}%` } }),
        Array.from({ length: suggestion.sessions - 1 }, (_, i) => h("i", { style: { left: `${((i + 1) * 100) / suggestion.sessions}%` } }))),
      h("p", { class: "note", text: `${aim(suggestion)} `
        + plural(suggestion.sessions, "{done} of {n} session so far.", "{done} of {n} sessions so far.", { done: number(week.backward_goal_sessions) }) })),
    h("div", { class: "stats" },
      tile(number(week.sessions), new Intl.PluralRules(language()).select(week.sessions) === "one" ? t("session this week") : t("sessions this week")),
      tile(number(week.streak_weeks), new Intl.PluralRules(language()).select(week.streak_weeks) === "one" ? t("week in a row on plan") : t("weeks in a row on plan"), "stat-streak"),
      caloriesTile(week, t("burned this week"))),
    h("h2", { class: "section-title", text: t("Last {n} weeks", { n: number(weeks.weeks.length) }) }),
    weeklyChart(weeks.weeks, weeks.target_minutes),
    h("h2", { class: "section-title", text: t("Backward minutes per walk") }),
    sessionChart(weeks.sessions, suggestion.minutes_per_session),
    h("p", { class: "note", id: "on-plan-definition", text: definitionsText(week) }),
    h("a", { class: "btn btn-secondary btn-block csv", href: HISTORY_CSV_URL, download: "" }, t("Download history (CSV)")),
  );
}
