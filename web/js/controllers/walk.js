// A walk from start to end: get ready (the safety check, the session or this phone's saved
// timeline, the audio), the player, the summary, and a walk rejoined after a reload. The walk
// machinery (coach.js: the clock, the sound, the track) loads with the first walk, not with
// the page, so the picker comes up sooner (it is precached all the same).

import { Unreachable, createSession, getProgrammes, getSessionStats, getWeek } from "../api.js";
import { showOnlineStatus } from "../chrome.js";
import { N_, loadStrings, t } from "../i18n.js";
import { currentVisit, go, isCurrent, replaceWith, route } from "../router.js";
import { changeSettings, currentSettings } from "../settings.js";
import { activeWorkout, saveActive, saveProgrammes, saveSettingsCopy } from "../store.js";
import { confirmSafety, finishedWalkOfTab, keepFinishedWalk, safetyConfirmed, savedTimeline } from "../walkstore.js";
import { app } from "./held.js";
import { findPlan, missingPlan } from "./planlist.js";

/** The walk machinery's messages that reach the screen (coach.js), marked here for the string tables. */
const COACH_MESSAGES = Object.freeze([N_("The workout could not be loaded from the server.")]);
/** How long the page waits for a walk left running before showing the picker instead. */
const REJOIN_WAIT_MS = 3000;
/** A walk that ended longer ago than this is not what the app opens at (History has it). */
const RECENT_END_MS = 6 * 60 * 60 * 1000;
/** The addresses a page left during a walk opens at: the walk's summary may take their place. */
const WALK_ADDRESSES = new Set(["", "#", "#/", "#/workout", "#/summary"]);

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/**
 * The walk machinery, loaded with the first walk.
 * @returns {Promise<typeof import("../coach.js").Coach>}
 */
const loadCoach = () => import("../coach.js").then((module) => module.Coach);

/** When the walk ends (or is stopped), its summary is shown. */
function summariseWhenFinished(coach) {
  coach.addEventListener("finished", (event) => {
    keepFinishedWalk({ plan: coach.plan, summary: event.detail, sessionId: coach.sessionId });
    if (app.coach === coach) app.coach = null;
    go("#/summary");
  });
}

/**
 * Get ready to walk a plan: the safety check once, then the session and its audio, then Start.
 * @param {object} _params
 * @param {string} id the plan's id
 * @returns {Promise<import("../router.js").Screen|void>}
 */
export async function showPlan(_params, id) {
  const visit = currentVisit();
  const [plan, { renderReady, renderSafety }] = await Promise.all([findPlan(id), import("../screens/ready.js"), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  if (!plan) {
    missingPlan(main);
    return;
  }
  if (app.coach && app.coach.state.state !== "ready" && app.coach.state.state !== "finished") {
    // In place of this address, so Back from the player does not land here and bounce back to it.
    replaceWith("#/workout");
    return;
  }
  if (!safetyConfirmed()) {
    renderSafety(main, {
      plan,
      units: currentSettings().units,
      onConfirm: () => { confirmSafety(); route(); },
      onCancel: () => go("#/"),
    });
    return;
  }
  return prepareWorkout(plan, renderReady);
}

/** Remember the audio mode chosen (on the server; offline, on this phone until the next change). */
function rememberAudioMode(mode) {
  changeSettings({ audio_mode: mode }).catch(() => saveSettingsCopy({ ...currentSettings(), audio_mode: mode }));
}

/**
 * Create the session (or fall back to this phone), fetch and decode the audio, then offer Start.
 * @returns {import("../router.js").Screen} leaving before Start lets the prepared walk go
 */
function prepareWorkout(plan, renderReady) {
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
  if (app.coach?.state.state === "finished") app.coach.dispose();
  const prepare = async () => {
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
    summariseWhenFinished(coach);
    try {
      const { failed, track } = await coach.prepare(view.progress);
      if (!cancelled) view.ready({ offline, failed, track });
    } catch (error) {
      // The coach's own message (coach.js) is English, the key of its translation.
      if (!cancelled) view.fail(t(error.message));
    }
  };
  prepare();
  return {
    leave: () => {
      cancelled = true;
      if (coach && coach.state.state === "ready") {
        coach.dispose();
        if (app.coach === coach) app.coach = null;
      }
    },
  };
}

/**
 * The walk under way.
 * @returns {Promise<import("../router.js").Screen|void>}
 */
export async function showPlayer() {
  const visit = currentVisit();
  const coach = app.coach;
  if (!coach || coach.state.state === "ready") {
    // In place of this address (Back after a walk lands here): a pushed "#/" would bring Back here again, and so on.
    replaceWith("#/");
    return;
  }
  const [{ renderPlayer }] = await Promise.all([import("../screens/player.js"), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  document.body.dataset.screen = "player";
  return { leave: renderPlayer(main, { coach }) };
}

/** The walk just ended: its figures, then the server's (calories, the week, what comes next). */
export async function showSummary() {
  const visit = currentVisit();
  const finished = finishedWalkOfTab();
  if (!finished) {
    // In place of this address (no walk has ended in this tab), so Back does not bounce here.
    replaceWith("#/");
    return;
  }
  const [{ renderSummary }] = await Promise.all([import("../screens/summary.js"), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  showOnlineStatus();
  const { plan, summary, sessionId } = finished;
  const view = renderSummary(main, { plan, summary, onDone: () => go("#/"), onHistory: () => go("#/history") });
  if (summary.local || summary.unconfirmed || !sessionId) return;
  getSessionStats(sessionId).then((stats) => view.calories(stats), () => view.calories(null));
  getWeek().then((week) => view.week(week), () => {});
  const sessionPlan = plan.alias_of || plan.id;
  if (plan.programme || plan.alias_of) {
    getProgrammes().then((all) => {
      // The picker's next first draw shows the progress just made.
      saveProgrammes(all);
      // What comes next only for the programme the walker follows: a Quick mix walked on its own offers nothing.
      const programme = all.programmes.find((p) => p.workouts.some((w) => w.plan_id === sessionPlan));
      view.next(programme?.following ? programme : null);
    }, () => view.next(null));
  }
}

/**
 * Back to a walk that was running when the page was closed or reloaded: on success the
 * address becomes the player's, so the first screen shown is the walk (its summary, when it
 * ended meanwhile).
 */
export async function rejoin() {
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
    const ended = (coach.helloEndedAgoMs ?? 0) <= RECENT_END_MS ? coach.helloSummary : null;
    coach.dispose();
    saveActive(null);
    // It ended lately while the page was gone (closed, or discarded by the phone): its summary is the
    // first screen, unless the page was opened at a link of its own (a shared plan, an import).
    if (ended) {
      keepFinishedWalk({ plan: active.plan, summary: ended, sessionId: coach.sessionId });
      if (WALK_ADDRESSES.has(location.hash)) history.replaceState(null, "", "#/summary");
    }
    return;
  }
  app.coach = coach;
  summariseWhenFinished(coach);
  history.replaceState(null, "", "#/workout");
}

