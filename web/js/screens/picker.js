// Pick a workout: the session the walker's programme offers next, the programmes with their
// progress and a Follow button, quick workouts, and the walker's own plans to edit, copy, import.

import { fill, h, minutesText, svg } from "../dom.js";
import { number, plural, t } from "../i18n.js";
import { kindInfo, totals } from "../workout.js";

/** A second tap within this time confirms starting a programme over (as Stop does in the player). */
const CONFIRM_MS = 3000;

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

/** Chips under a plan: its length, its backward minutes, and whether it plays with no server. */
function planChips(plan, total, reverse, playable, offline) {
  return h("div", { class: "plan-meta" },
    h("span", { class: "chip", text: t("{time} total", { time: minutesText(total) }) }),
    h("span", { class: "chip chip-reverse", text: t("{time} backward", { time: minutesText(reverse) }) }),
    playable.has(plan.id) ? h("span", { class: "chip chip-offline", "data-offline": plan.id, text: t("Works offline") })
      : offline ? h("span", { class: "chip chip-muted", "data-needs-server": plan.id, text: t("Needs a connection once") }) : null);
}

function planCard(plan, onPick, playable, title = plan.name, offline = false) {
  const { total, reverse } = totals(plan.segments);
  const button = h("button", {
    type: "button",
    class: "plan-card",
    "data-plan": plan.id,
    "aria-label": t("{name}: {total} total, {backward} backward", { name: title, total: minutesText(total), backward: minutesText(reverse) }),
    onclick: () => onPick(plan),
  },
  h("h3", { text: title }),
  plan.description ? h("p", { class: "desc", text: plan.description }) : null,
  planChips(plan, total, reverse, playable, offline),
  segmentStrip(plan.segments));
  return h("li", {}, button);
}

/** One of the walker's own plans: the card, and Edit and Duplicate under it. */
function ownPlanCard(plan, { onPick, onEdit, onCopy }, playable, offline) {
  const card = planCard(plan, onPick, playable, plan.name, offline);
  card.append(h("div", { class: "card-actions" },
    h("button", { type: "button", class: "btn btn-small", "data-edit": plan.id, "aria-label": t("Edit {name}", { name: plan.name }), onclick: () => onEdit(plan) },
      svg({ viewBox: "0 0 24 24" }, [["path", { d: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4" }]]), t("Edit")),
    h("button", { type: "button", class: "btn btn-small", "aria-label": t("Duplicate {name}", { name: plan.name }), onclick: () => onCopy(plan) },
      svg({ viewBox: "0 0 24 24" }, [["path", { d: "M8 8h11v11H8zM5 15V5h10" }]]), t("Duplicate"))));
  return card;
}

/**
 * Plans grouped the way the walker thinks of them: programmes of several weeks (their
 * workouts in order), quick workouts, and the walker's own. Aliases of a workout are hidden.
 * @param {Array<object>} plans
 * @returns {{programmes: Array<{id: string, name: string, workouts: Array<object>}>, quick: Array<object>, own: Array<object>}}
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
  for (const [id, workouts] of byProgramme) {
    workouts.sort((a, b) => (a.week - b.week) || (a.session - b.session));
    if (new Set(workouts.map((w) => w.week)).size > 1) {
      programmes.push({ id, name: workouts[0].name.split(":")[0].trim(), workouts });
    } else {
      quick.push(...workouts);
    }
  }
  return { programmes, quick, own };
}

/**
 * Seconds a plan walks backward: plans this phone remembered from before the field had its
 * glossary name carry only `reverse_seconds`, its alias.
 * @param {object} plan a plan as GET /api/plans shows it
 * @returns {number}
 */
const backwardSeconds = (plan) => plan.backward_seconds ?? plan.reverse_seconds;

function sessionLabel(plan) {
  return plan.week ? t("Week {week}, session {session}", { week: number(plan.week), session: number(plan.session) }) : plan.name;
}

/** A programme's place as a bar: sessions done of all. */
function progressBar(progress, name) {
  return h("div", { class: "prog" },
    h("progress", { max: progress.total, value: progress.done,
      "aria-label": t("{name}: {done} of {total} sessions done", { name, done: number(progress.done), total: number(progress.total) }) }),
    h("span", { text: t("{done} of {total} done", { done: number(progress.done), total: number(progress.total) }) }));
}

/**
 * The session the walker's programme offers next, big, with its why.
 * @param {object} programme a programme of GET /api/programmes
 * @param {object} plan the session's plan
 * @param {(plan: object) => void} onPick
 * @param {Set<string>} playable
 */
function upNextCard(programme, plan, onPick, playable, offline) {
  const workout = programme.workouts.find((w) => w.plan_id === plan.id);
  const { total, reverse } = totals(plan.segments);
  const label = programme.progress.label;
  return h("section", { class: "up-next", "aria-labelledby": "up-next-title", "data-programme": programme.id },
    h("p", { class: "eyebrow", text: t("Up next · {programme}", { programme: programme.name }) }),
    h("h2", { id: "up-next-title", text: label }),
    workout?.why ? h("p", { class: "desc", text: workout.why }) : null,
    planChips(plan, total, reverse, playable, offline),
    segmentStrip(plan.segments),
    progressBar(programme.progress, programme.name),
    // Offline, a session never played here cannot start: said before the tap, not after it.
    offline && !playable.has(plan.id)
      ? h("p", { class: "note-box", id: "up-next-needs-server", text: t("This session needs the server once; after that it plays offline too.") })
      : null,
    // The accessible name starts with the visible words, so voice control finds the button by them.
    h("button", {
      type: "button", class: "btn btn-primary btn-huge btn-block", "data-plan": plan.id,
      "aria-label": t("Walk this session: {label}, {programme}", { label, programme: programme.name }),
      "aria-describedby": offline && !playable.has(plan.id) ? "up-next-needs-server" : null, onclick: () => onPick(plan),
    }, t("Walk this session")));
}

/**
 * A programme: who it is for, where the walker is in it, Follow, and every session.
 * @param {object} programme a programme of GET /api/programmes (with its progress)
 * @param {{onPick: Function, onFollow: Function}} actions
 */
function programmeCard(programme, { onPick, onFollow }, followedName) {
  const progress = programme.progress;
  const started = programme.following || progress.done > 0;
  const backward = programme.workouts.map((w) => backwardSeconds(w.plan));
  const [least, most] = [Math.min(...backward), Math.max(...backward)];
  const range = t("{time} backward", { time: least === most ? minutesText(least) : `${minutesText(least).replace(" min", "")}–${minutesText(most)}` });
  // Following this one instead of another forgets nothing, but the other stops being offered: a second tap confirms it.
  const switching = !programme.following && followedName;
  const idle = programme.following ? t("Start over from week 1") : t("Follow this programme");
  let confirmTimer = null;
  const follow = h("button", {
    type: "button",
    class: `btn btn-block ${programme.following ? "btn-quiet" : "btn-secondary"}`,
    "data-follow": programme.id,
    onclick: () => {
      if ((programme.following || switching) && !confirmTimer) {
        // Starting over forgets the progress made, switching stops the other programme: a second tap confirms it.
        follow.textContent = switching ? t("Tap again to follow this instead of {name}", { name: followedName }) : t("Tap again to start over");
        confirmTimer = setTimeout(() => { confirmTimer = null; follow.textContent = idle; }, CONFIRM_MS);
        return;
      }
      clearTimeout(confirmTimer);
      follow.disabled = true;
      onFollow(programme);
    },
  }, idle);
  const rows = programme.workouts.map((workout, index) => {
    const plan = workout.plan;
    const done = !programme.repeats && index < progress.done;
    const next = workout.plan_id === progress.next_plan_id && started;
    const state = done ? t(", done") : next ? t(", next") : "";
    return h("li", {}, h("button", {
      type: "button", class: "session-row", "data-plan": plan.id, "data-state": done ? "done" : next ? "next" : "",
      onclick: () => onPick(plan),
      "aria-label": t("{name}: {total} total, {backward} backward", { name: `${workout.label}${state}`, total: minutesText(plan.total_seconds), backward: minutesText(backwardSeconds(plan)) }),
    },
    h("span", { class: "row-label" },
      done ? svg({ viewBox: "0 0 24 24", class: "tick" }, [["path", { d: "M5 12.5l4.5 4.5L19 7.5" }]])
        : next ? svg({ viewBox: "0 0 24 24", class: "tick tick-next" }, [["path", { d: "M8 5l8 7-8 7z" }]]) : h("i", { class: "dot" }),
      workout.label),
    h("span", { class: "len", text: t("{backward} back · {total}", { backward: minutesText(backwardSeconds(plan)), total: minutesText(plan.total_seconds) }) })));
  });
  return h("li", { class: "programme", "data-programme": programme.id },
    h("div", { class: "programme-head" },
      h("h3", { text: programme.name }),
      programme.following ? h("span", { class: "badge badge-done", text: t("Following") }) : null),
    h("p", { class: "audience", text: programme.audience }),
    programmeDescription(programme),
    h("div", { class: "plan-meta" },
      h("span", { class: "chip", text: `${plural(programme.weeks, "{n} week", "{n} weeks")} · ${t("{n} a week", { n: number(programme.workouts_per_week) })}` }),
      h("span", { class: "chip chip-reverse", text: range })),
    started ? h("p", { class: "where", text: progress.finished ? t("All sessions done. Well walked!") : t("{label} next", { label: progress.label }) }) : null,
    started ? progressBar(progress, programme.name) : null,
    h("div", { class: "programme-actions" }, follow),
    h("details", { class: "sessions" },
      h("summary", { text: t("All {n} sessions", { n: number(programme.workouts.length) }) }),
      h("ul", {}, rows)));
}

/**
 * A programme's description, cut to three lines with a "More" that opens it whole (the safety advice is at its end).
 * @param {{id: string, description: string}} programme
 */
function programmeDescription(programme) {
  const text = h("p", { class: "desc clamp", id: `desc-${programme.id}`, text: programme.description });
  const more = h("button", { type: "button", class: "link-btn", "aria-expanded": "false", "aria-controls": text.id, onclick: () => {
    const open = text.classList.toggle("clamp");
    more.setAttribute("aria-expanded", String(!open));
    more.textContent = open ? t("More") : t("Less");
  } }, t("More"));
  return h("div", { class: "desc-box" }, text, more);
}

/** The programmes' cards from the plans list alone (no programmes answer: offline and never fetched). */
function fallbackProgrammes(programmes, onPick, playable, offline) {
  return programmes.map((programme) => {
    const first = programme.workouts[0];
    const weeks = new Set(programme.workouts.map((w) => w.week)).size;
    const card = planCard(first, onPick, playable, programme.name, offline);
    card.querySelector("h3").after(h("p", { class: "chip-muted", text: `${plural(weeks, "{n} week", "{n} weeks")} · ${plural(programme.workouts.length, "{n} session", "{n} sessions")}` }));
    const rows = programme.workouts.map((plan) => h("li", {}, h("button", {
      type: "button", class: "session-row", "data-plan": plan.id, onclick: () => onPick(plan),
      "aria-label": t("{name}: {total} total, {backward} backward", { name: `${programme.name}, ${sessionLabel(plan)}`, total: minutesText(plan.total_seconds), backward: minutesText(backwardSeconds(plan)) }),
    }, h("span", { text: sessionLabel(plan) }),
    h("span", { class: "len", text: t("{backward} back · {total}", { backward: minutesText(backwardSeconds(plan)), total: minutesText(plan.total_seconds) }) }))));
    card.append(h("details", { class: "sessions" }, h("summary", { text: t("All {n} sessions", { n: number(programme.workouts.length) }) }), h("ul", {}, rows)));
    return card;
  });
}

/**
 * Render the picker.
 * @param {HTMLElement} root
 * @param {{plans: Array<object>, programmes: object|null, offline: boolean, playable: Set<string>,
 *   onPick: (plan: object) => void, onFollow: (programme: object) => void, onEdit: (plan: object) => void,
 *   onCopy: (plan: object) => void, onNew: () => void, onImport: (file: File) => void, focusPlan?: string|null}} props
 *   `programmes`: GET /api/programmes (null when unknown); `playable`: ids of the plans this phone can play with no server;
 *   `focusPlan`: a plan to scroll to and focus (one just saved)
 */
export function renderPicker(root, props) {
  const { plans, offline, playable, onPick, focusPlan } = props;
  // An answer kept from before programmes listed their `workouts` (a stale offline copy) is drawn
  // as if there were none: the cards then come from the plans alone.
  const programmes = props.programmes?.programmes?.every((p) => Array.isArray(p.workouts)) ? props.programmes : null;
  const { programmes: grouped, quick, own } = groupPlans(plans);
  const byId = new Map(plans.map((plan) => [plan.id, plan]));
  // Programmes of one week that repeat (Quick mix) are quick workouts: groupPlans puts them there.
  const followedName = programmes?.programmes.find((p) => p.following)?.name || null;
  const programmeCards = programmes
    ? programmes.programmes.filter((p) => !p.repeats).map((programme) => programmeCard(programme, props, followedName))
    : fallbackProgrammes(grouped, onPick, playable, offline);
  let upNext = null;
  if (programmes) {
    const next = programmes.next;
    const followed = next && programmes.programmes.find((p) => p.id === next.programme_id);
    const plan = next && (byId.get(next.plan_id) || followed?.workouts.find((w) => w.plan_id === next.plan_id)?.plan);
    if (followed && plan) upNext = upNextCard(followed, plan, onPick, playable, offline);
  }
  const importInput = h("input", {
    type: "file", id: "import-file", class: "visually-hidden", accept: ".json,application/json",
    onchange: () => { if (importInput.files?.[0]) props.onImport(importInput.files[0]); importInput.value = ""; },
  });
  fill(root,
    h("div", { class: "screen-head" },
      h("h1", { text: t("Pick a workout") }),
      h("p", { text: t("Start it, put the phone away, and listen: every switch, countdown and speed is spoken.") })),
    offline ? h("p", { class: "note-box", text: t("You are offline. Workouts marked “Works offline” can be played from this phone.") }) : null,
    upNext,
    programmeCards.length ? [
      h("h2", { class: "section-title", text: t("Programmes") }),
      h("ul", { class: "plan-list" }, programmeCards),
    ] : null,
    quick.length ? [
      h("h2", { class: "section-title", text: t("Quick workouts") }),
      h("ul", { class: "plan-list" }, quick.map((plan) => planCard(plan, onPick, playable, plan.name, offline))),
    ] : null,
    h("h2", { class: "section-title", id: "my-plans", text: t("My plans") }),
    own.length
      ? h("ul", { class: "plan-list" }, own.map((plan) => ownPlanCard(plan, props, playable, offline)))
      : h("p", { class: "empty", text: t("Build your own: forward and backward intervals, at your speeds.") }),
    h("div", { class: "my-plan-actions" },
      h("button", { type: "button", class: "btn btn-secondary", id: "new-plan", onclick: props.onNew },
        svg({ viewBox: "0 0 24 24" }, [["path", { d: "M12 5v14M5 12h14" }]]), t("New plan")),
      h("label", { class: "btn btn-secondary", for: "import-file" },
        svg({ viewBox: "0 0 24 24" }, [["path", { d: "M12 4v11M7 10l5 5 5-5M5 20h14" }]]), t("Import file")),
      importInput),
  );
  // The session offered next, if it is that plan, else its card.
  const focused = focusPlan && /** @type {HTMLElement|null} */ (root.querySelector(`.up-next [data-plan="${CSS.escape(focusPlan)}"], .plan-card[data-plan="${CSS.escape(focusPlan)}"]`));
  if (focused) {
    focused.scrollIntoView({ block: "center" });
    focused.focus({ preventScroll: true });
  }
}
