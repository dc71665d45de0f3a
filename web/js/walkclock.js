// The walk clock: a walk's state, position and cue dues as a pure function of its event log
// and now. The one statement of the clock rules in JavaScript; server/walkclock.py says the
// same in Python and tests/fixtures/walk_clock.json checks both. No DOM, no I/O.

import { roundParts } from "./rounding.js";

// The one rounding rule lives in rounding.js (the page loads it without the walk clock); it is also offered from here.
export { roundParts };

/**
 * Where the walker is in a plan after `elapsedMs` of the walk's time.
 * @param {Array<{kind: string, seconds: number, speed_mph?: number}>} segments
 * @param {number} elapsedMs the walk's time walked (pauses excluded)
 * @returns {{index: number, segment: object|null, next: object|null, segmentElapsedMs: number,
 *   segmentRemainingMs: number, totalMs: number, elapsedMs: number, remainingMs: number, fraction: number}}
 */
export function position(segments, elapsedMs) {
  const starts = segmentStarts(segments);
  const totalMs = starts[starts.length - 1];
  if (!segments.length) {
    return { index: -1, segment: null, next: null, segmentElapsedMs: 0, segmentRemainingMs: 0, totalMs, elapsedMs: 0, remainingMs: 0, fraction: 0 };
  }
  const clamped = Math.min(Math.max(0, elapsedMs), totalMs);
  const index = segmentIndex(starts, clamped);
  return {
    index,
    segment: segments[index],
    next: segments[index + 1] || null,
    segmentElapsedMs: clamped - starts[index],
    segmentRemainingMs: Math.max(0, starts[index + 1] - clamped),
    totalMs,
    elapsedMs: clamped,
    remainingMs: totalMs - clamped,
    fraction: totalMs ? clamped / totalMs : 0,
  };
}

/**
 * The offset at which each segment starts, then the plan's end.
 * @param {Array<{seconds: number}>} segments
 * @returns {number[]}
 */
export function segmentStarts(segments) {
  const starts = [0];
  for (const segment of segments) starts.push(starts[starts.length - 1] + segment.seconds * 1000);
  return starts;
}

/**
 * API (the phone codes against these names; server/walkclock.py has them in snake_case):
 *
 *   replay(starts, events, leadMs, endMs?) -> Walk     throws WalkRefused at the first event that does not apply
 *   step(walk, starts, event, leadMs, endMs?) -> Walk  the walk after one event (the walk given is not changed)
 *   positionMs(walk, now) -> number                    ms into the plan; negative during the start lead, 0 before start
 *   segmentIndex(starts, positionMs) -> number         clamped to the first and last segment
 *   dueMs(walk, offsetMs) -> number                    started_at + offset_ms + shift_ms
 *   endAt(walk, endOffsetMs) -> number|null            when a running walk ends on its own
 *   walkEndMs(starts, offsets) -> number               the plan's end, or its last cue if later (pass as endMs)
 *   pendingFrom(walk, offsets, positionMs) -> number   index of the first cue still to be said
 *   settle(walk, endOffsetMs, now) -> Walk             a running walk past its end, completed at its end
 *   finish(walk, at, endedBy) -> Walk                  end the walk at `at` ("complete" or "stopped")
 *   view(walk, starts, offsets, now) -> {state, position_ms, segment, next_seq, dues: [{seq, due}], end_at, ended_by}
 *   summarize(walk, starts, kinds) -> summary          as the server stores it (seconds to a tenth)
 *   READY_WALK, WalkRefused, CONTROLS, EVENT_TYPES
 *
 * Times are epoch ms of the server clock. starts = segment start offsets with the plan's end
 * last (segmentStarts below); offsets = each cue's offset_ms in timeline order (index
 * = the cue's seq). Event = {type: "start"|"pause"|"resume"|"skip"|"stop"|"finish", at, ended_by?}
 * with an integer `at`. Walk = {state: "ready"|"running"|"paused"|"finished", started_at,
 * paused_at, shift_ms, skips: [{segment, from_ms, to_ms, next_ms}], finished_at, ended_by,
 * last_at} (plain JSON, the same shape as the server's).
 *
 * Rules: start takes effect leadMs after the tap; pause freezes the position; resume moves
 * every later cue by the time paused; skip jumps to the next segment's start minus leadMs
 * (refused with "segment_ending" when that is not ahead; during the start lead the walk starts
 * at the skip); stop ends the walk; a running walk completes by itself at its end, so an event
 * at or after the end (other than finish) is refused "finished"; an event earlier than the
 * last is refused "bad_time". A phone keeping an offline log should step() each event and keep
 * only those accepted: the server replays the log with these rules (PUT /api/sessions/offline).
 */

/** A walk nobody has started yet. */
export const READY = "ready";
/** A walk whose clock runs (also during the start lead). */
export const RUNNING = "running";
/** A walk whose position is frozen. */
export const PAUSED = "paused";
/** A walk that has ended: stopped, or complete at its end. */
export const FINISHED = "finished";
/** The events a walker makes. */
export const CONTROLS = Object.freeze(["start", "pause", "resume", "skip", "stop"]);
/** Every event a log may hold: the walker's, and the server's own finish. */
export const EVENT_TYPES = Object.freeze([...CONTROLS, "finish"]);
/** How a walk that reached its end ended. */
export const ENDED_COMPLETE = "complete";
/** How a walk that was stopped (or paused too long) ended. */
export const ENDED_STOPPED = "stopped";
const ENDINGS = [ENDED_COMPLETE, ENDED_STOPPED];

/** Segment kinds counted as walked forward (rest is standing at the rail, reverse is backward). */
const FORWARD_KINDS = ["warmup", "forward", "cooldown"];
const BACKWARD_KINDS = ["reverse"];
const REST_KINDS = ["rest"];
const MS_PER_TENTH = 100;
const TENTHS_PER_S = 10;

/** An event that does not apply to the walk as it is; `code` names the reason. */
export class WalkRefused extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = "WalkRefused";
    this.code = code;
    /** @type {number|undefined} which event of a log was refused (set by replay) */
    this.index = undefined;
  }
}

/**
 * A walk's state and clock (plain JSON, the same shape as the server's).
 * @typedef {{state: string, started_at: number|null, paused_at: number|null, shift_ms: number,
 *   skips: ReadonlyArray<{segment: number, from_ms: number, to_ms: number, next_ms: number}>,
 *   finished_at: number|null, ended_by: string|null, last_at: number|null}} Walk
 */

/**
 * A walk nobody has started.
 * @type {Readonly<Walk>}
 */
export const READY_WALK = Object.freeze({
  state: READY, started_at: null, paused_at: null, shift_ms: 0, skips: Object.freeze([]),
  finished_at: null, ended_by: null, last_at: null,
});

const isLive = (state) => state === RUNNING || state === PAUSED;

/**
 * Where a walk ends on its own: the plan's end, or its last cue if that was pushed later.
 * @param {number[]} starts
 * @param {number[]} [offsets]
 */
export function walkEndMs(starts, offsets = []) {
  return Math.max(starts[starts.length - 1], ...offsets);
}

/**
 * How far into the plan the walker is (negative during the start lead; 0 before start).
 * @param {object} walk
 * @param {number} now
 */
export function positionMs(walk, now) {
  if (walk.started_at === null || walk.started_at === undefined) return 0;
  if (walk.paused_at !== null && walk.paused_at !== undefined) return walk.paused_at - walk.started_at - walk.shift_ms;
  if (walk.state === FINISHED && walk.finished_at !== null) return walk.finished_at - walk.started_at - walk.shift_ms;
  return now - walk.started_at - walk.shift_ms;
}

/**
 * The segment a position falls in (the first before the start, the last at the end).
 * @param {number[]} starts
 * @param {number} position
 */
export function segmentIndex(starts, position) {
  let index = 0;
  while (index < starts.length - 2 && starts[index + 1] <= position) index += 1;
  return index;
}

/**
 * The wall-clock time a cue at `offsetMs` is due, as the clock stands (the walk must have started).
 * @param {object} walk
 * @param {number} offsetMs
 */
export function dueMs(walk, offsetMs) {
  return walk.started_at + offsetMs + walk.shift_ms;
}

/**
 * When a running walk ends on its own (null unless running).
 * @param {object} walk
 * @param {number} endOffsetMs
 */
export function endAt(walk, endOffsetMs) {
  return walk.state === RUNNING ? walk.started_at + endOffsetMs + walk.shift_ms : null;
}

/** No cue before this offset is said any more (the start of the segment last skipped to). */
function floorMs(walk) {
  return walk.skips.length ? walk.skips[walk.skips.length - 1].next_ms : 0;
}

/** The first index whose offset is above `value` (bisect_right). */
function firstAbove(offsets, value) {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose offset is at least `value` (bisect_left). */
function firstAtLeast(offsets, value) {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index of the first cue still to be said from `position` on (offsets sorted).
 * @param {object} walk
 * @param {number[]} offsets
 * @param {number} position
 */
export function pendingFrom(walk, offsets, position) {
  return Math.max(firstAbove(offsets, position), firstAtLeast(offsets, floorMs(walk)));
}

function refuseIfFinished(walk) {
  if (walk.state === FINISHED) throw new WalkRefused("finished", "This workout has finished; start a new session.");
}

/**
 * End the walk at `at` (a paused one ends with its pause counted).
 * @param {object} walk
 * @param {number} at
 * @param {string} endedBy "complete" or "stopped"
 */
export function finish(walk, at, endedBy) {
  const shift = walk.paused_at !== null && walk.paused_at !== undefined ? walk.shift_ms + at - walk.paused_at : walk.shift_ms;
  return { ...walk, state: FINISHED, paused_at: null, shift_ms: shift, finished_at: at, ended_by: endedBy };
}

function skipped(walk, starts, at, leadMs) {
  refuseIfFinished(walk);
  if (!isLive(walk.state)) throw new WalkRefused("not_started", "Cannot skip: the workout has not started yet.");
  let position = positionMs(walk, at);
  let startedAt = walk.started_at;
  if (position < 0) {
    // Skipped before the clock reached the start: the walk starts now, at the skip.
    startedAt += position;
    position = 0;
  }
  const segment = segmentIndex(starts, position);
  const nextMs = starts[segment + 1];
  const toMs = nextMs - leadMs;
  if (toMs <= position) throw new WalkRefused("segment_ending", "The next segment starts in a moment already.");
  const skip = { segment, from_ms: position, to_ms: toMs, next_ms: nextMs };
  return { ...walk, started_at: startedAt, shift_ms: walk.shift_ms - (toMs - position), skips: [...walk.skips, skip] };
}

/**
 * The walk after one more event, or WalkRefused (the walk given is never changed).
 * @param {object} walk
 * @param {number[]} starts segment start offsets, the plan's end last
 * @param {{type: string, at: number, ended_by?: string}} event
 * @param {number} leadMs
 * @param {number} [endMs] where the walk ends on its own (walkEndMs); the plan's end when not given
 * @returns {object}
 */
export function step(walk, starts, event, leadMs, endMs) {
  const kind = event.type;
  if (!EVENT_TYPES.includes(kind)) {
    throw new WalkRefused("bad_event", `Unknown event '${String(kind).slice(0, 40)}'; expected one of ${EVENT_TYPES.join(", ")}.`);
  }
  const at = event.at;
  if (!Number.isInteger(at)) throw new WalkRefused("bad_time", "An event's at must be a whole number of milliseconds.");
  if (walk.last_at !== null && walk.last_at !== undefined && at < walk.last_at) {
    throw new WalkRefused("bad_time", "This event is earlier than the walk's last event.");
  }
  const end = endAt(walk, endMs ?? starts[starts.length - 1]);
  if (kind === "finish") {
    const endedBy = event.ended_by ?? ENDED_COMPLETE;
    if (!ENDINGS.includes(endedBy)) throw new WalkRefused("bad_event", `A finish ends the walk as ${ENDINGS.join(" or ")}.`);
    refuseIfFinished(walk);
    return { ...finish(walk, at, endedBy), last_at: at };
  }
  let next = end !== null && end <= at ? finish(walk, end, ENDED_COMPLETE) : walk;
  refuseIfFinished(next);
  if (kind === "start") {
    if (next.state !== READY) throw new WalkRefused("already_started", "This workout has already started.");
    next = { ...next, state: RUNNING, started_at: at + leadMs };
  } else if (kind === "pause") {
    if (next.state !== RUNNING) {
      const detail = next.state === READY ? "has not started yet" : "is already paused";
      throw new WalkRefused("not_running", `Cannot pause: the workout ${detail}.`);
    }
    next = { ...next, state: PAUSED, paused_at: at };
  } else if (kind === "resume") {
    if (next.state !== PAUSED) throw new WalkRefused("not_paused", "Cannot resume: the workout is not paused.");
    next = { ...next, state: RUNNING, paused_at: null, shift_ms: next.shift_ms + at - next.paused_at };
  } else if (kind === "skip") {
    next = skipped(next, starts, at, leadMs);
  } else {
    next = finish(next, at, ENDED_STOPPED);
  }
  return { ...next, last_at: at };
}

/**
 * The walk an event log describes, from ready; throws WalkRefused at the first event that does not apply
 * (its `index` says which).
 * @param {number[]} starts
 * @param {Array<{type: string, at: number}>} events
 * @param {number} leadMs
 * @param {number} [endMs]
 */
export function replay(starts, events, leadMs, endMs) {
  let walk = READY_WALK;
  events.forEach((event, index) => {
    try {
      walk = step(walk, starts, event, leadMs, endMs);
    } catch (error) {
      if (error instanceof WalkRefused) error.index = index;
      throw error;
    }
  });
  return walk;
}

/**
 * The walk as it stands at `now`: a running walk whose end has passed has completed at its end.
 * @param {object} walk
 * @param {number} endOffsetMs
 * @param {number} now
 */
export function settle(walk, endOffsetMs, now) {
  const end = endAt(walk, endOffsetMs);
  return end !== null && end <= now ? finish(walk, end, ENDED_COMPLETE) : walk;
}

/**
 * What a phone shows and plays at `now`. position_ms is negative during the start lead;
 * next_seq is the index (the timeline's seq) of the first cue still to be said, null when none;
 * dues lists every pending cue with its due (while paused: where it would fall if resumed now).
 * @param {object} walk
 * @param {number[]} starts
 * @param {number[]} offsets
 * @param {number} now
 * @returns {{state: string, position_ms: number, segment: number, next_seq: number|null,
 *   dues: Array<{seq: number, due: number}>, end_at: number|null, ended_by: string|null}}
 */
export function view(walk, starts, offsets, now) {
  const endOffset = walkEndMs(starts, offsets);
  const settled = settle(walk, endOffset, now);
  let position = positionMs(settled, now);
  if (settled.state === FINISHED) position = Math.min(position, endOffset);
  let dues = [];
  let nextSeq = null;
  if (settled.state === READY) {
    nextSeq = offsets.length ? 0 : null;
  } else if (isLive(settled.state)) {
    const first = pendingFrom(settled, offsets, position);
    nextSeq = first < offsets.length ? first : null;
    const pausedFor = settled.paused_at !== null && settled.paused_at !== undefined ? now - settled.paused_at : 0;
    dues = offsets.slice(first).map((offset, i) => ({ seq: first + i, due: dueMs(settled, offset) + pausedFor }));
  }
  return {
    state: settled.state,
    position_ms: position,
    segment: segmentIndex(starts, position),
    next_seq: nextSeq,
    dues,
    end_at: endAt(settled, endOffset),
    ended_by: settled.ended_by ?? null,
  };
}

/**
 * Milliseconds as seconds to a tenth, halves rounded up (as the server rounds).
 * @param {number} ms
 */
export function seconds(ms) {
  return Math.floor((Math.trunc(ms) + MS_PER_TENTH / 2) / MS_PER_TENTH) / TENTHS_PER_S;
}

/** How far into the plan a finished walk got: all of it when completed, else where it stopped. */
function finalMs(walk, totalMs) {
  if (walk.started_at === null || walk.started_at === undefined) return 0;
  if (walk.ended_by === ENDED_COMPLETE) return totalMs;
  return Math.min(Math.max(walk.finished_at - walk.started_at - walk.shift_ms, 0), totalMs);
}

/**
 * What the walker did in a finished walk (the server's summary): forward, backward and rest
 * seconds walked, pauses, skips, duration and each segment's seconds.
 * @param {object} walk a finished walk
 * @param {number[]} starts
 * @param {string[]} kinds each segment's kind
 */
export function summarize(walk, starts, kinds) {
  const totalMs = starts[starts.length - 1];
  const final = finalMs(walk, totalMs);
  const walked = kinds.map((_, index) => {
    const lo = starts[index];
    const hi = Math.min(starts[index + 1], final);
    let span = Math.max(hi - lo, 0);
    for (const skip of walk.skips) {
      span -= Math.max(Math.min(hi, Math.max(skip.to_ms, 0)) - Math.max(lo, Math.max(skip.from_ms, 0)), 0);
    }
    return Math.max(span, 0);
  });
  // shift_ms is the time paused less the time skipped, so the time paused is recovered from it.
  const paused = Math.max(walk.shift_ms + walk.skips.reduce((total, s) => total + s.to_ms - s.from_ms, 0), 0);
  // One rounding (roundParts): each segment and the pause to a tenth of a second, sharing the
  // rounded whole; every other figure is a sum of those, so they all add up.
  const rounded = roundParts([...walked, paused].map(Math.trunc), MS_PER_TENTH);
  const pausedTenths = rounded.pop();
  const sum = (list) => rounded.reduce((total, t, i) => total + (list.includes(kinds[i]) ? t : 0), 0) / TENTHS_PER_S;
  const walkedTenths = rounded.reduce((a, b) => a + b, 0);
  return {
    ended_by: walk.ended_by,
    planned_seconds: seconds(totalMs),
    duration_seconds: (walkedTenths + pausedTenths) / TENTHS_PER_S,
    walked_seconds: walkedTenths / TENTHS_PER_S,
    forward_seconds: sum(FORWARD_KINDS),
    backward_seconds: sum(BACKWARD_KINDS),
    rest_seconds: sum(REST_KINDS),
    paused_seconds: pausedTenths / TENTHS_PER_S,
    skipped_segments: [...new Set(walk.skips.map((s) => s.segment))].sort((a, b) => a - b),
    segments_walked: rounded.map((t) => t / TENTHS_PER_S),
  };
}
