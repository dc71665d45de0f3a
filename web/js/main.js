// RetroWalk's phone app: routes between the screens, owns the workout in progress, and
// registers the service worker that keeps the app (and played workouts) available offline.

import { Unreachable, createSession, getHistory, getPhoneAddress, getPlans } from "./api.js";
import { Coach } from "./coach.js";
import { h } from "./dom.js";
import { renderHistory } from "./screens/history.js";
import { renderPicker } from "./screens/picker.js";
import { renderPlayer } from "./screens/player.js";
import { renderReady, renderSafety } from "./screens/ready.js";
import { renderSummary } from "./screens/summary.js";
import {
  activeWorkout, confirmSafety, lastPlans, localHistory, safetyConfirmed, savePlans, saveActive, savedTimeline, savedTimelines,
} from "./store.js";

/** The cache the service worker keeps cue audio in (see sw.js). */
const AUDIO_CACHE = "retrowalk-audio";
/** Wide screens with a mouse are desktops: they show the QR code for the phone. */
const DESKTOP_QUERY = "(min-width: 960px) and (pointer: fine)";
/** How long the page waits for a workout left running before showing the picker instead. */
const REJOIN_WAIT_MS = 3000;

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const statusLine = /** @type {HTMLElement} */ (document.getElementById("status"));
const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));

/** What the app holds between screens. */
const app = {
  /** @type {Array<object>|null} */
  plans: null,
  /** @type {Coach|null} the workout being prepared or walked */
  coach: null,
  /** @type {{plan: object, summary: object}|null} */
  finished: null,
  /** @type {(() => void)|null} cleanup of the current screen */
  leave: null,
  /** Counts screen changes, so a screen that finished loading late does not draw over a newer one. */
  visit: 0,
};

/** True while the screen shown by visit `visit` is still the current one. */
const current = (visit) => visit === app.visit;

/**
 * The routes: a hash pattern and the function that shows it. Issue 5's screens (plan
 * editor, progress, settings) add a line here and a tab in index.html.
 */
const ROUTES = [
  [/^#\/plan\/(.+)$/, (id) => showPlan(decodeURIComponent(id)), "workouts"],
  [/^#\/workout$/, () => showPlayer(), "workouts"],
  [/^#\/summary$/, () => showSummary(), "workouts"],
  [/^#\/history$/, () => showHistory(), "history"],
  [/^#?\/?$/, () => showPicker(), "workouts"],
];

function route() {
  app.visit += 1;
  app.leave?.();
  app.leave = null;
  const hash = location.hash || "#/";
  for (const [pattern, show, tab] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      for (const link of document.querySelectorAll(".tabs a")) {
        link.toggleAttribute("aria-current", link.dataset.tab === tab);
        if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
      }
      document.body.dataset.screen = "";
      showBanner();
      window.scrollTo(0, 0);
      show(...match.slice(1));
      return;
    }
  }
  go("#/");
}

/**
 * Go to a screen.
 * @param {string} hash
 */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setStatus(text, tone = "") {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

function showOnlineStatus() {
  if (navigator.onLine === false) setStatus("Offline", "off");
  else setStatus("", "");
}

/** A workout running while another screen is shown: a way back to it. */
function showBanner() {
  const coach = app.coach;
  const walking = coach && (coach.state.state === "running" || coach.state.state === "paused");
  banner.hidden = !walking || location.hash === "#/workout";
  if (!banner.hidden) {
    banner.replaceChildren(
      h("span", { text: `${coach.plan.name} is ${coach.state.state === "paused" ? "paused" : "running"}.` }),
      h("a", { class: "btn btn-primary", href: "#/workout" }, "Back to it"));
  }
}

async function loadPlans() {
  try {
    const plans = await getPlans();
    savePlans(plans);
    return { plans, offline: Boolean(plans.fromCache) };
  } catch (error) {
    const remembered = lastPlans();
    if (error instanceof Unreachable && remembered) return { plans: remembered, offline: true };
    throw error;
  }
}

/** Plans whose timeline and every cue file this phone has: they can be played with no server. */
async function offlinePlayable() {
  const playable = new Set();
  if (!("caches" in window)) return playable;
  const cache = await caches.open(AUDIO_CACHE);
  for (const [planId, saved] of Object.entries(savedTimelines())) {
    const urls = [...new Set(saved.timeline.map((cue) => cue.audio))];
    const hits = await Promise.all(urls.map((url) => cache.match(url)));
    if (hits.every(Boolean)) playable.add(planId);
  }
  return playable;
}

async function showPicker() {
  const visit = app.visit;
  showOnlineStatus();
  let result;
  let playable = new Set();
  try {
    // Both at once, so the picker is drawn once, with its "Works offline" marks in place.
    [result, playable] = await Promise.all([loadPlans(), offlinePlayable().catch(() => new Set())]);
  } catch (error) {
    if (!current(visit)) return;
    main.replaceChildren(h("div", { class: "screen-head" }, h("h1", { text: "Pick a workout" })),
      h("p", { class: "error-box", text: `${error.message} Try again when you are connected.` }));
    return;
  }
  app.plans = result.plans;
  if (!current(visit)) return;
  if (result.offline) setStatus("Offline", "off");
  renderPicker(main, { plans: result.plans, offline: result.offline, playable, onPick: (plan) => go(`#/plan/${encodeURIComponent(plan.id)}`) });
}

async function findPlan(id) {
  if (!app.plans) {
    try { app.plans = (await loadPlans()).plans; } catch { app.plans = []; }
  }
  return app.plans.find((p) => p.id === id) || savedTimeline(id)?.plan || null;
}

async function showPlan(id) {
  const visit = app.visit;
  const plan = await findPlan(id);
  if (!current(visit)) return;
  if (!plan) {
    main.replaceChildren(h("p", { class: "error-box", text: "This workout does not exist (any more)." }));
    return;
  }
  if (app.coach && app.coach.state.state !== "ready" && app.coach.state.state !== "finished") {
    go("#/workout");
    return;
  }
  if (!safetyConfirmed()) {
    renderSafety(main, {
      plan,
      onConfirm: () => { confirmSafety(); showPlan(id); },
      onCancel: () => go("#/"),
    });
    return;
  }
  prepareWorkout(plan);
}

/** Create the session (or fall back to this phone), fetch and decode the audio, then offer Start. */
async function prepareWorkout(plan) {
  window.scrollTo(0, 0);
  let coach = null;
  let cancelled = false;
  const view = renderReady(main, {
    plan,
    onStart: async () => {
      await coach.start();
      go("#/workout");
    },
    onBack: () => go("#/"),
  });
  app.leave = () => {
    cancelled = true;
    if (coach && coach.state.state === "ready") {
      coach.dispose();
      if (app.coach === coach) app.coach = null;
    }
  };
  app.coach?.state.state === "finished" && app.coach.dispose();
  let offline = false;
  try {
    const session = await createSession(plan.id);
    coach = new Coach({ plan: session.plan || plan, session });
  } catch (error) {
    const saved = savedTimeline(plan.id);
    if (error instanceof Unreachable && saved) {
      coach = new Coach({ plan: saved.plan, saved });
      offline = true;
    } else {
      view.fail(error instanceof Unreachable
        ? "This workout needs a connection the first time you play it; afterwards it plays offline too."
        : error.message);
      return;
    }
  }
  if (cancelled) { coach.dispose(); return; }
  app.coach = coach;
  coach.addEventListener("finished", (event) => {
    app.finished = { plan: coach.plan, summary: event.detail };
    if (app.coach === coach) app.coach = null;
    go("#/summary");
  });
  try {
    const { failed } = await coach.prepare(view.progress);
    if (!cancelled) view.ready({ offline, failed });
  } catch (error) {
    if (!cancelled) view.fail(error.message);
  }
}

function showPlayer() {
  const coach = app.coach;
  if (!coach || coach.state.state === "ready") {
    go("#/");
    return;
  }
  document.body.dataset.screen = "player";
  app.leave = renderPlayer(main, { coach });
}

function showSummary() {
  if (!app.finished) {
    go("#/");
    return;
  }
  showOnlineStatus();
  renderSummary(main, { ...app.finished, onDone: () => go("#/"), onHistory: () => go("#/history") });
}

async function showHistory() {
  const visit = app.visit;
  showOnlineStatus();
  let entries = [];
  let offline = false;
  let error = "";
  try {
    entries = await getHistory();
    offline = Boolean(entries.fromCache);
  } catch (failure) {
    offline = failure instanceof Unreachable;
    error = offline ? "" : failure.message;
  }
  if (!current(visit)) return;
  const all = [...entries, ...localHistory()].sort((a, b) => (b.started_at || 0) - (a.started_at || 0));
  renderHistory(main, { entries: all, offline, error });
}

/** Back to a workout that was running when the page was closed or reloaded. */
async function rejoin() {
  const active = activeWorkout();
  if (!active?.session || navigator.onLine === false) return;
  const coach = new Coach({ plan: active.plan, session: active.session });
  try {
    await Promise.race([coach.rejoin(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), REJOIN_WAIT_MS))]);
  } catch {
    coach.dispose();
    return;
  }
  if (coach.state.state !== "running" && coach.state.state !== "paused") {
    coach.dispose();
    saveActive(null);
    return;
  }
  app.coach = coach;
  coach.addEventListener("finished", (event) => {
    app.finished = { plan: coach.plan, summary: event.detail };
    if (app.coach === coach) app.coach = null;
    go("#/summary");
  });
  history.replaceState(null, "", "#/workout");
}

/** On a desktop, the address to open on the phone as a QR code. */
async function showPhonePanel() {
  if (!matchMedia(DESKTOP_QUERY).matches) return;
  const panel = document.getElementById("phone-panel");
  try {
    const phone = await getPhoneAddress();
    const link = /** @type {HTMLAnchorElement} */ (document.getElementById("phone-url"));
    link.href = phone.url;
    link.textContent = phone.url;
    /** @type {HTMLImageElement} */ (document.getElementById("phone-qr")).src = "/phone-qr.svg";
    const notes = [];
    if (!phone.reachable) notes.push("This address only works on this computer: start the server with --host 0.0.0.0 to reach it from a phone.");
    if (!phone.secure) notes.push("Over plain http a phone can play workouts, but installing the app, keeping the screen awake and playing offline need https (see “Open it on your phone” in the README).");
    document.getElementById("phone-note").textContent = notes.join(" ");
    panel.hidden = false;
  } catch {
    panel.hidden = true;
  }
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
    // Plain http on a LAN address: no service worker, the app still works online.
    console.info("No offline support here:", error.message);
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("online", showOnlineStatus);
window.addEventListener("offline", showOnlineStatus);
registerServiceWorker();
showPhonePanel();
// A workout left running (a reload, the phone closed the page) is rejoined before any screen.
rejoin().finally(route);
