// Numbers as the screens show them, and that add up on screen: a clock's "4:05", the player's
// done and to go, a summary's walked, paused and total, the week's minutes and minutes to go,
// a duration in words. Apart from dom.js so that the first screen loads without them.

import { number, plural } from "./i18n.js";
import { roundParts } from "./rounding.js";

/**
 * A duration as the walker reads it on a clock: "4:05", "1:02:03".
 * @param {number} ms
 * @returns {string}
 */
export function clockText(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

const MS_PER_S = 1000;
/** Summaries give seconds to a tenth: they are shared out in tenths, whole integers. */
const TENTHS_PER_S = 10;
const MINUTES_SHOWN_WHOLE_FROM = 10;

/**
 * The player's "0:05 done, 0:10 to go" as whole seconds that add up to the plan's length:
 * the total is rounded once (halves up), "done" counts whole seconds walked, "to go" is the rest.
 * @param {number} elapsedMs
 * @param {number} totalMs
 * @returns {{done: number, toGo: number}} seconds
 */
export function clockParts(elapsedMs, totalMs) {
  const total = Math.floor((totalMs + MS_PER_S / 2) / MS_PER_S);
  const done = Math.min(Math.max(Math.floor(elapsedMs / MS_PER_S), 0), total);
  return { done, toGo: total - done };
}

/**
 * A walk's summary (seconds to a tenth) as the whole seconds its screens show, shared out by
 * the one rounding rule (roundParts), so forward + backward + rest = walked and
 * walked + paused = total.
 * @param {{walked_seconds?: number, forward_seconds?: number, backward_seconds?: number, paused_seconds?: number}} summary
 * @returns {{walked: number, forward: number, backward: number, rest: number, paused: number, total: number}} seconds
 */
export function walkFigures(summary) {
  const tenths = (value) => Math.max(Math.round((value || 0) * TENTHS_PER_S), 0);
  const walked = tenths(summary.walked_seconds);
  const forward = Math.min(tenths(summary.forward_seconds), walked);
  const backward = Math.min(tenths(summary.backward_seconds), walked - forward);
  const [f, b, rest, paused] = roundParts([forward, backward, walked - forward - backward, tenths(summary.paused_seconds)], TENTHS_PER_S);
  return { walked: f + b + rest, forward: f, backward: b, rest, paused, total: f + b + rest + paused };
}

/**
 * Minutes as the screens show them: to the tenth under 10, whole from 10 (halves up).
 * @param {number} minutes
 * @returns {number}
 */
export function minutesShown(minutes) {
  return minutes >= MINUTES_SHOWN_WHOLE_FROM ? Math.round(minutes) : Math.round(minutes * TENTHS_PER_S) / TENTHS_PER_S;
}

/**
 * A week's forward, backward and total minutes (to a tenth, as the server gives them) as a
 * table row shows them: to the tenth under 10 minutes in all, else whole minutes shared out
 * by the one rounding rule (roundParts), so forward + backward (+ any rest) = total.
 * @param {number} forward
 * @param {number} backward
 * @param {number} total
 * @returns {{forward: number, backward: number, total: number}} minutes
 */
export function weekMinutes(forward, backward, total) {
  const tenths = (value) => Math.max(Math.round((value || 0) * TENTHS_PER_S), 0);
  const all = tenths(total);
  const f = Math.min(tenths(forward), all);
  const b = Math.min(tenths(backward), all - f);
  if (all < MINUTES_SHOWN_WHOLE_FROM * TENTHS_PER_S) return { forward: f / TENTHS_PER_S, backward: b / TENTHS_PER_S, total: all / TENTHS_PER_S };
  const [wholeF, wholeB, other] = roundParts([f, b, all - f - b], TENTHS_PER_S);
  return { forward: wholeF, backward: wholeB, total: wholeF + wholeB + other };
}

/**
 * The minutes still to go to a target, from the figure shown (so shown + to go = target).
 * @param {number} minutes
 * @param {number} target
 * @returns {number}
 */
export function minutesToGo(minutes, target) {
  return Math.max(Math.round((target - minutesShown(minutes)) * TENTHS_PER_S) / TENTHS_PER_S, 0);
}

/**
 * Minutes (a figure the server gives to the tenth) as the screens say them: "42", "4.5", "0.2".
 * @param {number} minutes
 * @returns {string}
 */
export function minutesFigure(minutes) {
  return number(minutesShown(minutes));
}

/**
 * A long duration in words for screen readers and summaries: "4 minutes 5 seconds".
 * @param {number} ms
 * @returns {string}
 */
export function durationWords(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  const parts = [];
  if (minutes) parts.push(plural(minutes, "{n} minute", "{n} minutes"));
  if (seconds || !minutes) parts.push(plural(seconds, "{n} second", "{n} seconds"));
  return parts.join(" ");
}
