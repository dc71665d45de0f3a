// Cue audio: fetched and decoded before Start, then each cue scheduled on the AudioContext
// clock at its due time ("A Tale of Two Clocks"), not played from a timer.

/** Files fetched at once while preparing a workout. */
const FETCH_CONCURRENCY = 4;
/** A cue more than this late is dropped: a countdown "3" heard two seconds late misleads. */
export const MAX_LATE_MS = 1500;
/** A scheduled start this far from where the clocks now put it is moved (clock drift, new offset). */
const RESCHEDULE_THRESHOLD_MS = 4;
/** Sources starting sooner than this are left alone: re-creating them could cut a word. */
const TOO_CLOSE_TO_MOVE_MS = 30;
/** Sample rate for decoding before there is a real context (sources resample if it differs). */
const DECODE_SAMPLE_RATE = 48000;
/** A running context whose clock has not moved in this long is frozen (iOS after an interruption). */
const FROZEN_CLOCK_MS = 600;

/** The mark on a confirmation's source node: a recording of what played (tests/browser_support.py) tells it from a cue. */
export const CONFIRMATION_MARK = "retrowalkConfirmation";

/** Where a pause, resume or skip came from: a tap in the app, or the lock screen or a headset. */
export const CONTROL_FROM = Object.freeze({ APP: "app", OUTSIDE: "outside" });

/**
 * Whether a control is confirmed aloud. Screen-on mode: always (the AudioContext plays over
 * everything). Pocket mode: only for a tap in the app while the page is shown; a lock-screen
 * or headset control is answered by the track itself (it stops or goes on).
 * @param {{pocket: boolean, from: string, visible: boolean}} walk
 * @returns {boolean}
 */
export function confirmsAloud({ pocket, from, visible }) {
  return !pocket || (from === CONTROL_FROM.APP && visible);
}

/**
 * The phrase that confirms a control, from a session's `confirmations` (POST /api/sessions):
 * a skip that lands on a segment whose slow-down it jumped over says that slow-down instead
 * of "Skipping ahead.". Null when there is nothing to say (no confirmations known).
 * @param {{pause?: object, resume?: object, skip?: object, skip_to?: Record<string, object>}|null|undefined} confirmations
 * @param {string} control pause, resume or skip
 * @param {number|null} [landedSegment] the segment a skip lands in
 * @returns {{text: string, audio: string}|null}
 */
export function confirmationFor(confirmations, control, landedSegment = null) {
  if (!confirmations) return null;
  if (control === "skip" && landedSegment !== null) {
    const instead = confirmations.skip_to?.[String(landedSegment)];
    if (instead?.audio) return instead;
  }
  const phrase = confirmations[control];
  return phrase?.audio ? phrase : null;
}

/**
 * What a skip says. Running, nothing at once: the landed segment's switch phrase, said one
 * start lead after the tap, tells what comes and is the skip's answer ("Skipping ahead." would
 * be said over it); only a slow-down the skip jumped over is said, once that switch phrase has
 * ended (`after_ms` after the landed segment's start, from the server). Paused, no switch is
 * heard until Resume: the skip's own phrase (or that slow-down) at once, as for other controls.
 * @param {{skip?: object, skip_to?: Record<string, {text: string, audio: string, after_ms?: number}>}|null|undefined} confirmations
 * @param {number} landedSegment the segment the skip lands in
 * @param {boolean} running whether the walk goes on (not paused)
 * @returns {{phrase: {text: string, audio: string}, afterMs: number|null}|null} afterMs: ms after the landed segment's start, null for at once
 */
export function skipConfirmation(confirmations, landedSegment, running) {
  if (!running) {
    const phrase = confirmationFor(confirmations, "skip", landedSegment);
    return phrase ? { phrase, afterMs: null } : null;
  }
  const slowDown = confirmations?.skip_to?.[String(landedSegment)];
  if (!slowDown?.audio || typeof slowDown.after_ms !== "number") return null;
  return { phrase: slowDown, afterMs: slowDown.after_ms };
}

/** Every audio file the confirmations may play (to fetch and decode before Start). */
export function confirmationAudio(confirmations) {
  if (!confirmations) return [];
  const phrases = [confirmations.pause, confirmations.resume, confirmations.skip, ...Object.values(confirmations.skip_to || {})];
  return phrases.map((phrase) => phrase?.audio).filter(Boolean);
}

/**
 * Plays cue files at exact moments. Buffers outlive contexts, so a context that iOS
 * interrupted can be replaced and the workout's cues rescheduled on the new one.
 */
export class CuePlayer {
  constructor() {
    /** @type {AudioContext|null} */
    this.ctx = null;
    /** @type {Map<string, AudioBuffer>} decoded audio by URL */
    this.buffers = new Map();
    /** @type {Set<string>} URLs that could not be fetched or decoded (spoken by the phone instead) */
    this.failed = new Set();
    /** @type {Map<number, {source: AudioBufferSourceNode|null, timer: number|null, duePerf: number, when: number}>} */
    this.scheduled = new Map();
    /** @type {Set<number>} cues already heard (or dropped), never played twice */
    this.done = new Set();
    this.decoder = null;
    this.lastClock = { contextTime: -1, at: 0 };
    /** @type {AudioBufferSourceNode|null} the control's confirmation being said (playNow) */
    this.confirmation = null;
    /** @type {number|null} the phone's voice saying a confirmation later (its file undecodable) */
    this.confirmationTimer = null;
    /** @type {number} the context time the confirmation starts at */
    this.confirmationWhen = 0;
  }

  /**
   * Fetch and decode every file (each URL once), reporting progress.
   * @param {string[]} urls
   * @param {(done: number, total: number) => void} [onProgress]
   * @returns {Promise<{loaded: number, failed: number}>}
   */
  async preload(urls, onProgress = () => {}) {
    const todo = [...new Set(urls)].filter((url) => url && !this.buffers.has(url));
    const total = todo.length;
    let finished = 0;
    onProgress(0, total);
    const worker = async () => {
      while (todo.length) {
        const url = todo.shift();
        try {
          const response = await fetch(url);
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          this.buffers.set(url, await this.decode(await response.arrayBuffer()));
          this.failed.delete(url);
        } catch (error) {
          console.warn("Cue audio unavailable, the phone's voice will say it:", url, error);
          this.failed.add(url);
        }
        finished += 1;
        onProgress(finished, total);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, total) }, worker));
    return { loaded: total - this.failed.size, failed: this.failed.size };
  }

  /** Decode one file without waiting for a tap (an offline context needs none). */
  decode(bytes) {
    const Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
    if (!this.decoder) this.decoder = new Offline(1, 1, DECODE_SAMPLE_RATE);
    return new Promise((resolve, reject) => {
      // The callback form: older Safari returns no promise.
      const result = this.decoder.decodeAudioData(bytes, resolve, reject);
      if (result && typeof result.catch === "function") result.catch(reject);
    });
  }

  /**
   * Make sound possible: call from a tap. Creates (or re-creates) the context and resumes it.
   * @param {boolean} [beside] the walk's track plays too (pocket mode): its audio session is left as it is
   * @returns {Promise<boolean>} true when the context runs
   */
  async unlock(beside = false) {
    if (navigator.audioSession && !beside) {
      // Safari 16.4+: play over the walker's music and duck it, as a coach should.
      try { navigator.audioSession.type = "transient"; } catch { /* not settable here */ }
    }
    if (!this.ctx || this.ctx.state === "closed" || this.ctx.state === "interrupted" || this.isFrozen()) {
      this.replaceContext();
    }
    const resumed = this.ctx.resume();
    // A one-sample silent sound inside the tap is what iOS needs to let audio out later.
    const silence = this.ctx.createBuffer(1, 1, this.ctx.sampleRate);
    const source = this.ctx.createBufferSource();
    source.buffer = silence;
    source.connect(this.ctx.destination);
    source.start();
    if ("speechSynthesis" in window && this.failed.size) {
      // Only when some cue must be spoken by the phone: prime speech inside the tap.
      speechSynthesis.speak(new SpeechSynthesisUtterance(""));
    }
    try { await resumed; } catch { /* reported through `running` */ }
    return this.running;
  }

  /** Replace the context with a new one (the old one is closed). */
  replaceContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (this.ctx && this.ctx.state !== "closed") this.ctx.close().catch(() => {});
    this.ctx = new Context({ latencyHint: "interactive" });
    this.lastClock = { contextTime: -1, at: 0 };
    this.dropSources();
  }

  /** True when the context plays sound now. */
  get running() {
    return Boolean(this.ctx && this.ctx.state === "running");
  }

  /** True when a "running" context's clock has stopped moving (a frozen iOS context). */
  isFrozen() {
    if (!this.ctx || this.ctx.state !== "running") return false;
    const now = performance.now();
    if (this.ctx.currentTime !== this.lastClock.contextTime) {
      this.lastClock = { contextTime: this.ctx.currentTime, at: now };
      return false;
    }
    return now - this.lastClock.at > FROZEN_CLOCK_MS;
  }

  /**
   * Try to get sound back after the page was hidden or the phone interrupted it.
   * @returns {Promise<boolean>} true when it plays again; false means a tap is needed
   */
  async recover() {
    if (!this.ctx) return false;
    if (this.ctx.state === "closed" || this.ctx.state === "interrupted" || this.isFrozen()) {
      this.replaceContext();
    }
    if (this.ctx.state !== "running") {
      try {
        await Promise.race([this.ctx.resume(), new Promise((resolve) => setTimeout(resolve, 500))]);
      } catch { /* needs a tap */ }
    }
    return this.running;
  }

  /**
   * The context time at which a sound must start to be heard at `perfTime`.
   * getOutputTimestamp pairs the two clocks where the sound leaves the speaker, so the
   * output latency is accounted for.
   * @param {number} perfTime a performance.now() value
   * @returns {number}
   */
  contextTimeAt(perfTime) {
    const ctx = this.ctx;
    const stamp = typeof ctx.getOutputTimestamp === "function" ? ctx.getOutputTimestamp() : null;
    if (stamp && stamp.contextTime > 0 && stamp.performanceTime > 0) {
      return stamp.contextTime + (perfTime - stamp.performanceTime) / 1000;
    }
    const latency = ctx.outputLatency || ctx.baseLatency || 0;
    return ctx.currentTime + (perfTime - performance.now()) / 1000 - latency;
  }

  /**
   * Schedule (or move) one cue to be heard at `duePerf`; dropped if already too late.
   * @param {{seq: number, text: string, audio: string}} cue
   * @param {number} duePerf the performance.now() value of its due time
   * @returns {boolean} true when it is (still) going to be heard
   */
  schedule(cue, duePerf) {
    if (this.done.has(cue.seq)) return false;
    const existing = this.scheduled.get(cue.seq);
    const now = performance.now();
    if (existing) {
      if (Math.abs(existing.duePerf - duePerf) < RESCHEDULE_THRESHOLD_MS && existing.source) {
        if (!this.driftedMs(existing)) return true;
      }
      if (existing.source && (existing.when - this.ctx.currentTime) * 1000 < TOO_CLOSE_TO_MOVE_MS) return true;
      this.cancel(cue.seq);
    }
    if (now - duePerf > MAX_LATE_MS) {
      this.done.add(cue.seq);
      return false;
    }
    const buffer = this.buffers.get(cue.audio);
    if (buffer && !this.running) return false; // no sound yet (no tap); tried again next tick
    if (!buffer && !this.failed.has(cue.audio)) return false; // not loaded yet; tried again next tick
    if (!buffer) {
      // No decodable file (or no sound at all): the phone's own voice, on a timer.
      const timer = setTimeout(() => this.speak(cue), Math.max(0, duePerf - now));
      this.scheduled.set(cue.seq, { source: null, timer, duePerf, when: 0 });
      return true;
    }
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    const when = Math.max(this.ctx.currentTime, this.contextTimeAt(duePerf));
    source.onended = () => {
      if (this.scheduled.get(cue.seq)?.source === source) {
        this.scheduled.delete(cue.seq);
        this.done.add(cue.seq);
      }
    };
    source.start(when);
    this.scheduled.set(cue.seq, { source, timer: null, duePerf, when });
    return true;
  }

  /** Milliseconds by which a scheduled source now misses its due (clock drift), if beyond the threshold. */
  driftedMs(entry) {
    const drift = (entry.when - this.contextTimeAt(entry.duePerf)) * 1000;
    return Math.abs(drift) > RESCHEDULE_THRESHOLD_MS ? drift : 0;
  }

  /**
   * Play one phrase now (a control's confirmation), beside any cue: a newer one cuts the last
   * one short ("Paused." then at once "Resuming."). Unlike cues, it is never rescheduled.
   * @param {{text: string, audio: string}} phrase
   * @param {number|null} [atPerf] the performance.now() value to be heard at (a skipped slow-down after the switch); null: now
   * @returns {boolean} true when it is on its way to the speaker
   */
  playNow(phrase, atPerf = null) {
    this.stopConfirmation();
    const buffer = this.buffers.get(phrase.audio);
    if (!buffer && this.failed.has(phrase.audio) && "speechSynthesis" in window) {
      // No decodable file: the phone's own voice, as for cues.
      const say = () => {
        this.confirmationTimer = null;
        const utterance = new SpeechSynthesisUtterance(phrase.text);
        utterance.lang = document.documentElement.lang || "en";
        speechSynthesis.speak(utterance);
      };
      if (atPerf === null) say();
      else this.confirmationTimer = setTimeout(say, Math.max(0, atPerf - performance.now()));
      return true;
    }
    if (!buffer || !this.ctx || this.ctx.state === "closed") return false;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    source.onended = () => { if (this.confirmation === source) this.confirmation = null; };
    source[CONFIRMATION_MARK] = true;
    const when = atPerf === null ? this.ctx.currentTime : Math.max(this.ctx.currentTime, this.contextTimeAt(atPerf));
    source.start(when);
    this.confirmation = source;
    this.confirmationWhen = when;
    return true;
  }

  /** Stop the confirmation being said (or waiting for its moment), if any. */
  stopConfirmation() {
    clearTimeout(this.confirmationTimer);
    this.confirmationTimer = null;
    const source = this.confirmation;
    this.confirmation = null;
    if (!source) return;
    source.onended = null;
    try { source.stop(); } catch { /* already over */ }
    source.disconnect();
  }

  /** Say a cue with the phone's speech synthesis (only when its file could not be decoded). */
  speak(cue) {
    this.scheduled.delete(cue.seq);
    this.done.add(cue.seq);
    if (!("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(cue.text);
    utterance.lang = document.documentElement.lang || "en";
    speechSynthesis.speak(utterance);
  }

  /**
   * Stop one scheduled cue before it is heard.
   * @param {number} seq
   */
  cancel(seq) {
    const entry = this.scheduled.get(seq);
    if (!entry) return;
    this.scheduled.delete(seq);
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (entry.source) {
      entry.source.onended = null;
      try { entry.source.stop(); } catch { /* already stopped */ }
      entry.source.disconnect();
    }
  }

  /** Drop a confirmation still waiting for its moment (a skipped slow-down): its walk paused, skipped on or stopped. */
  cancelPendingConfirmation() {
    const waiting = this.confirmationTimer !== null || (this.confirmation && this.ctx && this.confirmationWhen > this.ctx.currentTime);
    if (waiting) this.stopConfirmation();
  }

  /** Stop every cue not yet heard (pause, skip, stop); one being spoken right now finishes. */
  cancelPending() {
    this.cancelPendingConfirmation();
    for (const [seq, entry] of [...this.scheduled]) {
      const started = entry.source && this.ctx && entry.when <= this.ctx.currentTime;
      if (started) {
        this.done.add(seq);
      } else {
        this.cancel(seq);
      }
    }
  }

  /** Forget sources of a context that is gone; their cues will be scheduled again. */
  dropSources() {
    for (const seq of [...this.scheduled.keys()]) this.cancel(seq);
  }

  /** Mark cues as heard when their start time has passed (so a reschedule never repeats them). */
  markStarted() {
    if (!this.ctx) return;
    for (const [seq, entry] of this.scheduled) {
      if (entry.source && entry.when <= this.ctx.currentTime) this.done.add(seq);
    }
  }

  /** Release the context at the end of a workout. */
  close() {
    this.dropSources();
    if (this.ctx && this.ctx.state !== "closed") this.ctx.close().catch(() => {});
    this.ctx = null;
  }
}
