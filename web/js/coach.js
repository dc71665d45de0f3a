// One workout from "prepare" to "finished": the session clock (server or local), the cue
// audio, the screen kept on, the lock-screen controls. Screens listen to its events.

import { CuePlayer } from "./audio.js";
import { LiveConnection, LocalSession } from "./live.js";
import { COMPLETE_VIBRATION, SWITCH_VIBRATION, ScreenKeeper, setMediaState, showMediaSession, vibrate } from "./phone.js";
import { addLocalHistory, saveActive, saveTimeline } from "./store.js";
import { closeWalkLog, keepTrack, recordWalkEvent, rememberServerClock } from "./offline.js";
import { kindInfo, position, segmentIndex, segmentStarts, summarize, totals } from "./workout.js";
import { clockText } from "./dom.js";

/** Cues due within this window are handed to the audio clock (so a throttled page still speaks). */
export const HORIZON_MS = 90_000;
/** How often the coach looks at the clocks (screen, scheduling, drift). */
const TICK_MS = 200;
/** Round trips wanted before Start is offered, and how long to wait for them at most. */
const SYNC_SAMPLES = 3;
const SYNC_WAIT_MS = 3000;
/** How long to wait for the server's greeting before giving up on preparing. */
const HELLO_WAIT_MS = 10_000;
/** After the last cue, the context stays open this long so "workout complete" is heard. */
const CLOSE_AFTER_MS = 5000;
/** Error codes of a control the server refused (server/live.py): the phone's guess was wrong. */
const REFUSED_CONTROLS = new Set(["segment_ending", "not_running", "not_paused", "not_started", "already_started"]);
/** With no word from the server, the phone ends the workout itself this long after its end. */
const LOCAL_FINISH_GRACE_MS = 3000;

/**
 * A hello or state message in the phone's terms (hello keeps the clock in `session`).
 * @param {object} msg
 * @returns {{state: string, started_at: number|null, paused_at: number|null, shift_ms: number,
 *   skipped_segments: number[], ended_by?: string}}
 */
export function normalizeState(msg) {
  const clock = msg.type === "hello" ? { ...(msg.session || {}) } : msg;
  return {
    state: typeof msg.state === "string" ? msg.state : clock.state || "ready",
    started_at: clock.started_at ?? null,
    paused_at: clock.paused_at ?? null,
    shift_ms: clock.shift_ms ?? 0,
    skipped_segments: clock.skipped_segments || [],
    ended_by: clock.ended_by ?? (msg.type === "state" && msg.state === "finished" ? msg.event : undefined),
  };
}

/**
 * A workout being coached. Events: "update" (every tick), "phase" (a new segment),
 * "finished" (detail: summary), "needs-tap" (sound must be unlocked again), "error".
 */
export class Coach extends EventTarget {
  /**
   * @param {{plan: object, session?: {id: string, ws: string, timeline?: Array<object>}, saved?: {plan: object, timeline: Array<object>}}} options
   *   a server session, or a remembered timeline to play without the server
   */
  constructor({ plan, session, saved }) {
    super();
    this.plan = plan;
    this.local = !session;
    this.sessionId = session ? session.id : null;
    this.timeline = session?.timeline || saved?.timeline || [];
    this.totalMs = segmentStarts(plan.segments).at(-1);
    this.localSkips = [];
    this.state = { state: "ready", started_at: null, paused_at: null, shift_ms: 0, skipped_segments: [] };
    this.starts = segmentStarts(plan.segments);
    this.leadMs = session?.lead_ms ?? 0;
    /** The cue options the server compiled the voice with (units, language), when known. */
    this.options = session?.options ?? saved?.options ?? null;
    this.status = "connecting";
    this.dueOverride = new Map();
    this.floorMs = 0;
    this.lastIndex = -1;
    this.summary = null;
    this.player = new CuePlayer();
    this.keeper = new ScreenKeeper();
    const handlers = { onMessage: (msg) => this.onMessage(msg), onStatus: (status) => this.setStatus(status) };
    this.source = session ? new LiveConnection(session.ws, handlers) : new LocalSession(saved, handlers);
    this.greeted = new Promise((resolve) => { this.resolveHello = resolve; });
    this.onVisible = () => { if (document.visibilityState === "visible") this.wake(); };
    document.addEventListener("visibilitychange", this.onVisible);
    this.onOnline = () => this.source.nudge();
    window.addEventListener("online", this.onOnline);
  }

  /** The clock the session runs on (server time estimate, or the phone's own). */
  get clock() {
    return this.source.clock;
  }

  /**
   * Connect, fetch and decode every cue file, and measure the clock.
   * @param {(done: number, total: number) => void} onProgress
   * @returns {Promise<{failed: number}>}
   */
  async prepare(onProgress) {
    this.source.connect();
    const hello = await Promise.race([
      this.greeted,
      new Promise((resolve) => setTimeout(() => resolve(null), HELLO_WAIT_MS)),
    ]);
    if (!hello && !this.timeline.length) throw new Error("The workout could not be loaded from the server.");
    const result = await this.player.preload(this.timeline.map((cue) => cue.audio), onProgress);
    if (!this.local) {
      const deadline = performance.now() + SYNC_WAIT_MS;
      while (this.clock.samples.length < SYNC_SAMPLES && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      saveTimeline(this.plan, this.timeline, this.options);
      rememberServerClock(this.clock);
    }
    return result;
  }

  /**
   * Start the workout: call from the Start tap (it unlocks the sound).
   * @returns {Promise<void>}
   */
  async start() {
    const unlocked = this.player.unlock();
    // Shown at once; the server's own start time replaces this guess when its state arrives.
    this.applyState({ ...this.state, state: "running", started_at: this.clock.serverNow() + this.leadMs }, false);
    this.source.send("start");
    this.startTicking();
    this.keeper.keepOn();
    if (!this.local) saveActive({ session: { id: this.sessionId, ws: this.source.url.pathname }, plan: this.plan });
    await unlocked;
  }

  /**
   * Come back to a workout already running on the server (after a reload): connect and follow it.
   * The sound needs a tap (`unlockSound`).
   */
  async rejoin() {
    this.source.connect();
    await this.greeted;
    this.startTicking();
    // The files come from the service worker's cache; cues are scheduled as they decode.
    this.player.preload(this.timeline.map((cue) => cue.audio)).catch(() => {});
    if (this.state.state === "running" || this.state.state === "paused") this.keeper.keepOn();
  }

  /** Turn the sound on again from a tap (after a reload or an interruption). */
  async unlockSound() {
    await this.player.unlock();
    this.needsTap = !this.player.running;
    this.reschedule();
  }

  startTicking() {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  /** Pause now: the cues stop at once, the server is told. */
  pause() {
    if (this.state.state !== "running") return;
    this.player.cancelPending();
    this.applyState({ ...this.state, state: "paused", paused_at: this.clock.serverNow() }, false);
    this.source.send("pause");
  }

  /** Resume: the remaining cues move later by the time paused. */
  resume() {
    if (this.state.state !== "paused") return;
    // A tap: also the moment to get sound back if the phone took it away.
    if (!this.player.running) this.player.unlock();
    const now = this.clock.serverNow();
    this.applyState({ ...this.state, state: "running", shift_ms: this.state.shift_ms + (now - this.state.paused_at), paused_at: null }, false);
    this.source.send("resume");
  }

  /** Skip to the next segment (it starts one lead from now, as the server does it). */
  skip() {
    if (this.state.state !== "running" && this.state.state !== "paused") return;
    const position = this.positionMs();
    const segment = segmentIndex(this.starts, position);
    const toMs = this.starts[segment + 1] - this.leadMs;
    if (toMs <= position) return;
    this.player.cancelPending();
    this.localSkips.push({ segment, from_ms: position, to_ms: toMs });
    this.applyState({
      ...this.state,
      shift_ms: this.state.shift_ms - (toMs - position),
      skipped_segments: [...new Set([...this.state.skipped_segments, segment])],
    }, false);
    this.source.send("skip");
  }

  /** Stop the workout early. */
  stop() {
    if (this.state.state === "finished") return;
    this.player.cancelPending();
    this.source.send("stop");
    if (this.local) return;
    // The server answers with its summary; if it cannot be reached the phone ends it itself.
    setTimeout(() => { if (!this.summary) this.finishLocally("stopped"); }, this.source.live ? 4000 : 0);
  }

  setStatus(status) {
    this.status = status;
    this.emit("update");
  }

  onMessage(msg) {
    switch (msg.type) {
      case "hello":
        if (Array.isArray(msg.timeline) && msg.timeline.length) this.timeline = msg.timeline;
        if (typeof msg.lead_ms === "number") this.leadMs = msg.lead_ms;
        if (msg.session?.options) this.options = msg.session.options;
        keepTrack(msg.track);
        this.applyState(normalizeState(msg), true);
        this.resolveHello(msg);
        break;
      case "state":
        // A walk played without the server keeps its event log, uploaded when the server is back.
        if (this.local) recordWalkEvent(this.source.id, { plan: this.plan, options: this.options, timeline: this.timeline, leadMs: this.leadMs }, msg);
        this.applyState(normalizeState(msg), true);
        break;
      case "cue":
        if (typeof msg.due === "number") {
          this.dueOverride.set(msg.seq, msg.due);
          const cue = this.timeline.find((c) => c.seq === msg.seq) || msg;
          if (this.state.state === "running") this.player.schedule(cue, this.clock.toLocal(msg.due));
        }
        break;
      case "finished":
        this.finish(msg.summary || {});
        break;
      case "error":
        console.warn("Server says:", msg.message);
        // A control the server refused (the phone guessed its effect already): take the
        // server's clock again by reconnecting, whose hello carries it.
        if (REFUSED_CONTROLS.has(msg.error)) this.source.resync?.();
        this.emit("error", msg);
        break;
      default:
        break;
    }
  }

  /**
   * Take a new state (from the server, or applied at once on a tap) and reschedule.
   * @param {object} next
   * @param {boolean} fromServer
   */
  applyState(next, fromServer) {
    this.state = next;
    if (fromServer) this.dueOverride.clear();
    // After a skip no cue before the start of the segment skipped to is said (server: floor_ms).
    const lastSkipped = Math.max(-1, ...next.skipped_segments);
    this.floorMs = lastSkipped >= 0 ? this.starts[Math.min(lastSkipped + 1, this.starts.length - 1)] : 0;
    if (next.state === "running") {
      this.reschedule();
      setMediaState("playing");
    } else {
      this.player.cancelPending();
      if (next.state === "paused") setMediaState("paused");
    }
    if (next.state === "finished" && fromServer && !this.summary) {
      // The summary follows in a `finished` message; until then the screen shows the end.
      this.finishTimer ??= setTimeout(() => { if (!this.summary) this.finishLocally(next.ended_by || "complete"); }, 2000);
    }
    this.emit("update");
  }

  /** How far into the plan the walker is (negative during the lead before the start), by the session clock. */
  positionMs(at = this.clock.serverNow()) {
    const s = this.state;
    if (!s.started_at) return 0;
    const until = s.paused_at !== null && s.paused_at !== undefined ? s.paused_at : at;
    return until - s.started_at - s.shift_ms;
  }

  /** Workout time into the plan, clamped to the plan (what the screen shows). */
  elapsedMs(at) {
    if (this.state.state === "finished" && this.summary) return this.totalMs;
    return Math.max(0, Math.min(this.totalMs, this.positionMs(at)));
  }

  /**
   * The server-clock time at which a cue is due.
   * @param {{seq: number, offset_ms: number}} cue
   */
  dueOf(cue) {
    return this.dueOverride.get(cue.seq) ?? this.state.started_at + this.state.shift_ms + cue.offset_ms;
  }

  /** Hand every cue due soon to the audio clock (already scheduled ones move only if off). */
  reschedule() {
    if (this.state.state !== "running" || !this.state.started_at) return;
    this.player.markStarted();
    const now = this.clock.serverNow();
    for (const cue of this.timeline) {
      if (cue.offset_ms < this.floorMs) {
        this.player.done.add(cue.seq);
        continue;
      }
      const due = this.dueOf(cue);
      if (due - now > HORIZON_MS) continue;
      this.player.schedule(cue, this.clock.toLocal(due));
    }
  }

  tick() {
    const running = this.state.state === "running";
    if (running) {
      const ctx = this.player.ctx;
      // A call, Siri or another app took the sound (iOS "interrupted", a suspended or frozen
      // context): try to get it back once; if that needs a tap, the player asks for one.
      if (ctx && !this.recovering && !this.needsTap && (ctx.state !== "running" || this.player.isFrozen())) {
        this.recovering = true;
        this.wake().finally(() => { this.recovering = false; });
      }
      this.reschedule();
      if (this.elapsedMs() >= this.totalMs && !this.source.live && !this.summary) {
        this.endedAt ??= performance.now();
        if (performance.now() - this.endedAt > LOCAL_FINISH_GRACE_MS) this.finishLocally("complete");
      }
    }
    const pos = position(this.plan.segments, this.elapsedMs());
    if (pos.index !== this.lastIndex && this.state.state !== "ready") {
      const first = this.lastIndex === -1;
      this.lastIndex = pos.index;
      if (running && !first) vibrate(SWITCH_VIBRATION);
      this.updateMediaSession(pos);
      this.emit("phase", pos);
    }
    this.emit("update");
  }

  updateMediaSession(pos) {
    if (!pos.segment) return;
    const info = kindInfo(pos.segment.kind);
    showMediaSession(
      { title: `${info.word} · ${clockText(pos.segment.seconds * 1000)}`, plan: this.plan.name },
      { play: () => this.resume(), pause: () => this.pause(), next: () => this.skip(), stop: () => this.stop() },
    );
  }

  /** Back in the foreground: get the sound and the connection back, and catch up. */
  async wake() {
    if (this.state.state === "finished" || this.state.state === "ready") return;
    this.source.nudge();
    if (this.player.ctx && !(await this.player.recover())) {
      this.needsTap = true;
      this.emit("needs-tap");
      return;
    }
    this.reschedule();
  }

  /** The server never answered: end here with what the phone knows. */
  finishLocally(endedBy) {
    const now = this.clock.serverNow();
    const final = endedBy === "complete" ? this.totalMs : this.elapsedMs(now);
    const skipped = this.localSkips.reduce((total, skip) => total + skip.to_ms - skip.from_ms, 0);
    const started = this.state.started_at;
    this.finish({
      ...summarize(this.plan.segments, final, this.localSkips, {
        ended_by: endedBy,
        duration_ms: started ? Math.max(now - started, 0) : 0,
        paused_ms: Math.max(this.state.shift_ms + skipped, 0),
      }),
      unconfirmed: !this.local,
    });
  }

  finish(summary) {
    if (this.summary) return;
    this.summary = summary;
    this.state = { ...this.state, state: "finished", ended_by: summary.ended_by };
    if (summary.ended_by !== "stopped") vibrate(COMPLETE_VIBRATION);
    if (this.local) {
      addLocalHistory({
        id: this.source.id, plan_id: this.plan.id, plan_name: this.plan.name, state: "finished",
        started_at: this.state.started_at, finished_at: this.clock.serverNow(), ended_by: summary.ended_by,
        planned_seconds: summary.planned_seconds, summary, local: true,
      });
      closeWalkLog(this.source.id);
    }
    saveActive(null);
    this.keeper.release();
    setMediaState("none");
    clearInterval(this.ticker);
    this.ticker = null;
    setTimeout(() => this.dispose(), CLOSE_AFTER_MS);
    this.emit("finished", summary);
    this.emit("update");
  }

  /** Let go of the socket, timers and sound. */
  dispose() {
    clearInterval(this.ticker);
    this.ticker = null;
    this.source.close();
    this.player.close();
    this.keeper.release();
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("online", this.onOnline);
  }

  /** The speed units the hints are spoken in ("mph" or "kmh"). */
  get units() {
    return this.options?.units || "mph";
  }

  /** The plan's totals (for screens). */
  get totals() {
    return totals(this.plan.segments);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
