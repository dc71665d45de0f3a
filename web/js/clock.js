// The server's clock as seen from the phone: NTP-style ping/pong, keeping the lowest round trips.
// A busy server (rendering a track, short of CPU) or a busy page holds a ping or its pong up,
// and a round trip held up on one side only gives a wrong offset (by up to half its length):
// only round trips near the fastest count, and the phone keeps pinging until enough have come.

/** How many recent round trips are remembered. */
export const SAMPLE_WINDOW = 24;
/** How many of the fastest round trips the estimate is the median of. */
export const BEST_SAMPLES = 3;
/** A round trip counts only within this factor of the fastest (plus the slack below): a slower one waited somewhere. */
export const NEAR_BEST_FACTOR = 1.5;
/** The slack added to NEAR_BEST_FACTOR times the fastest (round trips of 1-2 ms on one machine vary by more than half). */
export const NEAR_BEST_SLACK_MS = 5;
/** Settled: BEST_SAMPLES round trips near the fastest, and the fastest this quick (its offset is then within half of it). */
export const SETTLED_RTT_MS = 50;
/**
 * Or, on a slower link, their offsets this close together: more pings cannot make a slow link
 * better once they agree, and pings a stall held up and answered together never do (their
 * offsets are spread by half the gap between them).
 */
export const AGREE_MS = 10;
/** A sync (on connecting, at Start) pings this often. */
export const SYNC_GAP_MS = 120;
/** A sync sends at least this many pings (one burst), to find the link's fastest round trip. */
export const SYNC_PINGS_MIN = 6;
/** And on until the estimate is settled, never more than this many (about 3 s: outlasts a busy server's stall). */
export const SYNC_PINGS_MAX = 24;

/**
 * Estimates `server_time - performance.now()` from ping/pong round trips. A round trip's
 * offset error is at most half its duration, so the fastest ones are the ones to trust.
 */
export class ServerClock {
  constructor() {
    /** @type {Array<{rtt: number, offset: number}>} */
    this.samples = [];
    /** Offset from a one-way message (the `hello`), used until a round trip comes back. */
    this.roughOffset = null;
  }

  /**
   * Take a rough offset from a message stamped with the server time (no round trip).
   * @param {number} serverTime epoch ms of the server clock
   * @param {number} [receivedAt] performance.now() when it arrived
   */
  noteServerTime(serverTime, receivedAt = performance.now()) {
    this.roughOffset = serverTime - receivedAt;
  }

  /**
   * Add one ping/pong round trip.
   * @param {number} sentAt performance.now() when the ping left (echoed as `t`)
   * @param {number} serverTime the pong's server_time
   * @param {number} [receivedAt] performance.now() when the pong arrived
   * @returns {number} the round trip in ms
   */
  addSample(sentAt, serverTime, receivedAt = performance.now()) {
    const rtt = receivedAt - sentAt;
    this.samples.push({ rtt, offset: serverTime - (sentAt + receivedAt) / 2 });
    if (this.samples.length > SAMPLE_WINDOW) this.samples.shift();
    return rtt;
  }

  /** True once at least one round trip has been measured. */
  get synced() {
    return this.samples.length > 0;
  }

  /**
   * The `count` fastest round trips, fastest first.
   * @param {number} count
   */
  fastest(count) {
    return [...this.samples].sort((a, b) => a.rtt - b.rtt).slice(0, count);
  }

  /**
   * The round trips the estimate is made of: the fastest BEST_SAMPLES, less any that is not near
   * the fastest (a ping that waited in a busy server gives an offset too high, cues early).
   * @returns {Array<{rtt: number, offset: number}>}
   */
  get trusted() {
    const fastest = this.fastest(BEST_SAMPLES);
    if (!fastest.length) return fastest;
    const limit = fastest[0].rtt * NEAR_BEST_FACTOR + NEAR_BEST_SLACK_MS;
    return fastest.filter((sample) => sample.rtt <= limit);
  }

  /** The best estimate of `server time - performance.now()` in ms, or null before any message. */
  get offset() {
    const trusted = this.trusted;
    if (!trusted.length) return this.roughOffset;
    const offsets = trusted.map((s) => s.offset).sort((a, b) => a - b);
    const middle = Math.floor(offsets.length / 2);
    // An even count (two near the fastest): between the two, not the higher of them.
    return offsets.length % 2 ? offsets[middle] : (offsets[middle - 1] + offsets[middle]) / 2;
  }

  /**
   * True when more round trips would not improve the estimate: BEST_SAMPLES quick ones near the
   * fastest, or else BEST_SAMPLES of the fastest few whose offsets agree (within AGREE_MS): a slower
   * link, or one round trip far quicker than the usual ones, which alone would keep the others out.
   */
  get settled() {
    if (this.trusted.length >= BEST_SAMPLES && this.bestRtt <= SETTLED_RTT_MS) return true;
    const offsets = this.fastest(BEST_SAMPLES + 1).map((sample) => sample.offset).sort((a, b) => a - b);
    // Any BEST_SAMPLES of them next to each other in order, lowest to highest within AGREE_MS.
    return offsets.slice(0, offsets.length - BEST_SAMPLES + 1).some((low, index) => offsets[index + BEST_SAMPLES - 1] - low <= AGREE_MS);
  }

  /**
   * Whether a sync (SYNC_GAP_MS apart) sends another ping: SYNC_PINGS_MIN always, then on
   * until the estimate is settled, never more than SYNC_PINGS_MAX.
   * @param {number} sent pings this sync has sent so far
   */
  wantsSyncPing(sent) {
    if (sent < SYNC_PINGS_MIN) return true;
    return sent < SYNC_PINGS_MAX && !this.settled;
  }

  /** The fastest round trip seen, in ms (how good the estimate can be). */
  get bestRtt() {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.rtt)) : Infinity;
  }

  /**
   * The server time now, in epoch ms.
   * @param {number} [at] a performance.now() value
   * @returns {number}
   */
  serverNow(at = performance.now()) {
    return at + (this.offset ?? performance.timeOrigin);
  }

  /**
   * The performance.now() value at which the server clock reads `serverTime`.
   * @param {number} serverTime
   * @returns {number}
   */
  toLocal(serverTime) {
    return serverTime - (this.offset ?? performance.timeOrigin);
  }
}
