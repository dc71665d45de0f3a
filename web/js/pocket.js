// Pocket mode: the whole walk is one audio track (composed on the server, track time = plan
// position + a quiet lead-in) played by one <audio> element. The element's own clock says
// every cue, so nothing has to run in JavaScript while the screen is locked. The coach steers
// the element to the walk's clock; the element tells the coach when something else (the lock
// screen, a headset, the phone itself) paused or played it.

/** The element is moved only when it is this far from the walk's clock (never re-seeked for less). */
export const STEER_THRESHOLD_MS = 50;
/** After a seek, the element is left alone this long so it can settle before it is judged again. */
const SEEK_SETTLE_MS = 1000;
/** A seek is never aimed more than this far ahead to make up for the element's own lateness. */
const MAX_SEEK_LAG_MS = 250;
/** How long preparing waits for the track's first bytes before falling back to clips. */
const TRACK_WAIT_MS = 15_000;
/** The Range asked for to learn that the track is there (two bytes, not 30 MB). */
const FIRST_BYTES = "bytes=0-1";
/** How long Start waits for the element's first frames before the walk starts from the tap instead. */
const START_WAIT_MS = 1000;
/** The element has surely started once its position has moved this far (its first reading may lag). */
const START_MOVED_MS = 20;
/** How often Start looks at the element while it waits. */
const START_POLL_MS = 10;
/** readyState from which the element can play (HAVE_FUTURE_DATA). */
const HAVE_FUTURE_DATA = 3;
/** readyState from which the element knows its duration (HAVE_METADATA). */
const HAVE_METADATA = 1;
/** A track that should play but has not moved for this long has stalled for good (the network went with its bytes). */
export const STALL_GIVE_UP_MS = 3000;

/**
 * One walk's track on one <audio> element. `expect` is what the walk wants of it ("playing",
 * "paused", "idle", or "blocked" when the phone refused to play without a tap): a pause or
 * play the element reports that the walk did not ask for came from outside (lock screen,
 * headset, the phone) and is handed to `onOutsidePause` or `onOutsidePlay`. A track that
 * cannot go on (an error, or a stall that lasts) is handed to `onFailed`, once.
 */
export class TrackPlayer {
  /**
   * @param {string} url the track (`session.track`)
   * @param {{onOutsidePause?: (trackMs: number) => void, onOutsidePlay?: (trackMs: number) => void, onEnded?: () => void,
   *   onFailed?: (why: string) => void}} [handlers]
   * @param {HTMLMediaElement|null} [element] the element to play on (a test's stand-in); a new <audio> in the page when not given
   */
  constructor(url, handlers = {}, element = null) {
    this.url = url;
    this.handlers = handlers;
    this.expect = "idle";
    this.settleUntil = 0;
    this.lastSeek = null;
    this.seekLagMs = 0;
    this.failed = false;
    /** Where the element was last seen moving while it should play, and when (for `checkStall`). */
    this.progress = null;
    this.element = element || document.createElement("audio");
    this.element.id = "walk-track";
    // Buffered ahead where the phone allows (iOS loads nothing before the tap; it streams then).
    this.element.preload = "auto";
    this.element.src = url;
    this.onPause = () => {
      if (this.expect === "playing" && !this.element.ended) this.handlers.onOutsidePause?.(this.trackMs);
    };
    this.onPlay = () => {
      if (this.expect === "paused") this.handlers.onOutsidePlay?.(this.trackMs);
    };
    this.onEnded = () => this.handlers.onEnded?.();
    // A Range request that failed mid-walk (offline before the whole track was kept): the
    // element stops for good, so the walk must hear its cues another way.
    this.onError = () => this.fail("error");
    this.element.addEventListener("pause", this.onPause);
    this.element.addEventListener("play", this.onPlay);
    this.element.addEventListener("ended", this.onEnded);
    this.element.addEventListener("error", this.onError);
    // In the page (not shown: no controls), so it outlives screens and tests can find it.
    if (!element) document.body.append(this.element);
  }

  /** The element's position in ms of track time. */
  get trackMs() {
    return this.element.currentTime * 1000;
  }

  /** The track's length in ms, once the element knows it (NaN before). */
  get durationMs() {
    return this.element.readyState >= HAVE_METADATA && Number.isFinite(this.element.duration) ? this.element.duration * 1000 : NaN;
  }

  /** True while the element makes sound (or is about to, between play() and its first frame). */
  get playing() {
    return !this.element.paused && !this.element.ended;
  }

  /**
   * Find out whether the track can be played: its first bytes answer (from the server, or
   * offline from the service worker's cache). The element's own loading is not waited for:
   * iOS loads no media before a tap, and a long track streams on while it plays.
   * @param {number} [waitMs] how long to wait for an answer before taking it as no
   * @returns {Promise<boolean>} false when it cannot be had (then the walk plays clips)
   */
  async ready(waitMs = TRACK_WAIT_MS) {
    if (this.element.error) return false;
    if (this.element.readyState >= HAVE_METADATA) return true;
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), waitMs));
    const probe = fetch(this.url, { headers: { Range: FIRST_BYTES } }).catch(() => null);
    const response = await Promise.race([probe, timeout]);
    return Boolean(response && response.ok);
  }

  /**
   * Play from a track position. Call inside a tap the first time: that is what lets the
   * phone play the element later without one (the unlock).
   * @param {number} trackMs
   * @returns {Promise<boolean>} true when it plays; false when the phone wants a tap
   */
  play(trackMs) {
    this.expect = "playing";
    this.seekTo(trackMs);
    // Starting takes longer than a seek while playing: its lateness is not a seek's to learn.
    this.lastSeek = null;
    let started;
    try {
      started = this.element.play();
    } catch {
      return Promise.resolve(false);
    }
    return Promise.resolve(started).then(() => true, (error) => {
      console.info("The walk's track needs a tap to play:", error.message);
      if (this.expect === "playing") this.expect = "blocked";
      return false;
    });
  }

  /**
   * When the element really started playing from `fromMs` (its first frames come a few tens
   * of ms after play()), as the performance.now() time it played `fromMs`: a walk started at
   * that moment needs no seek to be on its clock. Null when it has not started in time.
   * @param {number} fromMs the track position play() was given
   * @returns {Promise<number|null>}
   */
  async startedAt(fromMs) {
    const deadline = performance.now() + START_WAIT_MS;
    while (performance.now() < deadline && this.expect === "playing") {
      const moved = this.trackMs - fromMs;
      if (!this.element.paused && moved >= START_MOVED_MS) return performance.now() - moved;
      await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
    }
    return null;
  }

  /**
   * Pause at a track position (the walk's), so a resume goes on from there.
   * @param {number} [trackMs] where the walk paused; the element's own position when omitted
   */
  pause(trackMs) {
    this.expect = "paused";
    if (!this.element.paused) this.element.pause();
    if (typeof trackMs === "number") this.steer(trackMs);
  }

  /** Stop for good (the walk is over); what is being said may finish when `letFinish`. */
  stop(letFinish = false) {
    this.expect = "idle";
    if (!letFinish && !this.element.paused) this.element.pause();
  }

  /**
   * Keep the element on the walk's clock: seek when it is more than the threshold off.
   * @param {number} trackMs where the walk's clock says the track is now
   * @returns {boolean} true when it had to seek
   */
  steer(trackMs) {
    const element = this.element;
    if (element.seeking || performance.now() < this.settleUntil) return false;
    if (this.expect === "playing" && (element.paused || element.readyState < HAVE_FUTURE_DATA)) return false;
    const offMs = this.trackMs - Math.max(trackMs, 0);
    if (this.lastSeek && this.expect === "playing") {
      // A seek made while playing lands late by the time the element takes to play again:
      // what is left of it now is learnt, so the next seek aims that much further ahead.
      this.seekLagMs = Math.min(Math.max(this.lastSeek.lagMs - offMs, 0), MAX_SEEK_LAG_MS);
    }
    this.lastSeek = null;
    if (Math.abs(offMs) <= STEER_THRESHOLD_MS) return false;
    this.seekTo(trackMs);
    return true;
  }

  /** Move the element; while playing, aim as far ahead as seeks have landed late before. */
  seekTo(trackMs) {
    const playing = this.expect === "playing";
    const lagMs = playing ? this.seekLagMs : 0;
    const target = Math.max(0, trackMs + lagMs);
    const limit = this.durationMs;
    this.element.currentTime = (Number.isFinite(limit) ? Math.min(target, limit) : target) / 1000;
    this.lastSeek = playing ? { lagMs } : null;
    this.settleUntil = performance.now() + SEEK_SETTLE_MS;
  }

  /**
   * Say once that the track cannot go on (before the element is let go of).
   * @param {string} why "error" or "stalled"
   */
  fail(why) {
    if (this.failed || this.expect === "idle") return;
    this.failed = true;
    console.warn(`The walk's track ${why === "error" ? "failed" : "stalled"}; cues play as clips.`);
    this.handlers.onFailed?.(why);
  }

  /**
   * Look whether the element that should be playing has stood still too long (a stall the
   * element itself may never report as an error); calls `onFailed` when it has.
   * @param {number} [now] performance.now() time of the look
   * @returns {boolean} true when the track has failed
   */
  checkStall(now = performance.now()) {
    const element = this.element;
    if (this.failed) return true;
    if (this.expect !== "playing" || element.paused || element.ended) {
      this.progress = null;
      return false;
    }
    if (!this.progress || this.progress.trackMs !== this.trackMs) {
      this.progress = { trackMs: this.trackMs, at: now };
      return false;
    }
    if (now - this.progress.at <= STALL_GIVE_UP_MS) return false;
    this.fail("stalled");
    return true;
  }

  /** Let go of the element. */
  dispose() {
    this.expect = "idle";
    this.element.pause();
    this.element.removeEventListener("pause", this.onPause);
    this.element.removeEventListener("play", this.onPlay);
    this.element.removeEventListener("ended", this.onEnded);
    this.element.removeEventListener("error", this.onError);
    this.element.removeAttribute("src");
    this.element.load();
    this.element.remove();
  }
}
