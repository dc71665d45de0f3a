// The finished workout: what was walked, forward and backward, the calories as a range, the
// week so far, and (after a programme session) what comes next.

import { fill, h, minutesText, svg } from "../dom.js";
import { clockText, minutesFigure, walkFigures } from "../figures.js";
import { number, t } from "../i18n.js";
import { totals } from "../workout.js";

function stat(value, label, extra = "") {
  return h("div", { class: `stat ${extra}` }, h("b", { text: value }), h("span", { text: label }));
}

/**
 * A calorie range as the walker reads it: "120–160 kcal".
 * @param {{low: number, high: number}} calories
 * @returns {string}
 */
export function caloriesText(calories) {
  return calories.low === calories.high ? `${number(calories.low)} kcal` : `${number(calories.low)}–${number(calories.high)} kcal`;
}

/**
 * The calories of a week or a walk: the range and the server's note, or the note and a link to set a weight.
 * @param {{calories: object|null, calories_note: string}} figures
 * @param {string} [what] what the range is of, after the figure
 * @param {boolean} [brief] the range alone, the note in a tooltip (the summary; progress shows the note)
 * @returns {HTMLElement}
 */
export function caloriesTile(figures, what = t("burned"), brief = false) {
  if (!figures.calories) {
    return h("div", { class: "stat stat-wide stat-calories", "data-calories": "none" },
      h("span", { class: "stat-label", text: t("Calories") }),
      h("p", { class: "note", text: figures.calories_note }),
      h("a", { href: "#/settings", class: "btn btn-small", id: "set-weight" }, t("Set your weight")));
  }
  const { low, high, estimate } = figures.calories;
  // A range says "about" its middle; a single figure (a short walk) is said once, not twice.
  const words = !high ? t("{what}: none yet", { what })
    : low === high ? (brief ? t("{what} (an estimate)", { what }) : what)
      : brief ? t("{what}, about {kcal} kcal (an estimate)", { what, kcal: number(estimate) }) : t("{what}, about {kcal} kcal", { what, kcal: number(estimate) });
  return h("div", { class: "stat stat-wide stat-calories", "data-calories": "range", title: brief ? figures.calories_note : null },
    h("b", { text: caloriesText(figures.calories) }),
    h("span", { text: words }),
    brief || low === undefined ? null : h("p", { class: "note small", text: figures.calories_note }));
}

/**
 * What a programme offers after this walk, in its words.
 * @param {object} programme a programme of GET /api/programmes, with progress
 * @param {boolean} complete the walk was finished (a stopped one does not count)
 * @returns {{title: string, text: string, planId: string|null}}
 */
export function nextStep(programme, complete) {
  const progress = programme.progress;
  if (progress.finished) {
    return { title: t("{programme}: all done", { programme: programme.name }), text: t("You have walked all {n} sessions. Well walked!", { n: number(progress.total) }), planId: null };
  }
  const workout = programme.workouts.find((w) => w.plan_id === progress.next_plan_id);
  return {
    title: t("Next: {label}", { label: progress.label }),
    text: complete
      ? `${t("{done} of {total} done.", { done: number(progress.done), total: number(progress.total) })} ${workout?.why || ""}`.trim()
      : t("A session stopped early does not count, so {label} is still next in {programme}.", { label: progress.label, programme: programme.name }),
    planId: progress.next_plan_id,
  };
}

/**
 * Render the summary of a finished workout. Figures from the server arrive later: the
 * returned functions draw them in the places kept for them.
 * @param {HTMLElement} root
 * @param {{plan: object, summary: object, onDone: () => void, onHistory: () => void}} props
 * @returns {{calories: (stats: object) => void, week: (week: object) => void, next: (programme: object|null) => void}}
 */
export function renderSummary(root, { plan, summary, onDone, onHistory }) {
  const complete = summary.ended_by !== "stopped";
  // Whole seconds shared out once (walkFigures): walked + paused = total, forward + backward (+ rest) = walked.
  const figures = walkFigures(summary);
  const seconds = (value) => clockText(value * 1000);
  const note = summary.local
    ? t("Played without the server: saved on this phone, and counted in your week once the server is back.")
    : summary.unconfirmed
      ? t("The server could not be reached at the end; it keeps the workout when it is back.")
      : t("Saved to your history.");
  const title = h("h1", { text: complete ? t("Workout complete") : t("Workout stopped") });
  // Kept in place (and empty) until the server's figures come: nothing jumps when they do.
  const caloriesSlot = h("div", { class: "stat stat-wide stat-calories stat-pending", "aria-busy": "true" },
    h("b", { text: "…" }), h("span", { text: t("calories") }));
  const weekSlot = h("p", { class: "week-line", hidden: true });
  const serverFigures = !summary.local && !summary.unconfirmed;
  // A programme's session: room is kept for what comes next, right under what was walked.
  const inProgramme = serverFigures && Boolean(plan.programme || plan.alias_of);
  const nextSlot = h("section", { class: "next-session", "aria-labelledby": "next-title", hidden: !inProgramme, "aria-busy": inProgramme ? "true" : null },
    h("h2", { id: "next-title", text: t("Next") }));
  fill(root,
    h("section", { class: "summary", "aria-labelledby": "summary-title" },
      h("div", { class: "summary-hero", "data-ended": complete ? "complete" : "stopped" },
        svg({ viewBox: "0 0 72 72" }, complete
          ? [["circle", { cx: "36", cy: "36", r: "32" }], ["path", { d: "M22 37l10 10 19-21" }]]
          : [["circle", { cx: "36", cy: "36", r: "32" }], ["path", { d: "M26 26h20v20H26z" }]]),
        Object.assign(title, { id: "summary-title", tabIndex: -1 }),
        h("p", { text: complete ? t("{name} — well walked.", { name: plan.name }) : plan.name })),
      h("div", { class: "stats" },
        stat(seconds(figures.walked), t("walked")),
        stat(seconds(figures.backward), t("backward"), "stat-reverse"),
        stat(seconds(figures.forward), t("forward")),
        stat(seconds(figures.total), figures.paused >= 1 ? t("total time, {time} paused", { time: seconds(figures.paused) }) : t("total time")),
        serverFigures ? caloriesSlot : null),
      weekSlot,
      nextSlot,
      h("p", { class: "note", role: "status", text: note }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "btn btn-primary btn-huge btn-block", onclick: onDone }, t("Done")),
        h("div", { class: "pair" },
          h("button", { type: "button", class: "btn btn-secondary", onclick: onHistory }, t("See history")),
          h("a", { class: "btn btn-secondary", href: "#/progress" }, t("Progress"))))),
  );
  title.focus();
  return {
    calories(stats) {
      if (stats) caloriesSlot.replaceWith(caloriesTile(stats, t("burned"), true));
      else caloriesSlot.remove();
    },
    week(week) {
      if (!week) return;
      fill(weekSlot, t("This week:"), " ", h("b", { text: `${minutesFigure(week.minutes)} min` }), " ", t("of {target},", { target: number(week.target_minutes) }), " ",
        h("b", { text: `${minutesFigure(week.backward_minutes)} min` }), " ", t("backward."));
      weekSlot.hidden = false;
    },
    next(programme) {
      nextSlot.removeAttribute("aria-busy");
      if (!programme) {
        nextSlot.hidden = true;
        return;
      }
      const step = nextStep(programme, complete);
      const nextPlan = step.planId && programme.workouts.find((w) => w.plan_id === step.planId)?.plan;
      const length = nextPlan ? totals(nextPlan.segments) : null;
      fill(nextSlot,
        h("p", { class: "eyebrow", text: programme.name }),
        h("h2", { id: "next-title", text: step.title }),
        h("p", { class: "note", text: step.text }),
        length ? h("p", { class: "chips" },
          h("span", { class: "chip", text: t("{time} total", { time: minutesText(length.total) }) }),
          h("span", { class: "chip chip-reverse", text: t("{time} backward", { time: minutesText(length.reverse) }) })) : null);
      nextSlot.hidden = false;
    },
  };
}
