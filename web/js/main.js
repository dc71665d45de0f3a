// RetroWalk's phone app: routes between the screens, owns the workout in progress, and
// registers the service worker that keeps the app (and played workouts) available offline.
// The picker loads with the page; every other screen (get ready, the player, the summary,
// history, the editor, a shared plan, progress, settings) loads when first opened, with its
// strings: they are precached all the same, so the first load carries only the first screen.

import {
  Unreachable, createPlan, createSession, deletePlan, deleteSession, getHistory, getPhoneAddress, getPlans, getProgrammes, getSessionStats,
  getWeek, getWeeks, startProgramme, updatePlan,
} from "./api.js";
import { announce, h } from "./dom.js";
import { N_, language, loadStrings, t, useLanguage } from "./i18n.js";
import { renderPicker } from "./screens/picker.js";
import { WALKS_UPLOADED, uploadWhenReachable } from "./offline.js";
import { SETTINGS_RULES, changeSettings, currentSettings, loadSettings } from "./settings.js";
import {
  activeWorkout, confirmSafety, lastPlans, localHistory, safetyConfirmed, savePlans, saveActive, saveSettingsCopy, savedTimeline, savedTimelines,
} from "./store.js";
import { watchForUpdates } from "./updates.js";

/** The workout machinery's messages that reach the screen (coach.js), marked here for the string tables. */
const COACH_MESSAGES = Object.freeze([N_("The workout could not be loaded from the server.")]);
/** The cache the service worker keeps cue audio in (see sw.js). */
const AUDIO_CACHE = "retrowalk-audio";
/** Wide screens with a mouse are desktops: they show the QR code for the phone. */
const DESKTOP_QUERY = "(min-width: 960px) and (pointer: fine)";
/** How long the page waits for a workout left running before showing the picker instead. */
const REJOIN_WAIT_MS = 3000;
/** How long a message with an Undo stays on screen. */
const TOAST_MS = 8000;
/** A plan file bigger than this is not a plan (200 intervals fit in far less). */
const MAX_PLAN_FILE_BYTES = 256 * 1024;
/** What a new plan starts from: a short beginner's walk to change (lengths and speeds in mph). */
const STARTER_PLAN = {
  name: "",
  description: "",
  segments: [
    { kind: "warmup", seconds: 120, speed_mph: 2.5 },
    { kind: "reverse", seconds: 60, speed_mph: 1.5 },
    { kind: "forward", seconds: 120, speed_mph: 2.5 },
    { kind: "reverse", seconds: 60, speed_mph: 1.5 },
    { kind: "cooldown", seconds: 120, speed_mph: 2.0 },
  ],
};

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const statusLine = /** @type {HTMLElement} */ (document.getElementById("status"));
const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));
const toastBox = /** @type {HTMLElement} */ (document.getElementById("toast"));

/** What the app holds between screens. */
const app = {
  /** @type {Array<object>|null} */
  plans: null,
  /** @type {import("./coach.js").Coach|null} the workout being prepared or walked */
  coach: null,
  /** @type {{plan: object, summary: object, sessionId: string|null}|null} */
  finished: null,
  /** @type {object|null} a plan to open the editor with (a copy, an import to change) */
  draft: null,
  /** @type {{plan: object|null, problems: string[]}|null} a plan file being imported */
  incoming: null,
  /** @type {string|null} the plan the picker scrolls to (one just saved) */
  focusPlan: null,
  /** @type {{hash: string, draft: object, units: string}|null} edits left unsaved in the editor, by its address */
  unsaved: null,
  /** @type {(() => void)|null} cleanup of the current screen */
  leave: null,
  /** @type {Set<string>} history entries deleted on screen whose Undo has not run out yet */
  deleting: new Set(),
  /** Counts screen changes, so a screen that finished loading late does not draw over a newer one. */
  visit: 0,
};

/** True while the screen shown by visit `visit` is still the current one. */
const current = (visit) => visit === app.visit;

/** The routes: a hash pattern, the function that shows it, and the tab it belongs to. */
const ROUTES = [
  [/^#\/plan\/(.+)$/, (id) => showPlan(decodeURIComponent(id)), "workouts"],
  [/^#\/edit\/new$/, () => showEditor(null), "workouts"],
  [/^#\/edit\/(.+)$/, (id) => showEditor(decodeURIComponent(id)), "workouts"],
  [/^#\/copy\/(.+)$/, (id) => showCopy(decodeURIComponent(id)), "workouts"],
  [/^#share=(.+)$/, (packed) => showShared(packed), "workouts"],
  [/^#\/import$/, () => showImport(), "workouts"],
  [/^#\/workout$/, () => showPlayer(), "workouts"],
  [/^#\/summary$/, () => showSummary(), "workouts"],
  [/^#\/history$/, () => showHistory(), "history"],
  [/^#\/progress$/, () => showProgress(), "progress"],
  [/^#\/settings$/, () => showSettings(), "settings"],
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

/**
 * Go to a screen without leaving the one before in the back history (a link that was used up).
 * @param {string} hash
 */
function replaceWith(hash) {
  history.replaceState(null, "", hash);
  route();
}

let toastTimer = null;

/**
 * A short message over the tabs, with an optional action (Undo).
 * @param {string} text
 * @param {{label: string, run: () => void}} [action]
 * @param {{stay?: boolean}} [options] `stay`: shown until tapped or replaced (an offer that must not slip by)
 */
function toast(text, action, { stay = false } = {}) {
  clearTimeout(toastTimer);
  // replaceChildren would write a missing action as the text "null": only what there is goes in.
  const parts = [h("span", { text })];
  if (action) parts.push(h("button", { type: "button", class: "btn btn-small", onclick: () => { toastBox.hidden = true; action.run(); } }, action.label));
  toastBox.replaceChildren(...parts);
  toastBox.hidden = false;
  if (!stay) toastTimer = setTimeout(() => { toastBox.hidden = true; }, TOAST_MS);
}

function setStatus(text, tone = "") {
  statusLine.textContent = text;
  statusLine.dataset.tone = tone;
}

function showOnlineStatus() {
  if (navigator.onLine === false) setStatus(t("Offline"), "off");
  else setStatus("", "");
}

/** A workout running while another screen is shown: a way back to it. */
function showBanner() {
  const coach = app.coach;
  const walking = coach && (coach.state.state === "running" || coach.state.state === "paused");
  banner.hidden = !walking || location.hash === "#/workout";
  if (!banner.hidden) {
    banner.replaceChildren(
      h("span", { text: coach.state.state === "paused" ? t("{name} is paused.", { name: coach.plan.name }) : t("{name} is running.", { name: coach.plan.name }) }),
      h("a", { class: "btn btn-primary", href: "#/workout" }, t("Back to it")));
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
  let programmes = null;
  try {
    // All at once, so the picker is drawn once, with its "Works offline" marks and programme progress in place.
    [result, playable, programmes] = await Promise.all([
      loadPlans(), offlinePlayable().catch(() => new Set()), getProgrammes().catch(() => null)]);
  } catch (error) {
    if (!current(visit)) return;
    main.replaceChildren(h("div", { class: "screen-head" }, h("h1", { text: t("Pick a workout") })),
      h("p", { class: "error-box", text: `${error.message} ${t("Try again when you are connected.")}` }));
    return;
  }
  app.plans = result.plans;
  if (!current(visit)) return;
  if (result.offline) setStatus(t("Offline"), "off");
  const focusPlan = app.focusPlan;
  app.focusPlan = null;
  renderPicker(main, {
    plans: result.plans,
    programmes,
    offline: result.offline,
    playable,
    focusPlan,
    onPick: (plan) => go(`#/plan/${encodeURIComponent(plan.id)}`),
    onFollow: followProgramme,
    onEdit: (plan) => go(`#/edit/${encodeURIComponent(plan.id)}`),
    onCopy: (plan) => go(`#/copy/${encodeURIComponent(plan.id)}`),
    onNew: () => { app.draft = null; app.unsaved = null; go("#/edit/new"); },
    onImport: importFile,
  });
}

/** Follow a programme from its first session, then show it offered at the top. */
async function followProgramme(programme) {
  try {
    const followed = await startProgramme(programme.id);
    app.focusPlan = followed.progress.next_plan_id;
    route();
    announce(t("Following {name}. Next: {label}.", { name: followed.name, label: followed.progress.label }));
  } catch (error) {
    toast(error.message);
    route();
  }
}

/** Read a plan file the walker picked, then offer it to save. */
async function importFile(file) {
  const [{ planFromFile }] = await Promise.all([import("./plans.js"), loadStrings("more")]);
  app.incoming = file.size > MAX_PLAN_FILE_BYTES
    ? { plan: null, problems: [t("This file is too big to be a RetroWalk plan.")] }
    : planFromFile(await file.text());
  go("#/import");
}

async function findPlan(id, fresh = false) {
  if (!app.plans || fresh) {
    try { app.plans = (await loadPlans()).plans; } catch { app.plans = app.plans || []; }
  }
  return app.plans.find((p) => p.id === id) || savedTimeline(id)?.plan || null;
}

function missingPlan() {
  main.replaceChildren(h("p", { class: "error-box", text: t("This workout does not exist (any more).") }));
}

async function showPlan(id) {
  const visit = app.visit;
  const [plan, { renderReady, renderSafety }] = await Promise.all([findPlan(id), import("./screens/ready.js"), loadStrings("more")]);
  if (!current(visit)) return;
  if (!plan) {
    missingPlan();
    return;
  }
  if (app.coach && app.coach.state.state !== "ready" && app.coach.state.state !== "finished") {
    go("#/workout");
    return;
  }
  if (!safetyConfirmed()) {
    renderSafety(main, {
      plan,
      units: currentSettings().units,
      onConfirm: () => { confirmSafety(); showPlan(id); },
      onCancel: () => go("#/"),
    });
    return;
  }
  prepareWorkout(plan, renderReady);
}

/**
 * The workout machinery (the clock, the sound, the track): loaded with the first workout, not
 * with the page, so the picker comes up sooner (it is precached all the same).
 * @returns {Promise<typeof import("./coach.js").Coach>}
 */
const loadCoach = () => import("./coach.js").then((module) => module.Coach);

/** Remember the audio mode chosen (on the server; offline, on this phone until the next change). */
function rememberAudioMode(mode) {
  changeSettings({ audio_mode: mode }).catch(() => saveSettingsCopy({ ...currentSettings(), audio_mode: mode }));
}

/** Create the session (or fall back to this phone), fetch and decode the audio, then offer Start. */
async function prepareWorkout(plan, renderReady) {
  window.scrollTo(0, 0);
  let coach = null;
  let cancelled = false;
  const view = renderReady(main, {
    plan,
    units: currentSettings().units,
    mode: currentSettings().audio_mode,
    onMode: rememberAudioMode,
    onEdit: plan.builtin ? null : () => go(`#/edit/${encodeURIComponent(plan.id)}`),
    onCopy: () => go(`#/copy/${encodeURIComponent(plan.id)}`),
    onStart: async (mode) => {
      // Synchronously inside the tap up to its first await: the sound is unlocked in it.
      await coach.start(mode);
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
  const coachLoaded = loadCoach();
  try {
    const [session, Coach] = await Promise.all([createSession(plan.id), coachLoaded]);
    coach = new Coach({ plan: session.plan || plan, session });
  } catch (error) {
    const saved = savedTimeline(plan.id);
    if (error instanceof Unreachable && saved) {
      const Coach = await coachLoaded.catch(() => null);
      if (!Coach) {
        view.fail(t("This workout could not be loaded on this phone. Try again when you are connected."));
        return;
      }
      coach = new Coach({ plan: saved.plan, saved });
      offline = true;
    } else {
      view.fail(error instanceof Unreachable
        ? t("This workout needs a connection the first time you play it; afterwards it plays offline too.")
        : error.message);
      return;
    }
  }
  if (cancelled) { coach.dispose(); return; }
  app.coach = coach;
  coach.addEventListener("finished", (event) => {
    app.finished = { plan: coach.plan, summary: event.detail, sessionId: coach.sessionId };
    if (app.coach === coach) app.coach = null;
    go("#/summary");
  });
  try {
    const { failed, track } = await coach.prepare(view.progress);
    if (!cancelled) view.ready({ offline, failed, track });
  } catch (error) {
    // The coach's own message (coach.js) is English, the key of its translation.
    if (!cancelled) view.fail(t(error.message));
  }
}

async function showPlayer() {
  const visit = app.visit;
  const coach = app.coach;
  if (!coach || coach.state.state === "ready") {
    go("#/");
    return;
  }
  const [{ renderPlayer }] = await Promise.all([import("./screens/player.js"), loadStrings("more")]);
  if (!current(visit)) return;
  document.body.dataset.screen = "player";
  app.leave = renderPlayer(main, { coach });
}

async function showSummary() {
  const visit = app.visit;
  if (!app.finished) {
    go("#/");
    return;
  }
  const [{ renderSummary }] = await Promise.all([import("./screens/summary.js"), loadStrings("more")]);
  if (!current(visit)) return;
  showOnlineStatus();
  const { plan, summary, sessionId } = app.finished;
  const view = renderSummary(main, { plan, summary, onDone: () => go("#/"), onHistory: () => go("#/history") });
  if (summary.local || summary.unconfirmed || !sessionId) return;
  // The server's figures: calories of this walk, the week so far, and what the programme offers next.
  getSessionStats(sessionId).then((stats) => view.calories(stats), () => view.calories(null));
  getWeek().then((week) => view.week(week), () => {});
  const sessionPlan = plan.alias_of || plan.id;
  if (plan.programme || plan.alias_of) {
    getProgrammes().then((all) => {
      // What comes next only for the programme the walker follows: a Quick mix walked on its own offers nothing.
      const programme = all.programmes.find((p) => p.sessions.some((s) => s.plan_id === sessionPlan));
      view.next(programme?.following ? programme : null);
    }, () => view.next(null));
  }
}

async function showHistory() {
  const visit = app.visit;
  showOnlineStatus();
  let entries = [];
  let offline = false;
  let error = "";
  const screen = Promise.all([import("./screens/history.js"), loadStrings("more")]).then(([module]) => module);
  try {
    entries = await getHistory();
    offline = Boolean(entries.fromCache);
  } catch (failure) {
    offline = failure instanceof Unreachable;
    error = offline ? "" : failure.message;
  }
  if (!current(visit)) return;
  const all = [...entries, ...localHistory()].filter((entry) => !app.deleting.has(entry.id))
    .sort((a, b) => (b.started_at || 0) - (a.started_at || 0));
  const { renderHistory } = await screen;
  if (!current(visit)) return;
  renderHistory(main, { entries: all, offline, error, onDelete: deleteWalk });
}

/** Delete a walk from history, with an Undo: it leaves the screen at once, the server forgets it once the Undo is gone. */
function deleteWalk(entry) {
  app.deleting.add(entry.id);
  const refresh = () => { if (location.hash === "#/history") route(); };
  refresh();
  const timer = setTimeout(async () => {
    try {
      await deleteSession(entry.id);
    } catch (error) {
      toast(t("Could not delete it: {reason}", { reason: error.message }));
    }
    app.deleting.delete(entry.id);
    refresh();
  }, TOAST_MS);
  toast(t("Deleted “{name}”.", { name: entry.plan_name }), {
    label: t("Undo"),
    run: () => { clearTimeout(timer); app.deleting.delete(entry.id); refresh(); },
  });
}

/** The plan editor: a new plan (maybe from a draft), or one of the walker's own. */
async function showEditor(id) {
  const visit = app.visit;
  const [{ renderEditor }, plan] = await Promise.all([import("./screens/editor.js"), id ? findPlan(id, true) : null, loadStrings("more")]);
  if (!current(visit)) return;
  if (id && !plan) {
    missingPlan();
    return;
  }
  if (plan?.builtin) {
    replaceWith(`#/copy/${encodeURIComponent(id)}`);
    return;
  }
  const draft = id ? plan : app.draft || STARTER_PLAN;
  const copyOf = id ? null : app.draft?.copyOf;
  // Edits left unsaved on this very screen (the walker went to another tab) come back.
  const here = location.hash;
  const resume = app.unsaved?.hash === here ? app.unsaved : null;
  app.unsaved = null;
  let done = false;
  const finish = () => { done = true; app.draft = null; };
  const editor = renderEditor(main, {
    title: id ? t("Edit plan") : copyOf ? t("Copy of {name}", { name: copyOf }) : t("New plan"),
    plan: draft,
    units: currentSettings().units,
    saved: Boolean(id),
    resume,
    onSave: async (body) => {
      const saved = id ? await updatePlan(id, body) : await createPlan(body);
      finish();
      app.focusPlan = saved.id;
      toast(t("Saved “{name}”.", { name: saved.name }));
      replaceWith("#/");
    },
    onCancel: () => { finish(); go("#/"); },
    onCopy: () => { finish(); go(`#/copy/${encodeURIComponent(id)}`); },
    onDelete: async () => {
      try {
        await deletePlan(id);
      } catch (error) {
        toast(error.message);
        route();
        return;
      }
      finish();
      replaceWith("#/");
      toast(t("Deleted “{name}”.", { name: plan.name }), { label: t("Undo"), run: () => restorePlan(plan) });
    },
  });
  app.leave = () => {
    const unsaved = done ? null : editor.unsaved();
    if (unsaved) app.unsaved = { hash: here, ...unsaved };
  };
}

/** Undo a delete: the plan is saved again (under a new id). */
async function restorePlan(plan) {
  try {
    const again = await createPlan({ name: plan.name, description: plan.description || "", segments: plan.segments });
    app.focusPlan = again.id;
    if (location.hash === "#/" || !location.hash) route();
    toast(t("“{name}” is back.", { name: again.name }));
  } catch (error) {
    toast(t("Could not bring it back: {reason}", { reason: error.message }));
  }
}

/** An editable copy of any plan, built-in ones included. */
async function showCopy(id) {
  const visit = app.visit;
  // A fresh list: the copy saved a moment ago may not be in the one the picker was still loading.
  const [{ copyName }, plan] = await Promise.all([import("./plans.js"), findPlan(id, true), loadStrings("more")]);
  if (!current(visit)) return;
  if (!plan) {
    missingPlan();
    return;
  }
  // Numbered past the copies already made: a second Duplicate gives "(copy 2)", not another "(copy)".
  const taken = (app.plans || []).filter((p) => !p.builtin).map((p) => p.name);
  app.draft = { name: copyName(plan.name, taken), description: plan.description || "", segments: plan.segments, copyOf: plan.name };
  showEditor(null);
}

/** A plan shared by link (`#share=...`): checked like an import, then "Save to my plans". */
async function showShared(packed) {
  const visit = app.visit;
  const [{ decodeShare }, { renderIncoming }] = await Promise.all([import("./plans.js"), import("./screens/incoming.js"), loadStrings("more")]);
  if (!current(visit)) return;
  offerPlan(renderIncoming, decodeShare(packed), "link");
}

/** A plan file picked on the workouts screen. */
async function showImport() {
  const visit = app.visit;
  if (!app.incoming) {
    go("#/");
    return;
  }
  const [{ renderIncoming }] = await Promise.all([import("./screens/incoming.js"), loadStrings("more")]);
  if (!current(visit)) return;
  offerPlan(renderIncoming, app.incoming, "file");
}

function offerPlan(renderIncoming, { plan, problems }, source) {
  renderIncoming(main, {
    plan, problems, source, units: currentSettings().units,
    onSave: async () => {
      const saved = await createPlan(plan);
      app.incoming = null;
      app.focusPlan = saved.id;
      toast(t("Saved “{name}” to your plans.", { name: saved.name }));
      replaceWith("#/");
    },
    onEdit: () => { app.draft = plan; app.unsaved = null; app.incoming = null; replaceWith("#/edit/new"); },
    onCancel: () => { app.incoming = null; replaceWith("#/"); },
  });
}

async function showProgress() {
  const visit = app.visit;
  showOnlineStatus();
  const results = await Promise.allSettled([import("./screens/progress.js"), getWeek(), getWeeks(), loadStrings("more")]);
  if (!current(visit)) return;
  const [screen, week, weeks] = results;
  if (screen.status === "rejected") {
    main.replaceChildren(h("p", { class: "error-box", text: t("This screen could not be loaded. Try again when you are connected.") }));
    return;
  }
  const failure = [week, weeks].find((r) => r.status === "rejected")?.reason;
  screen.value.renderProgress(main, {
    week: week.value || null,
    weeks: weeks.value || null,
    offline: Boolean(week.value?.fromCache || failure instanceof Unreachable),
    error: failure && !(failure instanceof Unreachable) ? failure.message : "",
  });
}

async function showSettings() {
  const visit = app.visit;
  showOnlineStatus();
  const [{ renderSettings }, settings, programmes] = await Promise.all([
    import("./screens/settings.js"), loadSettings(), getProgrammes().catch(() => null), loadStrings("more")]);
  if (!current(visit)) return;
  const followed = programmes?.programmes.find((p) => p.id === settings.programme);
  renderSettings(main, {
    settings,
    programmeName: followed?.name || null,
    offline: navigator.onLine === false || Boolean(settings.fromCache),
    onChange: async (changes) => {
      const settings = await changeSettings(changes);
      // A new language: every screen in it from now on, this one redrawn at once in it.
      if (changes.lang && changes.lang !== language()) {
        await useLanguage(settings.lang);
        translateChrome();
        setTimeout(() => {
          route();
          toast(t("Saved: screens and voice in {language}.", { language: SETTINGS_RULES.LANGUAGES[settings.lang] || settings.lang }));
        }, 0);
      }
      return settings;
    },
  });
}

/** Back to a workout that was running when the page was closed or reloaded. */
async function rejoin() {
  const active = activeWorkout();
  if (!active?.session || navigator.onLine === false) return;
  let Coach;
  try {
    Coach = await loadCoach();
  } catch {
    return;
  }
  const coach = new Coach({ plan: active.plan, session: active.session, mode: active.mode });
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
    app.finished = { plan: coach.plan, summary: event.detail, sessionId: coach.sessionId };
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
    if (!phone.reachable) notes.push(t("This address only works on this computer: start the server with --host 0.0.0.0 to reach it from a phone."));
    if (!phone.secure) notes.push(t("Over plain http a phone can play workouts, but installing the app, keeping the screen awake and playing offline need https: serve it with a certificate (--certfile and --keyfile), or behind an https proxy or tunnel."));
    document.getElementById("phone-note").textContent = notes.join(" ");
    panel.hidden = false;
  } catch {
    panel.hidden = true;
  }
}

/** The service worker keeps the app offline; a new version of it is offered between walks. */
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then((registration) => watchForUpdates(registration, {
    walking: () => app.coach?.state.state === "running" || app.coach?.state.state === "paused",
    offer: (update) => toast(t("A new version of RetroWalk is ready."), { label: t("Reload to update"), run: update }, { stay: true }),
  }), (error) => {
    // Plain http on a LAN address: no service worker, the app still works online.
    console.info("No offline support here:", error.message);
  });
}

/** The page's own words (tabs, links, the desktop panel) in the walker's language. */
function translateChrome() {
  const texts = {
    ".skip-link": t("Skip to content"),
    '.tabs [data-tab="workouts"] span': t("Workouts"),
    '.tabs [data-tab="progress"] span': t("Progress"),
    '.tabs [data-tab="history"] span': t("History"),
    '.tabs [data-tab="settings"] span': t("Settings"),
    "#phone-title": t("Take it to the gym"),
    "#phone-title + p": t("Scan this with your phone's camera to open RetroWalk there, then add it to your home screen."),
  };
  for (const [selector, text] of Object.entries(texts)) {
    const element = document.querySelector(selector);
    if (element) element.textContent = text;
  }
  document.querySelector(".brand")?.setAttribute("aria-label", t("RetroWalk, back to workouts"));
  document.querySelector(".tabs")?.setAttribute("aria-label", t("Sections"));
  document.getElementById("phone-qr")?.setAttribute("alt", t("QR code of the address to open on your phone"));
  document.title = t("RetroWalk — backward walking coach");
}

/** The screens in the language last chosen on this phone, then in the one the server has (another phone may have changed it). */
async function startInLanguage() {
  await useLanguage(currentSettings().lang);
  translateChrome();
  loadSettings().then(async (settings) => {
    if (settings.lang === language()) return;
    await useLanguage(settings.lang);
    translateChrome();
    route();
  }, () => {});
}

window.addEventListener("hashchange", route);
window.addEventListener("online", showOnlineStatus);
window.addEventListener("offline", showOnlineStatus);
registerServiceWorker();
// Walks played without the server go to it now, and whenever it is reachable again.
uploadWhenReachable();
// Screens that show them are drawn again with the walks just counted.
window.addEventListener(WALKS_UPLOADED, () => { if (["#/history", "#/progress"].includes(location.hash)) route(); });
showPhonePanel();
// Fresh settings (units and language for the screens) and, once, the phone's time zone for the weekly stats.
const languageReady = startInLanguage();
// A workout left running (a reload, the phone closed the page) is rejoined before any screen.
Promise.all([rejoin(), languageReady]).finally(route);
