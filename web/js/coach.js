// One workout from "prepare" to "finished": the session clock (server or local), the sound
// (pocket mode: the walk's track on one media element; screen-on mode: cue clips on the
// AudioContext), the screen kept on, the lock-screen controls. Screens listen to its events.
// Longer than 450 lines: Coach is one state machine over one walk (its clock, the two ways of
// sounding, the lock screen, the recovery from a lost track or socket), whose methods share that state.

import { CONTROL_FROM, CuePlayer, confirmationAudio, confirmationFor, confirmsAloud, skipConfirmation } from "./audio.js";
import { LiveConnection, LocalSession } from "./live.js";
import {
  COMPLETE_VIBRATION, SWITCH_VIBRATION, ScreenKeeper, setAudioSession, setMediaPosition, setMediaState, showMediaSession, vibrate,
} from "./phone.js";
import { STEER_THRESHOLD_MS, TrackPlayer } from "./pocket.js";
import { saveActive } from "./store.js";
import { addLocalHistory, saveTimeline, savedTimeline } from "./walkstore.js";
import {
  WalkRefused,
  finish as finishWalk,
  position,
  positionMs as walkPositionMs,
  segmentIndex,
  segmentStarts,
  step,
  summarize,
  walkEndMs,
} from "./walkclock.js";
import { closeWalkLog, keepTrack, recordWalkEvent, rememberServerClock } from "./offline.js";
import { kindInfo, totals } from "./workout.js";
import { clockText } from "./figures.js";
import { language, t } from "./i18n.js";

/**
 * How a walk sounds. Pocket: one track on a media element, heard with the screen locked (other
 * apps' music pauses). Screen: cue clips over the walker's music, the screen kept on and locked.
 */
export const AUDIO_MODES = Object.freeze({ POCKET: "pocket", SCREEN: "screen" });
/** How often the lock screen's progress bar is told where the track is while it plays. */
const MEDIA_POSITION_EVERY_MS = 5000;

/** Cues due within this window are handed to the audio clock (so a throttled page still speaks). */
export const HORIZON_MS = 90_000;
/** How often the coach looks at the clocks (screen, scheduling, drift). */
const TICK_MS = 200;
/** How long Start waits at most for a settled clock estimate (clock.js ServerClock.settled). */
const SYNC_WAIT_MS = 3000;
/** How long to wait for the server's greeting before giving up on preparing. */
const HELLO_WAIT_MS = 10_000;
/** After the last cue, the context stays open this long so "workout complete" is heard. */
const CLOSE_AFTER_MS = 5000;
/** Error codes of a control the server refused (server/sessions/model.py): the phone's guess was wrong. */
const REFUSED_CONTROLS = new Set(["segment_ending", "not_running", "not_paused", "not_started", "already_started", "bad_time"]);
/** How long a rejoin waits to learn the track can be had (controllers/walk.js gives the whole rejoin 3 s: REJOIN_WAIT_MS). */
const REJOIN_TRACK_WAIT_MS = 1000;
/** With no word from the server, the phone ends the workout itself this long after its end. */
const LOCAL_FINISH_GRACE_MS = 3000;

/**
 * A hello or state message in the phone's terms (hello keeps the clock in `session`).
 * @param {object} msg
 * @returns {{state: string, started_at: number|null, paused_at: number|null, shift_ms: number,
 *   skipped_segments: number[], ended_by?: string, finished_at: number|null, last_at: number|null}}
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
    finished_at: clock.finished_at ?? null,
    // The time of the walk's last event: a state message says it (`at`), hello's clock may.
    last_at: clock.last_at ?? (msg.type === "state" && typeof msg.at === "number" ? msg.at : null),
  };
}

/**
 * A workout being coached. Events: "update" (every tick), "phase" (a new segment),
 * "event" (detail: {type, at}, a control the walker made on this phone, as sent),
 * "finished" (detail: summary), "needs-tap" (sound must be unlocked again), "error".
 */
export class Coach extends EventTarget {
  /**
   * @param {{plan: object, session?: {id: string, ws: string} & Partial<import("./api.js").NewSession>,
   *   saved?: import("./walkstore.js").SavedTimeline, mode?: string}} options
   *   a server session (as created, or only its id and socket when rejoined), or a remembered
   *   timeline to play without the server; `mode`: the audio mode of a walk being rejoined
   */
  constructor({ plan, session, saved, mode }) {
    super();
    this.plan = plan;
    this.local = !session;
    this.sessionId = session ? session.id : null;
    this.timeline = session?.timeline || saved?.timeline || [];
    this.totalMs = segmentStarts(plan.segments).at(-1);
    /** The skips made on this phone (the walk clock's shape), for a summary made here. */
    this.skips = [];
    /** The time of the walk's last event known here: a new event is never earlier. */
    this.lastAt = null;
    this.state = { state: "ready", started_at: null, paused_at: null, shift_ms: 0, skipped_segments: [], finished_at: null };
    this.starts = segmentStarts(plan.segments);
    /** The walk clock's start lead: a start takes effect (a skip lands) this long after the tap (lead_ms is the cue push lead). */
    this.leadMs = session?.start_lead_ms ?? session?.lead_ms ?? 0;
    /** The walk as one track (pocket mode) and the quiet before its position 0. */
    this.track = session?.track ?? saved?.track ?? null;
    this.trackLeadInMs = session?.track_lead_in_ms ?? saved?.track_lead_in_ms ?? this.leadMs;
    /** @type {TrackPlayer|null} */
    this.trackPlayer = null;
    this.mode = mode === AUDIO_MODES.SCREEN ? AUDIO_MODES.SCREEN : AUDIO_MODES.POCKET;
    /** The cue options the server compiled the voice with (units, language), when known. */
    this.options = session?.options ?? saved?.options ?? null;
    /** What pause, resume and skip say (POST /api/sessions), or those remembered with the timeline (offline, a rejoin). */
    this.confirmations = session?.confirmations ?? saved?.confirmations ?? savedTimeline(plan.id)?.confirmations ?? null;
    this.status = "connecting";
    this.dueOverride = new Map();
    this.floorMs = 0;
    this.lastIndex = -1;
    this.summary = null;
    /** @type {object|null} the server's summary of the walk, when a hello (joining or reconnecting) found it ended */
    this.helloSummary = null;
    /** @type {number|null} how long before that hello the walk ended, in ms */
    this.helloEndedAgoMs = null;
    /** @type {ReturnType<typeof setTimeout>|null} the end the server said, finished here if its summary does not follow */
    this.finishTimer = null;
    /** @type {number|null} when a walk without the server's word passed its end (performance.now()) */
    this.endedAt = null;
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

  /** The walk's socket to the server; null for a walk played without it. */
  get connection() {
    return this.local ? null : /** @type {LiveConnection} */ (this.source);
  }

  /** A walk played without the server: its own id (its log's, and its id on the server once uploaded). */
  get localWalkId() {
    return this.local ? /** @type {LocalSession} */ (this.source).id : null;
  }

  /** The clock the session runs on (server time estimate, or the phone's own). */
  get clock() {
    return this.source.clock;
  }

  /** The end of the walk on its own: the plan's end, or its last cue if later (the walk clock's rule). */
  get endMs() {
    return walkEndMs(this.starts, this.timeline.map((cue) => cue.offset_ms));
  }

  /** True when the walk plays through its track (pocket mode with a track that loaded). */
  get pocket() {
    return this.mode === AUDIO_MODES.POCKET && this.trackPlayer !== null;
  }

  /** True when the walk's sound can be heard without another tap. */
  get soundOn() {
    if (this.pocket) return this.trackPlayer.expect === "playing" || this.trackPlayer.expect === "paused";
    return this.player.running;
  }

  /** The walk's track on a media element (made once; null when there is no track). */
  makeTrackPlayer() {
    if (this.trackPlayer || !this.track) return this.trackPlayer;
    this.trackPlayer = new TrackPlayer(this.track, {
      onOutsidePause: (trackMs) => this.pausedOutside(trackMs),
      onOutsidePlay: (trackMs) => this.playedOutside(trackMs),
      onEnded: () => this.source.nudge(),
      onFailed: () => this.trackFailed(),
    });
    return this.trackPlayer;
  }

  /**
   * The track failed mid-walk (an error, or a stall that lasted: offline before it was all
   * kept): the walk goes on as clips, as screen-on mode plays it, on the same walk clock and
   * the same server session; the walker is told on the screen.
   */
  trackFailed() {
    if (!this.trackPlayer) return;
    this.trackPlayer.dispose();
    this.trackPlayer = null;
    this.mode = AUDIO_MODES.SCREEN;
    this.trackLost = true;
    if (!this.local) saveActive({ session: { id: this.sessionId, ws: this.connection.url.pathname }, plan: this.plan, mode: this.mode });
    const walking = this.state.state === "running" || this.state.state === "paused";
    if (walking) this.keeper.keepOn();
    // The clips come from the server or the service worker's cache; each is scheduled as it decodes.
    this.player.preload([...this.timeline.map((cue) => cue.audio), ...confirmationAudio(this.confirmations)])
      .then(() => this.reschedule(), () => {});
    // Without a tap the phone may not let the AudioContext play: then the walker is asked for one.
    this.player.unlock().then((running) => {
      if (running) this.reschedule();
      else if (walking) this.askForTap();
    }, () => this.askForTap());
    this.emit("update");
  }

  /**
   * Connect, get the walk's track ready and fetch and decode every cue file (screen-on mode,
   * and the fallback), and measure the clock.
   * @param {(done: number, total: number) => void} onProgress
   * @returns {Promise<{failed: number, track: boolean}>} `track`: pocket mode can play
   */
  async prepare(onProgress) {
    this.source.connect();
    const hello = await Promise.race([
      this.greeted,
      new Promise((resolve) => setTimeout(() => resolve(null), HELLO_WAIT_MS)),
    ]);
    if (!hello && !this.timeline.length) throw new Error("The workout could not be loaded from the server.");
    const trackPlayer = this.makeTrackPlayer();
    const [result, trackReady] = await Promise.all([
      this.player.preload([...this.timeline.map((cue) => cue.audio), ...confirmationAudio(this.confirmations)], onProgress),
      trackPlayer ? trackPlayer.ready() : Promise.resolve(false),
    ]);
    if (trackPlayer && !trackReady) {
      // No track to play (offline and never played here, or it failed): the clips it is.
      console.warn("The walk's track could not be loaded; cues play as clips.");
      trackPlayer.dispose();
      this.trackPlayer = null;
    }
    if (!this.local) {
      const deadline = performance.now() + SYNC_WAIT_MS;
      // Start waits for a settled clock (a busy server can hold the first pings up): pocket mode
      // takes the walk's start time from it, and screen-on mode places the first cues by it.
      while (!this.clock.settled && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      saveTimeline(this.plan, this.timeline, {
        options: this.options, track: this.track, trackLeadInMs: this.trackLeadInMs, confirmations: this.confirmations,
      });
      rememberServerClock(this.clock);
    }
    return { ...result, track: Boolean(this.trackPlayer) };
  }

  /**
   * Start the workout: call from the Start tap (it unlocks the sound: the track's element
   * starts playing inside the tap, or the AudioContext is resumed in it).
   * @param {string} [mode] AUDIO_MODES.POCKET (falls back to clips when there is no track) or SCREEN
   * @returns {Promise<void>}
   */
  async start(mode = AUDIO_MODES.POCKET) {
    this.mode = mode === AUDIO_MODES.SCREEN ? AUDIO_MODES.SCREEN : AUDIO_MODES.POCKET;
    let at = this.clock.serverNow();
    let unlocked;
    if (this.pocket) {
      setAudioSession("playback");
      // Kept for offline only when it is played (screen-on mode would fetch ~30 MB nobody hears).
      keepTrack(this.track);
      // Start takes effect one lead after the tap: the element starts that far before position 0.
      const fromMs = this.trackMsAt(-this.leadMs);
      unlocked = this.trackPlayer.play(fromMs);
      // The walk starts when the track does (a few tens of ms after the tap), so the element
      // is on the walk's clock from its first frame and no seek follows.
      const began = await this.trackPlayer.startedAt(fromMs);
      if (began !== null) at = this.clock.serverNow(began);
    } else {
      this.trackPlayer?.dispose();
      this.trackPlayer = null;
      unlocked = this.player.unlock();
    }
    // Shown at once; the server's own clock replaces this guess when its state arrives.
    const walk = this.control("start", at);
    if (walk) this.applyState(stateOf(walk), false);
    this.startTicking();
    // With the screen off in a pocket there is nothing to keep awake; screen-on mode keeps it on.
    if (!this.pocket) this.keeper.keepOn();
    if (!this.local) saveActive({ session: { id: this.sessionId, ws: this.connection.url.pathname }, plan: this.plan, mode: this.mode });
    this.emitMedia();
    if (!(await unlocked) && this.pocket) this.askForTap();
  }

  /**
   * Come back to a workout already running on the server (after a reload): connect and follow it.
   * The sound needs a tap (`unlockSound`).
   */
  async rejoin() {
    this.source.connect();
    await this.greeted;
    this.startTicking();
    if (this.mode === AUDIO_MODES.POCKET && this.makeTrackPlayer() && !(await this.trackPlayer.ready(REJOIN_TRACK_WAIT_MS))) {
      // Offline with a track never kept here: the clips it is, not a tap for sound that cannot come.
      this.trackPlayer.dispose();
      this.trackPlayer = null;
    }
    if (this.pocket) {
      keepTrack(this.track);
      // The tap that brings the sound back seeks the track to the session's position.
      this.emitMedia();
      // Only the confirmations play as clips in pocket mode (an in-app tap's answer).
      this.player.preload(confirmationAudio(this.confirmations)).catch(() => {});
    } else {
      this.mode = AUDIO_MODES.SCREEN;
      // The files come from the service worker's cache; cues are scheduled as they decode.
      this.player.preload([...this.timeline.map((cue) => cue.audio), ...confirmationAudio(this.confirmations)]).catch(() => {});
      if (this.state.state === "running" || this.state.state === "paused") this.keeper.keepOn();
    }
  }

  /** Turn the sound on again from a tap (after a reload or an interruption): the track seeks to the walk's position. */
  async unlockSound() {
    if (this.pocket) {
      setAudioSession("playback");
      if (this.state.state === "running") {
        this.needsTap = !(await this.trackPlayer.play(this.expectedTrackMs()));
      } else {
        this.trackPlayer.pause(this.expectedTrackMs());
        this.needsTap = false;
      }
      this.emitMedia();
      return;
    }
    await this.player.unlock();
    this.needsTap = !this.player.running;
    this.reschedule();
  }

  /** Sound needs a tap again: say so once (the player shows the gate). */
  askForTap() {
    if (this.needsTap) return;
    this.needsTap = true;
    this.emit("needs-tap");
  }

  /**
   * The walk clock as the walk clock module takes it (state from the server or this phone).
   * @returns {object}
   */
  walk() {
    const s = this.state;
    return {
      state: s.state, started_at: s.started_at, paused_at: s.paused_at ?? null, shift_ms: s.shift_ms,
      skips: this.skips, finished_at: s.finished_at ?? null, ended_by: s.ended_by ?? null, last_at: this.lastAt,
    };
  }

  /**
   * A control made on this phone: stepped through the walk clock's rules (so one refused
   * there is not sent), told to the server with its time, and reported as an "event".
   * @param {string} type start, pause, resume, skip or stop
   * @param {number} [at] server-clock ms it happened; now when not given (never later, never before the last event)
   * @returns {object|null} the walk after it, or null when it does not apply
   */
  control(type, at = this.clock.serverNow()) {
    const now = this.clock.serverNow();
    const event = { type, at: Math.round(Math.max(Math.min(at, now), this.lastAt ?? -Infinity)) };
    let walk;
    try {
      walk = step(this.walk(), this.starts, event, this.leadMs, this.endMs);
    } catch (error) {
      if (error instanceof WalkRefused) return null;
      throw error;
    }
    this.lastAt = event.at;
    this.skips = walk.skips;
    this.lastControl = event;
    this.source.send(type, { at: event.at });
    this.emit("event", event);
    return walk;
  }

  startTicking() {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  /**
   * Say that a control took effect, where the mode lets a clip play (audio.js confirmsAloud):
   * on the AudioContext, beside the track in pocket mode (the track is never moved for it).
   * @param {string} control pause, resume or skip
   * @param {string} from CONTROL_FROM.APP or OUTSIDE
   */
  confirm(control, from) {
    if (!confirmsAloud({ pocket: this.pocket, from, visible: document.visibilityState === "visible" })) return;
    // A skip lands in the segment after the one it left.
    const landed = control === "skip" && this.skips.length ? this.skips.at(-1).segment + 1 : null;
    let phrase = confirmationFor(this.confirmations, control, landed);
    let atPerf = null;
    if (landed !== null) {
      // Running, the landed switch phrase answers the skip; a skipped slow-down follows it, on the walk clock.
      const said = skipConfirmation(this.confirmations, landed, this.state.state === "running");
      phrase = said?.phrase ?? null;
      if (said && said.afterMs !== null) {
        atPerf = this.clock.toLocal(this.state.started_at + this.state.shift_ms + this.starts[landed] + said.afterMs);
      }
    }
    if (!phrase) return;
    // Inside the tap: pocket mode's first confirmation is what opens the context (its audio session left to the track).
    if (!this.player.running) this.player.unlock(this.pocket);
    this.player.playNow(phrase, atPerf);
  }

  /**
   * Pause now: the cues stop at once (pocket: where the track is), the server is told.
   * @param {string} [from] CONTROL_FROM.APP (a tap here) or OUTSIDE (lock screen, headset)
   */
  pause(from = CONTROL_FROM.APP) {
    if (this.state.state !== "running") return;
    // Pocket mode: the walk pauses where the walker stopped hearing it, the element's position.
    const walk = this.control("pause", this.pocket ? this.timeAtTrackMs(this.trackPlayer.trackMs) : undefined);
    if (!walk) return;
    if (this.pocket) this.trackPlayer.pause();
    else this.player.cancelPending();
    // A skipped slow-down still waiting for its moment is not said into the pause.
    this.player.cancelPendingConfirmation();
    this.applyState(stateOf(walk), false);
    this.confirm("pause", from);
  }

  /**
   * Resume: the remaining cues move later by the time paused.
   * @param {string} [from] CONTROL_FROM.APP or OUTSIDE
   */
  resume(from = CONTROL_FROM.APP) {
    if (this.state.state !== "paused") return;
    // A tap: also the moment to get sound back if the phone took it away (inside the tap).
    if (this.pocket) {
      this.trackPlayer.play(this.expectedTrackMs()).then((ok) => { if (!ok) this.askForTap(); });
    } else if (!this.player.running) {
      this.player.unlock();
    }
    const walk = this.control("resume");
    if (!walk) return;
    this.applyState(stateOf(walk), false);
    this.confirm("resume", from);
  }

  /**
   * Skip to the next segment (it starts one lead from now, as the server does it); pocket: a seek.
   * @param {string} [from] CONTROL_FROM.APP or OUTSIDE
   */
  skip(from = CONTROL_FROM.APP) {
    if (this.state.state !== "running" && this.state.state !== "paused") return;
    const walk = this.control("skip");
    if (!walk) return;
    if (!this.pocket) this.player.cancelPending();
    // A slow-down still waiting from a skip before belongs to the segment just left.
    this.player.cancelPendingConfirmation();
    this.applyState(stateOf(walk), false);
    this.confirm("skip", from);
  }

  /**
   * The lock screen's scrubber (pocket mode): a seek into a later interval skips to the next
   * one, as the skip button does; the walk's clock cannot go back, so anything else snaps back.
   * @param {number} trackMs
   */
  seekTrack(trackMs) {
    const position = trackMs - this.trackLeadInMs;
    const segment = segmentIndex(this.starts, this.positionMs());
    if (position >= this.starts[segment + 1]) this.skip(CONTROL_FROM.OUTSIDE);
    else this.followTrack(true);
  }

  /** Stop the workout early. */
  stop() {
    if (this.state.state === "finished") return;
    if (!this.control("stop")) this.source.send("stop", { at: Math.round(Math.max(this.clock.serverNow(), this.lastAt ?? 0)) });
    this.player.cancelPending();
    this.trackPlayer?.stop();
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
        if (typeof (msg.start_lead_ms ?? msg.lead_ms) === "number") this.leadMs = msg.start_lead_ms ?? msg.lead_ms;
        this.track = msg.track ?? msg.session?.track ?? this.track;
        this.trackLeadInMs = msg.track_lead_in_ms ?? msg.session?.track_lead_in_ms ?? this.trackLeadInMs ?? this.leadMs;
        if (msg.session?.options) this.options = msg.session.options;
        if (msg.state === "finished" && msg.session?.summary) {
          this.helloSummary = msg.session.summary;
          // By the server's clock: a page opened long after shows the picker, not that walk's summary.
          this.helloEndedAgoMs = typeof msg.session.finished_at === "number" ? msg.server_time - msg.session.finished_at : null;
        }
        // A hello after a reconnect: the track played in pocket mode is kept (start and rejoin ask first).
        if (this.pocket) keepTrack(this.track);
        this.applyState(normalizeState(msg), true);
        this.resolveHello(msg);
        break;
      case "state":
        // A walk played without the server keeps its event log, uploaded when the server is back.
        if (this.local) recordWalkEvent(this.localWalkId, { plan: this.plan, options: this.options, timeline: this.timeline, leadMs: this.leadMs }, msg);
        this.applyState(normalizeState(msg), true);
        break;
      case "cue":
        // Pocket mode: the track says every cue; the push is for devices that play clips.
        if (typeof msg.due === "number" && !this.pocket) {
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
        if (msg.error === "bad_time" && this.lastControl?.at !== undefined) {
          // Its time did not fit the server's clock (this phone's estimate of it was off):
          // the walker still meant it, so it is sent again to count from now.
          const { type } = this.lastControl;
          this.lastControl = { type };
          this.source.send(type);
        } else if (REFUSED_CONTROLS.has(msg.error)) {
          // A control the server refused (the phone guessed its effect already): take the
          // server's clock again by reconnecting, whose hello carries it.
          this.connection?.resync();
        }
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
    // A new event is never earlier than one the server has: its time, or what the clock tells of it.
    const known = [next.last_at, next.paused_at, next.started_at === null ? null : next.started_at - this.leadMs]
      .filter((value) => typeof value === "number");
    if (fromServer && known.length) this.lastAt = Math.max(this.lastAt ?? -Infinity, ...known);
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
    if (this.pocket) this.followTrack(true);
    if (next.state === "finished" && fromServer && !this.summary) {
      // The summary follows in a `finished` message; until then the screen shows the end. A hello
      // after a reconnect may have carried it already (the walk was stopped meanwhile on another device).
      this.finishTimer ??= setTimeout(() => {
        if (this.summary) return;
        if (this.helloSummary) this.finish(this.helloSummary);
        else this.finishLocally(next.ended_by || "complete");
      }, 2000);
    }
    this.emit("update");
  }

  /** How far into the plan the walker is (negative during the lead before the start), by the session clock. */
  positionMs(at = this.clock.serverNow()) {
    return walkPositionMs(this.walk(), at);
  }

  /** Where the walk's track is at a plan position. */
  trackMsAt(positionMs) {
    return positionMs + this.trackLeadInMs;
  }

  /** Where the walk's track should be now, by the walk's clock. */
  expectedTrackMs(at = this.clock.serverNow()) {
    return this.trackMsAt(this.positionMs(at));
  }

  /**
   * The server-clock time at which the running walk was at a track position (the element's
   * position says when it was paused, even if the page slept through it); never later than now.
   * @param {number} trackMs
   */
  timeAtTrackMs(trackMs) {
    const s = this.state;
    if (s.started_at === null) return this.clock.serverNow();
    return Math.min(s.started_at + s.shift_ms + trackMs - this.trackLeadInMs, this.clock.serverNow());
  }

  /**
   * Keep the track on the walk's clock: playing while the walk runs, paused at its position
   * while it is paused (another device's pause and resume arrive here too), seeked when it
   * is more than 50 ms off.
   * @param {boolean} [now] seek at once (a new clock), without waiting for a seek to settle
   */
  followTrack(now = false) {
    const player = this.trackPlayer;
    if (!player || player.expect === "idle" || player.expect === "blocked") return;
    const state = this.state.state;
    const target = this.expectedTrackMs();
    if (state === "running") {
      if (player.expect === "paused") {
        player.play(target).then((ok) => { if (!ok) this.askForTap(); });
      } else if (now) {
        if (Math.abs(player.trackMs - Math.max(target, 0)) > STEER_THRESHOLD_MS) player.seekTo(target);
      } else {
        player.steer(target);
      }
    } else if (state === "paused") {
      if (player.expect === "playing") player.pause(target);
      else player.steer(target);
    } else if (state === "finished") {
      // The last words ("workout complete") may finish; a stop silences the track at once.
      player.stop(this.state.ended_by === "complete");
    }
  }

  /**
   * The element paused without the walk asking (lock screen, headset, the phone taking the
   * sound): the walk pauses where the element stopped, and the server is told that time.
   * @param {number} trackMs
   */
  pausedOutside(trackMs) {
    if (this.state.state !== "running") return;
    const walk = this.control("pause", this.timeAtTrackMs(trackMs));
    this.trackPlayer.expect = "paused";
    if (walk) this.applyState(stateOf(walk), false);
  }

  /**
   * The element started playing without the walk asking (lock screen, headset): the walk
   * resumed when it started, which is how far the element has played since its pause.
   * @param {number} trackMs
   */
  playedOutside(trackMs) {
    if (this.state.state !== "paused") return;
    const playedMs = Math.max(trackMs - this.expectedTrackMs(), 0);
    this.trackPlayer.expect = "playing";
    const walk = this.control("resume", this.clock.serverNow() - playedMs);
    if (walk) this.applyState(stateOf(walk), false);
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

  /** Hand every cue due soon to the audio clock (already scheduled ones move only if off); pocket mode has none. */
  reschedule() {
    if (this.pocket || this.state.state !== "running" || !this.state.started_at) return;
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
    if (this.pocket) {
      this.followTrack();
      if (this.trackPlayer.expect === "blocked") this.askForTap();
      // A track whose next bytes never come (the network went first) falls back to clips.
      this.trackPlayer?.checkStall();
      if (running && performance.now() - (this.mediaPositionAt ?? 0) > MEDIA_POSITION_EVERY_MS) this.emitMediaPosition();
    } else if (running) {
      const ctx = this.player.ctx;
      // A call, Siri or another app took the sound (iOS "interrupted", a suspended or frozen
      // context): try to get it back once; if that needs a tap, the player asks for one.
      if (ctx && !this.recovering && !this.needsTap && (ctx.state !== "running" || this.player.isFrozen())) {
        this.recovering = true;
        this.wake().finally(() => { this.recovering = false; });
      }
      this.reschedule();
    }
    if (running && this.elapsedMs() >= this.totalMs && !this.source.live && !this.summary) {
      this.endedAt ??= performance.now();
      if (performance.now() - this.endedAt > LOCAL_FINISH_GRACE_MS) this.finishLocally("complete");
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

  /**
   * The lock screen and headset: the interval and what comes next, the plan, and the controls
   * (pocket mode adds the scrubber, whose seek into a later interval is a skip).
   * @param {ReturnType<typeof position>} pos
   */
  updateMediaSession(pos) {
    if (!pos.segment) return;
    const info = kindInfo(pos.segment.kind);
    // In the walker's language; German keeps its nouns' capitals ("dann Erholung").
    const nextLabel = pos.next ? kindInfo(pos.next.kind).label : "";
    const then = pos.next ? t("then {kind}", { kind: language() === "de" ? nextLabel : nextLabel.toLocaleLowerCase(language()) }) : t("then finish");
    showMediaSession(
      { title: `${info.label} ${clockText(pos.segment.seconds * 1000)} · ${then}`, plan: this.plan.name },
      {
        // The lock screen and headset: with the page asleep the track's own silence or sound is the answer.
        play: () => this.resume(CONTROL_FROM.OUTSIDE), pause: () => this.pause(CONTROL_FROM.OUTSIDE),
        next: () => this.skip(CONTROL_FROM.OUTSIDE), stop: () => this.stop(),
        seekto: this.pocket ? (details) => { if (typeof details?.seekTime === "number") this.seekTrack(details.seekTime * 1000); } : null,
      },
    );
    this.emitMediaPosition();
  }

  /** The lock screen's progress bar: where the track is (pocket mode only; clips have no track). */
  emitMediaPosition() {
    if (!this.pocket) return;
    this.mediaPositionAt = performance.now();
    setMediaPosition(this.trackPlayer.durationMs, this.trackPlayer.trackMs);
  }

  /** The lock screen as the walk stands now (after Start, a rejoin or a tap for sound). */
  emitMedia() {
    const pos = position(this.plan.segments, this.elapsedMs());
    if (this.state.state !== "ready") this.updateMediaSession(pos);
  }

  /** Back in the foreground: get the sound and the connection back, and catch up. */
  async wake() {
    if (this.state.state === "finished" || this.state.state === "ready") return;
    this.source.nudge();
    if (this.pocket) {
      this.followTrack(true);
      return;
    }
    if (this.player.ctx && !(await this.player.recover())) {
      this.needsTap = true;
      this.emit("needs-tap");
      return;
    }
    this.reschedule();
  }

  /** The server never answered: end here with what the phone knows. */
  finishLocally(endedBy) {
    // The walk clock's summary, as the server would have made it (walkclock.summarize).
    const walk = this.walk();
    const ended = walk.state === "finished" && walk.finished_at !== null
      ? walk
      : finishWalk(walk, Math.round(Math.max(this.clock.serverNow(), walk.last_at ?? 0)), endedBy);
    const kinds = this.plan.segments.map((segment) => segment.kind);
    this.finish({ ...summarize({ ...ended, ended_by: endedBy }, this.starts, kinds), unconfirmed: !this.local });
  }

  finish(summary) {
    if (this.summary) return;
    this.summary = summary;
    this.state = { ...this.state, state: "finished", ended_by: summary.ended_by };
    if (summary.ended_by !== "stopped") vibrate(COMPLETE_VIBRATION);
    if (this.local) {
      addLocalHistory({
        id: this.localWalkId, plan_id: this.plan.id, plan_name: this.plan.name, state: "finished",
        started_at: this.state.started_at, finished_at: this.clock.serverNow(), ended_by: summary.ended_by,
        planned_seconds: summary.planned_seconds, summary, local: true,
      });
      closeWalkLog(this.localWalkId);
    }
    saveActive(null);
    this.keeper.release();
    this.trackPlayer?.stop(summary.ended_by === "complete");
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
    // A walk the server said had ended, dropped before its summary came: nothing is finished here later.
    clearTimeout(this.finishTimer ?? undefined);
    this.source.close();
    this.player.close();
    this.trackPlayer?.dispose();
    this.trackPlayer = null;
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

/**
 * The coach's state (what screens read) from a walk of the walk clock.
 * @param {object} walk
 */
function stateOf(walk) {
  return {
    state: walk.state, started_at: walk.started_at, paused_at: walk.paused_at, shift_ms: walk.shift_ms,
    skipped_segments: [...new Set(walk.skips.map((skip) => skip.segment))].sort((a, b) => a - b),
    finished_at: walk.finished_at, ended_by: walk.ended_by ?? undefined,
  };
}
