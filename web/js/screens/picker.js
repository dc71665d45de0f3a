// Pick a workout: built-in plans, then the walker's own, each with its total and backward minutes.

import { h, minutesText, fill } from "../dom.js";
import { kindInfo, totals } from "../workout.js";

/**
 * A plan's segments as a strip of coloured blocks, widths by duration.
 * @param {Array<{kind: string, seconds: number}>} segments
 * @returns {HTMLElement}
 */
export function segmentStrip(segments) {
  return h("div", { class: "strip", "aria-hidden": "true" },
    segments.map((segment) => h("span", { class: `k-${segment.kind}`, style: { flexGrow: String(segment.seconds) } })));
}

/**
 * The legend for segment colours: only the kinds a plan uses.
 * @param {Array<{kind: string}>} segments
 * @returns {HTMLElement}
 */
export function stripLegend(segments) {
  const kinds = [...new Set(segments.map((s) => s.kind))];
  return h("div", { class: "strip-legend", "aria-hidden": "true" },
    kinds.map((kind) => h("span", {}, h("i", { class: `k-${kind}` }), kindInfo(kind).label)));
}

function planCard(plan, onPick, playable, title = plan.name) {
  const { total, reverse } = totals(plan.segments);
  const button = h("button", {
    type: "button",
    class: "plan-card",
    "data-plan": plan.id,
    "aria-label": `${title}: ${minutesText(total)} total, ${minutesText(reverse)} backward`,
    onclick: () => onPick(plan),
  },
  h("h3", { text: title }),
  plan.description ? h("p", { class: "desc", text: plan.description }) : null,
  h("div", { class: "plan-meta" },
    h("span", { class: "chip", text: `${minutesText(total)} total` }),
    h("span", { class: "chip chip-reverse", text: `${minutesText(reverse)} backward` }),
    playable.has(plan.id) ? h("span", { class: "chip chip-offline", "data-offline": plan.id, text: "Works offline" }) : null),
  segmentStrip(plan.segments));
  return h("li", {}, button);
}

/**
 * Plans grouped the way the walker thinks of them: programmes of several weeks (their
 * sessions in order), quick workouts, and the walker's own. Aliases of a session are hidden.
 * @param {Array<object>} plans
 * @returns {{programmes: Array<{id: string, name: string, sessions: Array<object>}>, quick: Array<object>, own: Array<object>}}
 */
export function groupPlans(plans) {
  const byProgramme = new Map();
  const quick = [];
  const own = [];
  for (const plan of plans) {
    if (plan.alias_of) continue;
    if (!plan.builtin) own.push(plan);
    else if (plan.programme) {
      if (!byProgramme.has(plan.programme)) byProgramme.set(plan.programme, []);
      byProgramme.get(plan.programme).push(plan);
    } else quick.push(plan);
  }
  const programmes = [];
  for (const [id, sessions] of byProgramme) {
    sessions.sort((a, b) => (a.week - b.week) || (a.session - b.session));
    if (new Set(sessions.map((s) => s.week)).size > 1) {
      programmes.push({ id, name: sessions[0].name.split(":")[0], sessions });
    } else {
      quick.push(...sessions);
    }
  }
  return { programmes, quick, own };
}

function sessionLabel(plan) {
  return plan.week ? `Week ${plan.week}, session ${plan.session}` : plan.name;
}

function programmeCard(programme, onPick, playable) {
  const first = programme.sessions[0];
  const weeks = new Set(programme.sessions.map((s) => s.week)).size;
  const card = planCard(first, onPick, playable, programme.name);
  card.querySelector("h3").after(h("p", { class: "chip-muted", text: `${weeks} weeks · ${programme.sessions.length} sessions` }));
  const rows = programme.sessions.map((plan) => {
    const { total, reverse } = totals(plan.segments);
    return h("li", {}, h("button", {
      type: "button", class: "session-row", "data-plan": plan.id, onclick: () => onPick(plan),
      "aria-label": `${programme.name}, ${sessionLabel(plan)}: ${minutesText(total)} total, ${minutesText(reverse)} backward`,
    }, h("span", { text: sessionLabel(plan) }), h("span", { class: "len", text: `${minutesText(reverse)} back · ${minutesText(total)}` })));
  });
  card.append(h("details", { class: "sessions" },
    h("summary", { text: `All ${programme.sessions.length} sessions` }),
    h("ul", {}, rows)));
  return card;
}

/**
 * Render the picker.
 * @param {HTMLElement} root
 * @param {{plans: Array<object>, offline: boolean, playable: Set<string>, onPick: (plan: object) => void}} props
 *   `playable`: ids of the plans this phone can play with no server
 */
export function renderPicker(root, { plans, offline, playable, onPick }) {
  const { programmes, quick, own } = groupPlans(plans);
  fill(root,
    h("div", { class: "screen-head" },
      h("h1", { text: "Pick a workout" }),
      h("p", { text: "Start it, put the phone away, and listen: every switch, countdown and speed is spoken." })),
    offline ? h("p", { class: "note-box", text: "You are offline. Workouts marked “Works offline” can be played from this phone." }) : null,
    programmes.length ? [
      h("h2", { class: "section-title", text: "Programmes" }),
      h("ul", { class: "plan-list" }, programmes.map((programme) => programmeCard(programme, onPick, playable))),
    ] : null,
    quick.length ? [
      h("h2", { class: "section-title", text: "Quick workouts" }),
      h("ul", { class: "plan-list" }, quick.map((plan) => planCard(plan, onPick, playable))),
    ] : null,
    h("h2", { class: "section-title", text: "My plans" }),
    own.length
      ? h("ul", { class: "plan-list" }, own.map((plan) => planCard(plan, onPick, playable)))
      : h("p", { class: "empty", text: "Your own plans will appear here." }),
  );
}
