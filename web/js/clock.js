// The server's clock as seen from the phone: NTP-style ping/pong, keeping the lowest round trips.

/** How many recent round trips are remembered. */
export const SAMPLE_WINDOW = 24;
/** How many of the fastest round trips the estimate is the median of. */
export const BEST_SAMPLES = 3;

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

  /** The best estimate of `server time - performance.now()` in ms, or null before any message. */
  get offset() {
    if (!this.samples.length) return this.roughOffset;
    const best = [...this.samples].sort((a, b) => a.rtt - b.rtt).slice(0, BEST_SAMPLES);
    const offsets = best.map((s) => s.offset).sort((a, b) => a - b);
    return offsets[Math.floor(offsets.length / 2)];
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
