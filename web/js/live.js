// Where a workout's clock lives: on the server (a websocket), or, with no server to reach,
// on the phone (the same rules played from a remembered timeline). Both speak the same
// messages, so the coach does not care which one it has.

import { SYNC_GAP_MS, ServerClock } from "./clock.js";
import { FINISHED, READY_WALK, WalkRefused, endAt, finish as finishWalk, positionMs, segmentStarts, step, summarize, walkEndMs } from "./walkclock.js";
import { newWalkId } from "./offline.js";

/** Controls that set the walk's clock going: a fresh sync follows each (the estimate places the cues after it). */
const SYNC_ON = new Set(["start", "resume"]);
/** Besides the syncs, one ping this often, to follow drift and keep the connection warm. */
const PING_INTERVAL_MS = 4000;
/** Reconnect backoff: first wait, growth, ceiling, and random spread. */
const RECONNECT_FIRST_MS = 400;
const RECONNECT_FACTOR = 2;
const RECONNECT_MAX_MS = 8000;
const RECONNECT_JITTER = 0.25;

/**
 * @typedef {object} SourceHandlers
 * @property {(msg: object) => void} onMessage every server message (hello, state, cue, pong, finished, error)
 * @property {(status: "connecting"|"live"|"reconnecting"|"local") => void} onStatus
 */

/**
 * A live session on the server, over its websocket: reconnects with backoff and keeps
 * estimating the server clock.
 */
export class LiveConnection {
  /**
   * @param {string} wsPath the session's websocket path (from POST /api/sessions)
   * @param {SourceHandlers} handlers
   */
  constructor(wsPath, handlers) {
    this.url = new URL(wsPath, location.href);
    this.url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    this.handlers = handlers;
    this.clock = new ServerClock();
    /** @type {WebSocket|null} */
    this.socket = null;
    this.closed = false;
    this.attempt = 0;
    this.timers = new Set();
    /** Controls tapped while the socket was down, sent when it is back. */
    this.outbox = [];
    this.helloSeen = false;
    /** Which sync is running: a newer one (another socket, Start) ends an older one. */
    this.syncRun = 0;
  }

  /** Open the socket (again). */
  connect() {
    if (this.closed) return;
    this.handlers.onStatus(this.helloSeen ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.sync();
      this.pinger = setInterval(() => this.ping(), PING_INTERVAL_MS);
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      clearInterval(this.pinger);
      if (this.socket === socket) this.socket = null;
      if (!this.closed) this.retry();
    };
    socket.onerror = () => { /* onclose follows and retries */ };
  }

  receive(data) {
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (msg.type === "pong" && typeof msg.t === "number") {
      this.clock.addSample(msg.t, msg.server_time);
    } else if (typeof msg.server_time === "number" && !this.clock.synced) {
      this.clock.noteServerTime(msg.server_time);
    }
    if (msg.type === "hello") {
      this.helloSeen = true;
      this.handlers.onStatus("live");
      // Controls tapped offline go now that the server hears us again.
      for (const queued of this.outbox.splice(0)) this.socket?.send(JSON.stringify(queued));
    }
    this.handlers.onMessage(msg);
  }

  retry() {
    this.handlers.onStatus("reconnecting");
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * RECONNECT_FACTOR ** this.attempt);
    const wait = base * (1 + (Math.random() * 2 - 1) * RECONNECT_JITTER);
    this.attempt += 1;
    this.later(() => this.connect(), wait);
  }

  later(fn, ms) {
    const timer = setTimeout(() => { this.timers.delete(timer); fn(); }, ms);
    this.timers.add(timer);
  }

  /**
   * Ping every SYNC_GAP_MS until the clock estimate is settled (clock.js wantsSyncPing): right
   * after connecting, and at Start. A server busy just then (making the walk's track, short of
   * CPU) holds a whole burst of pings up; those round trips are slow and do not count, so the
   * phone pings on until quick ones come back, before the first cue is due.
   */
  sync() {
    this.syncRun += 1;
    const run = this.syncRun;
    let sent = 0;
    const next = () => {
      if (run !== this.syncRun || this.socket?.readyState !== WebSocket.OPEN || !this.clock.wantsSyncPing(sent)) return;
      this.ping();
      sent += 1;
      this.later(next, SYNC_GAP_MS);
    };
    next();
  }

  /** Measure one round trip to the server clock. */
  ping() {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "ping", t: performance.now() }));
    }
  }

  /** True while the socket is open and the server has greeted us. */
  get live() {
    return this.socket?.readyState === WebSocket.OPEN && this.helloSeen;
  }

  /**
   * Send a control (start, pause, resume, skip, stop); kept until the socket is back if it is down.
   * @param {string} type
   * @param {{at?: number}} [fields] `at`: when it happened, server-clock ms (a pause pressed
   *   on the lock screen while the page slept is sent when it wakes, with its own time)
   */
  send(type, fields = {}) {
    const msg = { type, ...fields };
    if (this.live) {
      this.socket.send(JSON.stringify(msg));
      if (SYNC_ON.has(type)) this.sync();
    } else this.outbox.push(msg);
  }

  /** Try a reconnect now (the page came back to the foreground or the network returned). */
  nudge() {
    if (this.closed || this.socket) return;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.attempt = 0;
    this.connect();
  }

  /** Drop the connection and open a new one at once: its hello brings the server's clock. */
  resync() {
    const socket = this.socket;
    this.socket = null;
    this.attempt = 0;
    if (socket) {
      socket.onclose = null;
      socket.close();
      clearInterval(this.pinger);
    }
    this.connect();
  }

  /** Close for good. */
  close() {
    this.closed = true;
    clearInterval(this.pinger);
    for (const timer of this.timers) clearTimeout(timer);
    this.socket?.close();
    this.socket = null;
  }
}

/** Lead of start and skip when playing without the server (the server's START_LEAD_MS there): the quiet lead-in of a kept track. */
export const LOCAL_LEAD_MS = 500;

/**
 * A workout played with no server: the walk clock (walkclock.js, the same rules as the
 * server's server/walkclock.py) on the phone's own clock, from a timeline the phone
 * remembered the last time it played this plan with the server. A control the clock
 * refuses changes nothing and is not logged (offline.js replays the log the same way).
 */
export class LocalSession {
  /**
   * @param {import("./walkstore.js").SavedTimeline} saved
   * @param {SourceHandlers} handlers
   */
  constructor(saved, handlers) {
    this.plan = saved.plan;
    this.timeline = saved.timeline;
    this.track = saved.track ?? null;
    this.trackLeadInMs = saved.track_lead_in_ms ?? LOCAL_LEAD_MS;
    this.handlers = handlers;
    this.clock = new ServerClock();
    // The phone's own clock is the session clock: offset from performance.now() to epoch ms.
    this.clock.noteServerTime(performance.timeOrigin + performance.now(), performance.now());
    // Also the walk's id on the server once its log is uploaded (offline.js).
    this.id = newWalkId();
    this.walk = READY_WALK;
    this.starts = segmentStarts(this.plan.segments);
    // Where the walk ends on its own: the plan's end, or its last cue if that was pushed later.
    this.endMs = walkEndMs(this.starts, this.timeline.map((cue) => cue.offset_ms));
    this.endTimer = null;
  }

  /** The walk's clock as the server's hello and state messages carry it. */
  get state() {
    const w = this.walk;
    const skipped = [...new Set(w.skips.map((skip) => skip.segment))].sort((a, b) => a - b);
    const clock = { state: w.state, started_at: w.started_at, paused_at: w.paused_at, shift_ms: w.shift_ms, skipped_segments: skipped };
    return w.state === FINISHED ? { ...clock, ended_by: w.ended_by } : clock;
  }

  /** Greet like the server does, asynchronously. */
  connect() {
    this.handlers.onStatus("local");
    queueMicrotask(() => this.handlers.onMessage({
      type: "hello",
      session: { id: this.id, plan_name: this.plan.name, segments: this.plan.segments, local: true, ...this.state },
      state: this.walk.state,
      server_time: this.now(),
      start_lead_ms: LOCAL_LEAD_MS,
      timeline: this.timeline,
      // The walk's track, when this phone kept it from playing the plan with the server.
      track: this.track,
      track_lead_in_ms: this.trackLeadInMs,
    }));
  }

  now() {
    return this.clock.serverNow();
  }

  get totalMs() {
    return this.starts[this.starts.length - 1];
  }

  position(at = this.now()) {
    return positionMs(this.walk, at);
  }

  /**
   * Tell the coach the state after an event.
   * @param {string} event
   * @param {number} [at] when the event happened (its time in the walk's log, offline.js)
   */
  emitState(event, at = this.now()) {
    const now = this.now();
    this.handlers.onMessage({ type: "state", event, at, server_time: now, ...this.state, position_ms: Math.max(0, this.position(now)) });
    clearTimeout(this.endTimer);
    const end = endAt(this.walk, this.endMs);
    if (end !== null) this.endTimer = setTimeout(() => this.finish("complete", end), Math.max(0, end - now));
  }

  /**
   * Apply a control as the server would (walkclock.step); one the clock refuses changes nothing.
   * @param {string} type start, pause, resume, skip or stop
   * @param {{at?: number}} [fields] when it happened (never later than now)
   */
  send(type, fields = {}) {
    // Whole ms, as the clock model takes them (performance.now() has fractions).
    const at = Math.round(typeof fields.at === "number" ? Math.min(fields.at, this.now()) : this.now());
    // A walk whose end passed while the page slept (its timer late) completed at its end.
    const end = endAt(this.walk, this.endMs);
    if (end !== null && end <= at) {
      this.finish("complete", end);
      return;
    }
    try {
      this.walk = step(this.walk, this.starts, { type, at: Math.max(at, this.walk.last_at ?? at) }, LOCAL_LEAD_MS, this.endMs);
    } catch (error) {
      if (error instanceof WalkRefused) return;
      throw error;
    }
    if (this.walk.state === FINISHED) this.announceFinish();
    else this.emitState(type, this.walk.last_at);
  }

  /**
   * End the walk at `at` (its end reached, or stopped), unless it has ended already.
   * @param {string} endedBy "complete" or "stopped"
   * @param {number} at
   */
  finish(endedBy, at) {
    clearTimeout(this.endTimer);
    if (this.walk.state === FINISHED) return;
    this.walk = { ...finishWalk(this.walk, at, endedBy), last_at: at };
    this.announceFinish();
  }

  /** Tell the coach the walk has finished, with its summary (the server's rules, walkclock.summarize). */
  announceFinish() {
    clearTimeout(this.endTimer);
    const w = this.walk;
    const summary = summarize(w, this.starts, this.plan.segments.map((segment) => segment.kind));
    this.handlers.onMessage({ type: "state", event: w.ended_by, at: w.finished_at, server_time: this.now(), ...this.state });
    this.handlers.onMessage({ type: "finished", session: this.id, summary: { ...summary, local: true } });
  }

  /** Nothing to reconnect to. */
  nudge() {}

  close() {
    clearTimeout(this.endTimer);
  }

  get live() {
    return false;
  }
}
