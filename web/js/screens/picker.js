// Pick a workout: the session the walker's programme offers next, the programmes with their
// progress and a Follow button, quick workouts, and the walker's own plans to edit, copy, import.

import { fill, h, minutesText, svg } from "../dom.js";
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

/** One of the walker's own plans: the card, and Edit and Duplicate under it. */
function ownPlanCard(plan, { onPick, onEdit, onCopy }, playable) {
  const card = planCard(plan, onPick, playable);
  card.append(h("div", { class: "card-actions" },
    h("button", { type: "button", class: "btn btn-small", "data-edit": plan.id, "aria-label": `Edit ${plan.name}`, onclick: () => onEdit(plan) },
      svg({ viewBox: "0 0 24 24" }, [["path", { d: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4" }]]), "Edit"),
    h("button", { type: "button", class: "btn btn-small", "aria-label": `Duplicate ${plan.name}`, onclick: () => onCopy(plan) },
      svg({ viewBox: "0 0 24 24" }, [["path", { d: "M8 8h11v11H8zM5 15V5h10" }]]), "Duplicate")));
  return card;
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

/** A programme's place as a bar: sessions done of all. */
function progressBar(progress, name) {
  return h("div", { class: "prog" },
    h("progress", { max: progress.total, value: progress.done, "aria-label": `${name}: ${progress.done} of ${progress.total} sessions done` }),
    h("span", { text: `${progress.done} of ${progress.total} done` }));
}

/**
 * The session the walker's programme offers next, big, with its why.
 * @param {object} programme a programme of GET /api/programmes
 * @param {object} plan the session's plan
 * @param {(plan: object) => void} onPick
 * @param {Set<string>} playable
 */
function upNextCard(programme, plan, onPick, playable) {
  const session = programme.sessions.find((s) => s.plan_id === plan.id);
  const { total, reverse } = totals(plan.segments);
  const label = programme.progress.label;
  return h("section", { class: "up-next", "aria-labelledby": "up-next-title", "data-programme": programme.id },
    h("p", { class: "eyebrow", text: `Up next · ${programme.name}` }),
    h("h2", { id: "up-next-title", text: label }),
    session?.why ? h("p", { class: "desc", text: session.why }) : null,
    h("div", { class: "plan-meta" },
      h("span", { class: "chip", text: `${minutesText(total)} total` }),
      h("span", { class: "chip chip-reverse", text: `${minutesText(reverse)} backward` }),
      playable.has(plan.id) ? h("span", { class: "chip chip-offline", "data-offline": plan.id, text: "Works offline" }) : null),
    segmentStrip(plan.segments),
    progressBar(programme.progress, programme.name),
    h("button", {
      type: "button", class: "btn btn-primary btn-huge btn-block", "data-plan": plan.id,
      "aria-label": `Walk ${label} of ${programme.name}`, onclick: () => onPick(plan),
    }, "Walk this session"));
}

/**
 * A programme: who it is for, where the walker is in it, Follow, and every session.
 * @param {object} programme a programme of GET /api/programmes (with its progress)
 * @param {{onPick: Function, onFollow: Function}} actions
 */
function programmeCard(programme, { onPick, onFollow }) {
  const progress = programme.progress;
  const started = programme.following || progress.done > 0;
  const backward = programme.sessions.map((s) => s.plan.reverse_seconds);
  const [least, most] = [Math.min(...backward), Math.max(...backward)];
  const range = least === most ? `${minutesText(least)} backward` : `${minutesText(least).replace(" min", "")}–${minutesText(most)} backward`;
  let confirmTimer = null;
  const follow = h("button", {
    type: "button",
    class: `btn btn-block ${programme.following ? "btn-quiet" : "btn-secondary"}`,
    "data-follow": programme.id,
    onclick: () => {
      if (programme.following && !confirmTimer) {
        // Starting over forgets the progress made: a second tap confirms it.
        follow.textContent = "Tap again to start over";
        confirmTimer = setTimeout(() => { confirmTimer = null; follow.textContent = "Start over from week 1"; }, CONFIRM_MS);
        return;
      }
      clearTimeout(confirmTimer);
      follow.disabled = true;
      onFollow(programme);
    },
  }, programme.following ? "Start over from week 1" : "Follow this programme");
  const rows = programme.sessions.map((session, index) => {
    const plan = session.plan;
    const done = !programme.repeats && index < progress.done;
    const next = session.plan_id === progress.next_plan_id && started;
    const state = done ? ", done" : next ? ", next" : "";
    return h("li", {}, h("button", {
      type: "button", class: "session-row", "data-plan": plan.id, "data-state": done ? "done" : next ? "next" : "",
      onclick: () => onPick(plan),
      "aria-label": `${session.label}${state}: ${minutesText(plan.total_seconds)} total, ${minutesText(plan.reverse_seconds)} backward`,
    },
    h("span", { class: "row-label" },
      done ? svg({ viewBox: "0 0 24 24", class: "tick" }, [["path", { d: "M5 12.5l4.5 4.5L19 7.5" }]])
        : next ? svg({ viewBox: "0 0 24 24", class: "tick tick-next" }, [["path", { d: "M8 5l8 7-8 7z" }]]) : h("i", { class: "dot" }),
      session.label),
    h("span", { class: "len", text: `${minutesText(plan.reverse_seconds)} back · ${minutesText(plan.total_seconds)}` })));
  });
  return h("li", { class: "programme", "data-programme": programme.id },
    h("div", { class: "programme-head" },
      h("h3", { text: programme.name }),
      programme.following ? h("span", { class: "badge badge-done", text: "Following" }) : null),
    h("p", { class: "audience", text: programme.audience }),
    h("p", { class: "desc", text: programme.description }),
    h("div", { class: "plan-meta" },
      h("span", { class: "chip", text: `${programme.weeks} weeks · ${programme.sessions_per_week} a week` }),
      h("span", { class: "chip chip-reverse", text: range })),
    started ? h("p", { class: "where", text: progress.finished ? "All sessions done. Well walked!" : `${progress.label} next` }) : null,
    started ? progressBar(progress, programme.name) : null,
    h("div", { class: "programme-actions" }, follow),
    h("details", { class: "sessions" },
      h("summary", { text: `All ${programme.sessions.length} sessions` }),
      h("ul", {}, rows)));
}

/** The programmes' cards from the plans list alone (no programmes answer: offline and never fetched). */
function fallbackProgrammes(programmes, onPick, playable) {
  return programmes.map((programme) => {
    const first = programme.sessions[0];
    const weeks = new Set(programme.sessions.map((s) => s.week)).size;
    const card = planCard(first, onPick, playable, programme.name);
    card.querySelector("h3").after(h("p", { class: "chip-muted", text: `${weeks} weeks · ${programme.sessions.length} sessions` }));
    const rows = programme.sessions.map((plan) => h("li", {}, h("button", {
      type: "button", class: "session-row", "data-plan": plan.id, onclick: () => onPick(plan),
      "aria-label": `${programme.name}, ${sessionLabel(plan)}: ${minutesText(plan.total_seconds)} total, ${minutesText(plan.reverse_seconds)} backward`,
    }, h("span", { text: sessionLabel(plan) }), h("span", { class: "len", text: `${minutesText(plan.reverse_seconds)} back · ${minutesText(plan.total_seconds)}` }))));
    card.append(h("details", { class: "sessions" }, h("summary", { text: `All ${programme.sessions.length} sessions` }), h("ul", {}, rows)));
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
  const { plans, programmes, offline, playable, onPick, focusPlan } = props;
  const { programmes: grouped, quick, own } = groupPlans(plans);
  const byId = new Map(plans.map((plan) => [plan.id, plan]));
  // Programmes of one week that repeat (Quick mix) are quick workouts: groupPlans puts them there.
  const programmeCards = programmes
    ? programmes.programmes.filter((p) => !p.repeats).map((programme) => programmeCard(programme, props))
    : fallbackProgrammes(grouped, onPick, playable);
  let upNext = null;
  if (programmes) {
    const next = programmes.next;
    const followed = next && programmes.programmes.find((p) => p.id === next.programme_id);
    const plan = next && (byId.get(next.plan_id) || followed?.sessions.find((s) => s.plan_id === next.plan_id)?.plan);
    if (followed && plan) upNext = upNextCard(followed, plan, onPick, playable);
  }
  const importInput = h("input", {
    type: "file", id: "import-file", class: "visually-hidden", accept: ".json,application/json",
    onchange: () => { if (importInput.files?.[0]) props.onImport(importInput.files[0]); importInput.value = ""; },
  });
  fill(root,
    h("div", { class: "screen-head" },
      h("h1", { text: "Pick a workout" }),
      h("p", { text: "Start it, put the phone away, and listen: every switch, countdown and speed is spoken." })),
    offline ? h("p", { class: "note-box", text: "You are offline. Workouts marked “Works offline” can be played from this phone." }) : null,
    upNext,
    programmeCards.length ? [
      h("h2", { class: "section-title", text: "Programmes" }),
      h("ul", { class: "plan-list" }, programmeCards),
    ] : null,
    quick.length ? [
      h("h2", { class: "section-title", text: "Quick workouts" }),
      h("ul", { class: "plan-list" }, quick.map((plan) => planCard(plan, onPick, playable))),
    ] : null,
    h("h2", { class: "section-title", id: "my-plans", text: "My plans" }),
    own.length
      ? h("ul", { class: "plan-list" }, own.map((plan) => ownPlanCard(plan, props, playable)))
      : h("p", { class: "empty", text: "Build your own: forward and backward intervals, at your speeds." }),
    h("div", { class: "my-plan-actions" },
      h("button", { type: "button", class: "btn btn-secondary", id: "new-plan", onclick: props.onNew },
        svg({ viewBox: "0 0 24 24" }, [["path", { d: "M12 5v14M5 12h14" }]]), "New plan"),
      h("label", { class: "btn btn-secondary", for: "import-file" },
        svg({ viewBox: "0 0 24 24" }, [["path", { d: "M12 4v11M7 10l5 5 5-5M5 20h14" }]]), "Import file"),
      importInput),
  );
  // The session offered next, if it is that plan, else its card.
  const focused = focusPlan && root.querySelector(`.up-next [data-plan="${CSS.escape(focusPlan)}"], .plan-card[data-plan="${CSS.escape(focusPlan)}"]`);
  if (focused) {
    focused.scrollIntoView({ block: "center" });
    focused.focus({ preventScroll: true });
  }
}
