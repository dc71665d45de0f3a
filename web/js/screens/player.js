// The player: the phase in huge letters on its own colour, the interval's countdown, what
// comes next, overall progress, and big Pause / Resume / Skip / Stop buttons for one thumb.
// In screen-on mode a running walk is behind the pocket lock: a black screen that ignores
// touches until a press and hold.

import { announce, fill, h, svg } from "../dom.js";
import { clockParts, clockText, durationWords } from "../figures.js";
import { N_, number, t } from "../i18n.js";
import { position } from "../walkclock.js";
import { kindInfo, speedText } from "../workout.js";

/** A second tap on Stop within this time really stops (a stray tap while walking does not). */
const STOP_CONFIRM_MS = 3000;
/** How long the pocket lock must be held to unlock: longer than any brush of a pocket or armband. */
export const UNLOCK_HOLD_MS = 1000;
/** With no touch or key this long after unlocking, a running walk locks again. */
const RELOCK_AFTER_MS = 15_000;
/** Keys that press the unlock button from a keyboard (held, like a finger). */
const HOLD_KEYS = new Set([" ", "Enter"]);

/**
 * The pocket lock: a black screen over the player that ignores every touch but a press and
 * hold of its one button (pointer, or Space or Enter held), said in words on it.
 * @param {{onUnlock: () => void}} props
 * @returns {{element: HTMLElement, show: () => void, hide: () => void, shown: () => boolean,
 *   update: (phase: string, clock: string) => void}}
 */
function pocketLock({ onUnlock }) {
  const phase = h("p", { class: "lock-phase", id: "lock-title", text: "" });
  const clock = h("p", { class: "lock-clock", "aria-hidden": "true", text: "" });
  const ring = svg({ viewBox: "0 0 100 100", "aria-hidden": "true" }, [["circle", { cx: "50", cy: "50", r: "48", pathLength: "100" }]]);
  const hold = h("button", {
    type: "button", class: "lock-hold", id: "unlock",
    "aria-label": t("Hold to unlock: press and hold for one second"), "aria-describedby": "lock-note",
  }, ring, t("Hold to unlock"));
  hold.style.setProperty("--hold-ms", `${UNLOCK_HOLD_MS}ms`);
  const note = h("p", { class: "lock-note", id: "lock-note",
    text: t("Locked against touches while you walk. Press and hold the circle for 1 second to use the buttons (or hold Space or Enter).") });
  const element = h("div", { class: "pocket-lock", role: "dialog", "aria-modal": "true", "aria-labelledby": "lock-title", hidden: true },
    phase, clock, hold, note);
  let timer = null;
  const release = () => {
    clearTimeout(timer);
    timer = null;
    hold.classList.remove("holding");
  };
  const press = () => {
    if (timer) return;
    hold.classList.add("holding");
    timer = setTimeout(() => { release(); onUnlock(); }, UNLOCK_HOLD_MS);
  };
  // Every touch on the lock stops here: nothing under it is reached, nothing scrolls or zooms.
  element.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    if (/** @type {Element} */ (event.target).closest(".lock-hold")) {
      hold.setPointerCapture?.(event.pointerId);
      press();
    }
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) hold.addEventListener(type, release);
  element.addEventListener("click", (event) => { event.preventDefault(); event.stopPropagation(); });
  element.addEventListener("contextmenu", (event) => event.preventDefault());
  hold.addEventListener("keydown", (event) => {
    if (!HOLD_KEYS.has(event.key)) return;
    event.preventDefault();
    if (!event.repeat) press();
  });
  hold.addEventListener("keyup", (event) => { if (HOLD_KEYS.has(event.key)) release(); });
  hold.addEventListener("blur", release);
  return {
    element,
    show() {
      element.hidden = false;
      hold.focus({ preventScroll: true });
    },
    hide() {
      release();
      element.hidden = true;
    },
    shown: () => !element.hidden,
    update(phaseText, clockValue) {
      phase.textContent = phaseText;
      clock.textContent = clockValue;
    },
  };
}

const STATUS_TEXT = {
  connecting: N_("Connecting…"),
  live: N_("Live"),
  reconnecting: N_("Reconnecting… cues go on"),
  local: N_("Playing on this phone"),
};

const ARROWS = {
  up: [["path", { d: "M28 46V10M14 24 28 10l14 14" }]],
  down: [["path", { d: "M28 10v36M14 32l14 14 14-14" }]],
  none: [["path", { d: "M14 28h28" }]],
};

function icon(name) {
  const paths = {
    pause: "M7 5h4v14H7zM13 5h4v14h-4z",
    play: "M8 5v14l11-7z",
    skip: "M6 5v14l9-7zM16 5h3v14h-3z",
    stop: "M6 6h12v12H6z",
    lock: "M7 10V8a5 5 0 0 1 10 0v2h1v10H6V10zm2 0h6V8a3 3 0 0 0-6 0z",
  };
  return svg({ viewBox: "0 0 24 24" }, [["path", { d: paths[name] }]]);
}

/**
 * Render the player for a coach; returns a function that detaches it.
 * @param {HTMLElement} root
 * @param {{coach: import("../coach.js").Coach}} props
 * @returns {() => void}
 */
export function renderPlayer(root, { coach }) {
  const plan = coach.plan;
  // The units the voice was compiled in, so what is shown matches what is said.
  const units = coach.units;
  const phase = h("section", { class: "phase", "aria-label": t("Current interval") });
  const where = h("span", { text: plan.name });
  const top = h("div", { class: "phase-top" }, where, h("span", { text: "" }));
  const arrowHolder = h("div", { "aria-hidden": "true" });
  const name = h("h1", { class: "phase-name", text: "" });
  const clock = h("p", { class: "phase-clock", role: "timer", "aria-live": "off", text: "0:00" });
  const hint = h("p", { class: "phase-hint", text: "" });
  const paused = h("p", { class: "phase-paused", text: "" });
  phase.append(top, arrowHolder, name, clock, hint, paused);

  const nextSwatch = h("i", {});
  const nextName = h("b", { text: "" });
  const nextLen = h("span", { class: "len", text: "" });
  const next = h("div", { class: "next" }, nextSwatch, h("div", {}, h("small", { text: t("Next") }), h("div", {}, nextName)), nextLen);

  const barBack = h("div", { class: "overall-bar", "aria-hidden": "true" });
  const barFill = h("div", { class: "overall-fill" });
  for (const segment of plan.segments) {
    barBack.append(h("span", { class: `k-${segment.kind}`, style: { flexGrow: String(segment.seconds) } }));
    barFill.append(h("span", { class: `k-${segment.kind}`, style: { flexGrow: String(segment.seconds) } }));
  }
  barBack.append(barFill);
  const elapsedLabel = h("span", { text: "" });
  const remainingLabel = h("span", { text: "" });
  const overall = h("div", { class: "overall", role: "group", "aria-label": t("Whole workout") },
    barBack, h("div", { class: "overall-label" }, elapsedLabel, remainingLabel));

  const mainButton = h("button", { type: "button", class: "btn btn-primary btn-main", onclick: () => {
    if (coach.state.state === "paused") coach.resume(); else coach.pause();
  } });
  let stopArmed = null;
  const stopButton = h("button", { type: "button", class: "btn btn-danger", onclick: () => {
    if (stopArmed) {
      clearTimeout(stopArmed);
      stopArmed = null;
      coach.stop();
      return;
    }
    stopButton.replaceChildren(icon("stop"), t("Tap again"));
    stopArmed = setTimeout(() => { stopArmed = null; stopButton.replaceChildren(icon("stop"), t("Stop")); }, STOP_CONFIRM_MS);
  } }, icon("stop"), t("Stop"));
  const skipButton = h("button", { type: "button", class: "btn btn-secondary", onclick: () => coach.skip() }, icon("skip"), t("Skip"));
  // Screen-on mode: the screen stays on in a pocket, so the walk is behind a lock against touches.
  const lockable = coach.mode === "screen";
  const lockButton = lockable
    ? h("button", { type: "button", class: "btn btn-secondary btn-lock", id: "lock", onclick: () => lockNow() }, icon("lock"), t("Lock screen"))
    : null;
  const controls = h("div", { class: "controls", role: "group", "aria-label": t("Workout controls") }, mainButton, skipButton, stopButton, lockButton);

  const body = h("div", { class: "player-body" }, next, overall);
  const gate = h("div", { class: "sound-gate", hidden: true, role: "dialog", "aria-modal": "true", "aria-labelledby": "gate-title" },
    h("div", {},
      h("h2", { id: "gate-title", text: t("Turn the coach’s voice back on") }),
      h("p", { class: "note", text: t("Your phone paused the sound. One tap brings it back; the workout clock kept running.") }),
      h("button", { type: "button", class: "btn btn-primary btn-huge", onclick: async () => {
        await coach.unlockSound();
        gate.hidden = !(!coach.soundOn && coach.state.state !== "finished");
        if (gate.hidden) {
          mainButton.focus();
          // Screen-on mode: the lock comes back once the walker leaves the screen alone.
          armRelock();
        }
      } }, t("Tap for sound"))));

  const playerView = h("div", { class: "player" }, phase, body, controls, gate);
  let relockTimer = null;
  const lock = pocketLock({
    onUnlock: () => {
      unlockNow();
      mainButton.focus();
      announce(t("Unlocked. The screen locks again after {n} seconds without a touch.", { n: RELOCK_AFTER_MS / 1000 }));
    },
  });
  /** Put the walk behind the lock: the player cannot be reached by touch, keyboard or screen reader. */
  const lockNow = () => {
    if (!lockable || lock.shown()) return;
    clearTimeout(relockTimer);
    playerView.inert = true;
    lock.show();
    render();
  };
  const unlockNow = () => {
    lock.hide();
    playerView.inert = false;
    armRelock();
  };
  /** After unlocking, a running walk locks itself again once the walker stops touching it. */
  const armRelock = () => {
    clearTimeout(relockTimer);
    if (!lockable) return;
    relockTimer = setTimeout(() => { if (coach.state.state === "running") lockNow(); else armRelock(); }, RELOCK_AFTER_MS);
  };
  const onActivity = () => { if (!lock.shown() && relockTimer) armRelock(); };
  playerView.addEventListener("pointerdown", onActivity);
  playerView.addEventListener("keydown", onActivity);

  fill(root, playerView, lockable ? lock.element : null);

  let shown = { kind: null, main: null, nextKey: null };
  const render = () => {
    const state = coach.state.state;
    const pos = position(plan.segments, coach.elapsedMs());
    const segment = pos.segment;
    const info = kindInfo(segment.kind);
    if (shown.kind !== segment.kind || shown.index !== pos.index) {
      phase.dataset.kind = segment.kind;
      name.textContent = info.word;
      // The phase word fills the width whatever its length ("REST", "CALENTAMIENTO"): screens.css sizes it by its
      // longest word, and a phrase ("RETOUR AU CALME") breaks between words.
      name.style.setProperty("--chars", String(Math.max(...info.word.split(/\s+/).map((word) => word.length), 4)));
      arrowHolder.replaceChildren(svg({ viewBox: "0 0 56 56", class: "phase-arrow" }, ARROWS[info.arrow]));
      hint.textContent = segment.speed_mph ? t("at {speed}", { speed: speedText(segment.speed_mph, units) }) : segment.kind === "rest" ? t("hold the rail, breathe") : "";
      where.textContent = `${t("{done} of {total}", { done: number(pos.index + 1), total: number(plan.segments.length) })} · ${plan.name}`;
      shown.kind = segment.kind;
      shown.index = pos.index;
    }
    const starting = coach.positionMs() < 0 && state === "running";
    clock.textContent = clockText(starting ? segment.seconds * 1000 : pos.segmentRemainingMs);
    clock.setAttribute("aria-label", t("{time} left in this interval", { time: durationWords(pos.segmentRemainingMs) }));
    // A track that failed mid-walk: the cues go on as clips, which need the screen on.
    const status = [STATUS_TEXT[coach.status] ? t(STATUS_TEXT[coach.status]) : "", coach.trackLost ? t("Track lost: keep the screen on for cues") : ""];
    top.lastChild.textContent = status.filter(Boolean).join(" · ");
    top.dataset.status = coach.status;
    paused.textContent = state === "paused" ? t("PAUSED") : starting ? t("GET READY") : "";
    const nextKey = pos.next ? `${pos.index}` : "end";
    if (shown.nextKey !== nextKey) {
      if (pos.next) {
        const nextInfo = kindInfo(pos.next.kind);
        nextSwatch.className = `k-${pos.next.kind}`;
        nextName.textContent = `${nextInfo.label}${pos.next.speed_mph ? ` · ${speedText(pos.next.speed_mph, units)}` : ""}`;
        nextLen.textContent = clockText(pos.next.seconds * 1000);
      } else {
        nextSwatch.className = "k-cooldown";
        nextName.textContent = t("Finish");
        nextLen.textContent = "";
      }
      shown.nextKey = nextKey;
    }
    barFill.style.clipPath = `inset(0 ${(100 - pos.fraction * 100).toFixed(2)}% 0 0)`;
    if (lock.shown()) lock.update(`${t("Locked")} · ${info.word}${state === "paused" ? ` · ${t("paused")}` : ""}`, clock.textContent);
    // Whole seconds that add up to the plan's length (clockParts), not each rounded on its own.
    const overallClock = clockParts(pos.elapsedMs, pos.totalMs);
    elapsedLabel.textContent = t("{time} done", { time: clockText(overallClock.done * 1000) });
    remainingLabel.textContent = t("{time} to go", { time: clockText(overallClock.toGo * 1000) });
    if (shown.main !== state) {
      const isPaused = state === "paused";
      mainButton.replaceChildren(icon(isPaused ? "play" : "pause"), isPaused ? t("Resume") : t("Pause"));
      mainButton.className = `btn btn-main ${isPaused ? "btn-primary" : "btn-secondary"}`;
      mainButton.disabled = state === "finished";
      skipButton.disabled = state === "finished";
      shown.main = state;
    }
  };
  const onPhase = (event) => {
    const pos = event.detail;
    const info = kindInfo(pos.segment.kind);
    announce(`${info.label}, ${durationWords(pos.segment.seconds * 1000)}${pos.segment.speed_mph ? `, ${speedText(pos.segment.speed_mph, units)}` : ""}.`);
  };
  const onNeedsTap = () => {
    // The tap for sound must be reachable: the lock steps aside for it (a stray touch only turns sound on).
    if (lock.shown()) unlockNow();
    gate.hidden = false;
    gate.querySelector("button").focus();
  };
  coach.addEventListener("update", render);
  coach.addEventListener("phase", onPhase);
  coach.addEventListener("needs-tap", onNeedsTap);
  render();
  if (!coach.soundOn && coach.state.state !== "finished" && coach.state.state !== "ready") onNeedsTap();
  else if (lockable && coach.state.state === "running") lockNow();
  else mainButton.focus();
  return () => {
    clearTimeout(relockTimer);
    coach.removeEventListener("update", render);
    coach.removeEventListener("phase", onPhase);
    coach.removeEventListener("needs-tap", onNeedsTap);
    clearTimeout(stopArmed);
  };
}
