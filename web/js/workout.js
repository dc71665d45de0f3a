// Workout maths on plain data: a plan's kinds, totals and speeds. No DOM, no I/O. Where a walker is in a
// plan (position, segmentStarts) is walkclock.js's, loaded with the walk.

import { N_, language, number, t } from "./i18n.js";

/** How each segment kind is shown: its name in lists (the player shows it in capitals), in English; kindInfo translates. */
export const KINDS = Object.freeze({
  warmup: { label: N_("Warm-up"), arrow: "up" },
  forward: { label: N_("Forward"), arrow: "up" },
  reverse: { label: N_("Reverse"), arrow: "down" },
  rest: { label: N_("Rest"), arrow: "none" },
  cooldown: { label: N_("Cool-down"), arrow: "up" },
});

/**
 * The display facts of a segment kind (unknown kinds are shown as their own name).
 * @param {string} kind
 * @returns {{word: string, label: string, arrow: string}}
 */
export function kindInfo(kind) {
  const known = KINDS[kind];
  const label = known ? t(known.label) : String(kind);
  return { word: label.toLocaleUpperCase(language()), label, arrow: known ? known.arrow : "none" };
}

/**
 * Total and backward seconds of a list of segments.
 * @param {Array<{kind: string, seconds: number}>} segments
 * @returns {{total: number, reverse: number}}
 */
export function totals(segments) {
  let total = 0;
  let reverse = 0;
  for (const segment of segments) {
    total += segment.seconds;
    if (segment.kind === "reverse") reverse += segment.seconds;
  }
  return { total, reverse };
}

/** Kilometres in a mile: the server's phrases use the same figure (server/phrases.py). */
export const KM_PER_MILE = 1.609344;

/** The speed units a walker can choose, as the settings store them and the screen shows them. */
export const SPEED_UNITS = Object.freeze({ mph: "mph", kmh: "km/h" });

/**
 * A speed in mph in the walker's units, to the tenth the coach says it.
 * @param {number} mph
 * @param {string} [units] "mph" or "kmh"
 * @returns {number}
 */
export function speedIn(mph, units = "mph") {
  return Math.round((units === "kmh" ? mph * KM_PER_MILE : mph) * 10) / 10;
}

/**
 * A speed typed in the walker's units back in mph, to the tenth plans keep.
 * @param {number} value
 * @param {string} [units] "mph" or "kmh"
 * @returns {number}
 */
export function speedToMph(value, units = "mph") {
  return Math.round((units === "kmh" ? value / KM_PER_MILE : value) * 10) / 10;
}

/**
 * A speed as the hint shows it, in the walker's units and language: "1.5 mph", "2,4 km/h".
 * @param {number|undefined} mph
 * @param {string} [units] "mph" or "kmh"
 * @returns {string}
 */
export function speedText(mph, units = "mph") {
  if (typeof mph !== "number") return "";
  return `${number(speedIn(mph, units))} ${SPEED_UNITS[units] || SPEED_UNITS.mph}`;
}
