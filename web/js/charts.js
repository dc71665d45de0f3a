// Charts drawn here as inline SVG (no library): the weekly ring, minutes per week stacked
// forward and backward with the 150-minute line, and backward minutes per session. Each
// chart is one role="img" with a summary for screen readers and a table of its figures.
// Sizes are in viewBox units; the SVG scales to its box, whose height its aspect ratio fixes
// before any data arrive, so nothing on the page moves when a chart is drawn.

import { h } from "./dom.js";
import { minutesFigure, weekMinutes } from "./figures.js";
import { dateFormat, number, plural, t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
/** The charts' coordinate box: about one unit per CSS pixel on a phone. */
const WIDTH = 340;
const WEEK_CHART_HEIGHT = 230;
const SESSION_CHART_HEIGHT = 210;
const MARGIN = { top: 24, right: 8, bottom: 30, left: 36 };
/** A week or walk with any minutes gets at least this tall a mark, so it never looks empty. */
const MIN_MARK = 3;
/** Weeks labelled under the bars: every fourth, counting back from this one (labels never touch). */
const LABEL_EVERY = 4;

/**
 * An SVG element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string|number|null|undefined|false>} [attrs] null, undefined and false leave an attribute out
 * @param {...(Node|string|null|false|Array)} children
 * @returns {SVGElement}
 */
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return /** @type {SVGElement} */ (node);
}

/**
 * A week's Monday ("2026-11-23") as the walker reads it: "23 Nov".
 * @param {string} iso
 * @returns {string}
 */
export function dayMonth(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return dateFormat({ day: "numeric", month: "short" }).format(new Date(year, month - 1, day));
}

/** A round top for an axis and its step: at most five steps. */
function axis(rawMax) {
  const step = [5, 10, 25, 50, 100, 200, 500].find((candidate) => rawMax / candidate <= 5) || 1000;
  return { max: Math.ceil(rawMax / step) * step, step };
}

/** A table of a chart's figures, for screen readers (visually hidden). */
function dataTable(caption, head, rows) {
  // In a hidden box of its own: a table never shrinks below its content, and would widen the page.
  return h("div", { class: "visually-hidden" }, h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, head.map((cell) => h("th", { scope: "col", text: cell })))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) => (i ? h("td", { text: cell }) : h("th", { scope: "row", text: cell }))))))));
}

/**
 * The week's minutes against the target as a ring.
 * @param {number} minutes
 * @param {number} target
 * @returns {SVGElement}
 */
export function weekRing(minutes, target) {
  const radius = 52;
  const around = 2 * Math.PI * radius;
  const share = Math.min(minutes / target, 1);
  const arc = share > 0 ? Math.max(share * around, 4) : 0;
  return s("svg", { viewBox: "0 0 128 128", class: "ring", role: "img", "aria-label": t("{done} of {target} minutes this week", { done: minutesFigure(minutes), target: number(target) }) },
    s("circle", { cx: 64, cy: 64, r: radius, class: "ring-track" }),
    arc ? s("circle", { cx: 64, cy: 64, r: radius, class: `ring-fill${share >= 1 ? " ring-met" : ""}`, "stroke-dasharray": `${arc} ${around}`, transform: "rotate(-90 64 64)" }) : null,
    s("text", { x: 64, y: 66, class: "ring-value", "text-anchor": "middle" }, minutesFigure(minutes)),
    s("text", { x: 64, y: 88, class: "ring-unit", "text-anchor": "middle" }, t("of {n} min", { n: number(target) })));
}

/**
 * Minutes per week, forward and backward stacked, with the target line marked and labelled.
 * @param {Array<{week_start: string, forward_minutes: number, backward_minutes: number, minutes: number}>} weeks oldest first, this week last
 * @param {number} target
 * @returns {HTMLElement} a figure with the chart, its legend and its table
 */
export function weeklyChart(weeks, target) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = WEEK_CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const most = Math.max(0, ...weeks.map((w) => w.minutes));
  const { max, step } = axis(Math.max(target * 1.2, most * 1.1));
  const y = (minutes) => MARGIN.top + plotH - (minutes / max) * plotH;
  const band = plotW / weeks.length;
  const barW = band * 0.64;
  const grid = [];
  for (let value = 0; value <= max; value += step) {
    if (Math.abs(value - target) < step / 3 && value) continue;  // the target line has its own label
    grid.push(s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value), class: value ? "grid" : "baseline" }),
      s("text", { x: MARGIN.left - 6, y: y(value) + 4, class: "tick", "text-anchor": "end" }, String(value)));
  }
  const bars = weeks.map((week, index) => {
    const x = MARGIN.left + index * band + (band - barW) / 2;
    const current = index === weeks.length - 1;
    let forward = (week.forward_minutes / max) * plotH;
    let backward = (week.backward_minutes / max) * plotH;
    if (week.minutes > 0 && forward + backward < MIN_MARK) {
      if (week.backward_minutes > 0) backward = Math.max(backward, MIN_MARK - forward);
      else forward = MIN_MARK;
    }
    const base = MARGIN.top + plotH;
    const label = (weeks.length - 1 - index) % LABEL_EVERY === 0
      ? s("text", {
        x: current ? x + barW : x + barW / 2, y: WEEK_CHART_HEIGHT - 10, class: `tick${current ? " tick-now" : ""}`,
        "text-anchor": current ? "end" : "middle",
      }, current ? t("This week") : dayMonth(week.week_start))
      : null;
    return s("g", { class: `week${current ? " is-current" : ""}`, "data-week": current ? "current" : week.week_start, "data-minutes": week.minutes },
      s("rect", { x, width: barW, y: base - forward, height: forward, class: "bar-forward", rx: 2 }),
      s("rect", { x, width: barW, y: base - forward - backward, height: backward, class: "bar-backward", rx: 2 }),
      current && week.minutes > 0
        ? s("text", { x: x + barW / 2, y: Math.max(base - forward - backward - 6, MARGIN.top - 6), class: "value", "text-anchor": "middle" }, minutesFigure(week.minutes))
        : null,
      label);
  });
  const targetY = y(target);
  const reached = weeks.filter((w) => w.minutes >= target).length;
  const now = weeks.at(-1);
  const summary = [
    t("Minutes walked per week, last {n} weeks, forward and backward stacked, against the {target}-minute target.", { n: number(weeks.length), target: number(target) }),
    t("This week {minutes} minutes, {backward} backward.", { minutes: minutesFigure(now.minutes), backward: minutesFigure(now.backward_minutes) }),
    t("Most in a week: {minutes} minutes.", { minutes: minutesFigure(most) }),
    t("{reached} of {n} weeks reached {target}.", { reached: number(reached), n: number(weeks.length), target: number(target) }),
  ].join(" ");
  const chart = s("svg", { viewBox: `0 0 ${WIDTH} ${WEEK_CHART_HEIGHT}`, class: "chart chart-weeks", role: "img", "aria-label": summary },
    grid,
    bars,
    s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: targetY, y2: targetY, class: "target" }),
    s("text", { x: WIDTH - MARGIN.right, y: targetY - 7, class: "target-label", "text-anchor": "end" }, t("{n} min target", { n: number(target) })));
  return h("figure", { class: "chart-box" },
    chart,
    h("figcaption", { class: "legend", "aria-hidden": "true" },
      h("span", {}, h("i", { class: "k-forward" }), t("Forward")),
      h("span", {}, h("i", { class: "k-reverse" }), t("Backward")),
      h("span", {}, h("i", { class: "legend-target" }), t("{n} min target", { n: number(target) }))),
    dataTable(t("Minutes walked per week (target {n})", { n: number(target) }), [t("Week of"), t("Forward"), t("Backward"), t("Total")],
      weeks.map((w) => {
        // Shared out once, so a row's forward and backward add up to its total.
        const row = weekMinutes(w.forward_minutes, w.backward_minutes, w.minutes);
        return [dayMonth(w.week_start), number(row.forward), number(row.backward), number(row.total)];
      })));
}

/**
 * Backward minutes per session, oldest first, over the suggested 10-15 minute band.
 * @param {Array<{session_id: string, date: string, backward_minutes: number, completed: boolean, plan_name: string}>} sessions
 * @param {[number, number]} suggested minutes per session, low and high
 * @returns {HTMLElement} a figure with the chart, its legend and its table
 */
export function sessionChart(sessions, suggested) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = SESSION_CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const most = Math.max(0, ...sessions.map((p) => p.backward_minutes));
  const { max, step } = axis(Math.max(suggested[1] * 1.3, most * 1.15));
  const y = (minutes) => MARGIN.top + plotH - (minutes / max) * plotH;
  const x = (index) => MARGIN.left + (sessions.length > 1 ? 8 + (index / (sessions.length - 1)) * (plotW - 16) : plotW / 2);
  const grid = [];
  for (let value = 0; value <= max; value += step) {
    grid.push(s("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value), class: value ? "grid" : "baseline" }),
      s("text", { x: MARGIN.left - 6, y: y(value) + 4, class: "tick", "text-anchor": "end" }, String(value)));
  }
  const bandTop = y(suggested[1]);
  const marks = [];
  if (sessions.length) {
    const points = sessions.map((p, i) => [x(i), Math.min(y(p.backward_minutes), MARGIN.top + plotH - (p.backward_minutes > 0 ? MIN_MARK : 0))]);
    marks.push(s("polyline", { points: points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" "), class: "line" }));
    sessions.forEach((p, i) => {
      marks.push(s("circle", {
        cx: points[i][0].toFixed(1), cy: points[i][1].toFixed(1), r: sessions.length > 30 ? 3.5 : 5,
        class: p.completed ? "point" : "point point-stopped", "data-session": p.session_id, "data-minutes": p.backward_minutes,
      }));
    });
    const [lx, ly] = points.at(-1);
    marks.push(s("text", { x: Math.min(lx, WIDTH - MARGIN.right - 4), y: ly - 10, class: "value", "text-anchor": sessions.length > 1 ? "end" : "middle" },
      `${minutesFigure(sessions.at(-1).backward_minutes)} min`));
    marks.push(s("text", { x: MARGIN.left, y: SESSION_CHART_HEIGHT - 10, class: "tick", "text-anchor": "start" }, dayMonth(sessions[0].date)));
    if (sessions.length > 1) {
      marks.push(s("text", { x: WIDTH - MARGIN.right, y: SESSION_CHART_HEIGHT - 10, class: "tick", "text-anchor": "end" }, dayMonth(sessions.at(-1).date)));
    }
  } else {
    marks.push(s("text", { x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2 + 40, class: "empty-label", "text-anchor": "middle" }, t("Your walks will show here")));
  }
  const inBand = sessions.filter((p) => p.backward_minutes >= suggested[0]).length;
  const last = sessions.at(-1);
  const summary = sessions.length
    ? [
      plural(sessions.length, "Backward minutes per session, {n} session over the last 12 weeks, from {date}.",
        "Backward minutes per session, {n} sessions over the last 12 weeks, from {date}.", { date: dayMonth(sessions[0].date) }),
      t("Latest {latest} minutes, most {most}.", { latest: minutesFigure(last.backward_minutes), most: minutesFigure(most) }),
      t("{n} reached the suggested {low} to {high} minutes.", { n: number(inBand), low: number(suggested[0]), high: number(suggested[1]) }),
    ].join(" ")
    : t("Backward minutes per session: no walks yet.");
  const chart = s("svg", { viewBox: `0 0 ${WIDTH} ${SESSION_CHART_HEIGHT}`, class: "chart chart-sessions", role: "img", "aria-label": summary },
    s("rect", { x: MARGIN.left, width: plotW, y: bandTop, height: y(suggested[0]) - bandTop, class: "band" }),
    s("text", { x: MARGIN.left + 6, y: bandTop + 15, class: "band-label" }, t("{low}–{high} min suggested", { low: number(suggested[0]), high: number(suggested[1]) })),
    grid,
    marks);
  return h("figure", { class: "chart-box" },
    chart,
    h("figcaption", { class: "legend", "aria-hidden": "true" },
      h("span", {}, h("i", { class: "legend-point" }), t("Complete")),
      h("span", {}, h("i", { class: "legend-point legend-stopped" }), t("Stopped early")),
      h("span", {}, h("i", { class: "legend-band" }), `${number(suggested[0])}–${number(suggested[1])} min`)),
    dataTable(t("Backward minutes per session"), [t("Date"), t("Workout"), t("Backward minutes"), t("Ended")],
      sessions.map((p) => [dayMonth(p.date), p.plan_name, minutesFigure(p.backward_minutes), p.completed ? t("complete") : t("stopped early")])));
}
