// The walker's own plans on plain data: the server's rules (server/plans.py) checked as the
// walker types, lengths as "min:sec" or minutes, speeds in the walker's units, and a plan as a
// file or a link to share. No DOM, no I/O.

import { number, t } from "./i18n.js";
import { KINDS, KM_PER_MILE, speedIn, speedToMph, SPEED_UNITS } from "./workout.js";

/** The server's rules for a plan (server/plans.py); tests/test_web.py checks they match. */
export const PLAN_RULES = Object.freeze({
  MIN_SEGMENT_SECONDS: 5,
  MAX_SEGMENT_SECONDS: 3600,
  MAX_SEGMENTS: 200,
  MAX_PLAN_SECONDS: 4 * 3600,
  MIN_SPEED_MPH: 0.3,
  MAX_SPEED_MPH: 4.0,
  MAX_NAME_LENGTH: 80,
  MAX_DESCRIPTION_LENGTH: 500,
});

/** The kinds of segment, in the order the editor offers them. */
export const SEGMENT_KINDS = Object.freeze(Object.keys(KINDS));

/** What a plan file says it is, so an import can tell it from any other JSON. */
const FILE_TAG = "retrowalk-plan";
const FILE_VERSION = 1;
/** A shared link longer than this is not a plan (200 segments fit in far less). */
const MAX_SHARE_CHARS = 64 * 1024;

/**
 * A length as the editor shows it: "1:30", "0:05", "60:00".
 * @param {number} seconds
 * @returns {string}
 */
export function lengthText(seconds) {
  return `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;
}

/**
 * A length as typed: "1:30" (min:sec), "1.5" or "2" (minutes), "45s" (seconds).
 * @param {string} text
 * @returns {{seconds: number, error?: undefined}|{error: string, seconds?: undefined}} one or the other
 */
export function parseLength(text) {
  const value = String(text).trim().replace(",", ".");
  let seconds = NaN;
  let match;
  if (!value) return { error: t("Give a length, such as 1:30 or 2.") };
  if ((match = value.match(/^(\d{1,3}):([0-5]?\d)$/))) seconds = Number(match[1]) * 60 + Number(match[2]);
  else if ((match = value.match(/^(\d{1,5})\s*s(ec(onds?)?)?$/i))) seconds = Number(match[1]);
  else if ((match = value.match(/^(\d{0,3}(\.\d+)?)\s*(m|min|minutes?)?$/i)) && match[1] && match[1] !== ".") seconds = Math.round(Number(match[1]) * 60);
  if (!Number.isFinite(seconds)) return { error: t("Write min:sec (1:30) or minutes ({example}).", { example: number(1.5) }) };
  const { MIN_SEGMENT_SECONDS: lo, MAX_SEGMENT_SECONDS: hi } = PLAN_RULES;
  if (seconds < lo) return { error: t("At least {length}: an interval lasts {n} seconds or more.", { length: lengthText(lo), n: lo }) };
  if (seconds > hi) return { error: t("At most {length}: an interval lasts {n} minutes or less.", { length: lengthText(hi), n: hi / 60 }) };
  return { seconds };
}

/**
 * The speeds a walker may type, in their units (the server's mph bounds, rounded inwards).
 * @param {string} units "mph" or "kmh"
 * @returns {[number, number]}
 */
export function speedBounds(units) {
  const { MIN_SPEED_MPH: lo, MAX_SPEED_MPH: hi } = PLAN_RULES;
  if (units !== "kmh") return [lo, hi];
  return [Math.ceil(lo * KM_PER_MILE * 10) / 10, Math.floor(hi * KM_PER_MILE * 10) / 10];
}

/**
 * A treadmill speed as typed, in the walker's units; empty means no hint.
 * @param {string} text
 * @param {string} units "mph" or "kmh"
 * @returns {{mph: number|null}|{error: string}}
 */
export function parseSpeed(text, units) {
  const value = String(text ?? "").trim().replace(",", ".");
  if (!value) return { mph: null };
  const typed = /^\d{0,2}(\.\d+)?$/.test(value) ? Number(value) : NaN;
  const [lo, hi] = speedBounds(units);
  const label = SPEED_UNITS[units] || "mph";
  if (!Number.isFinite(typed)) return { error: t("Speed is a number of {unit}, such as {example}; or leave it empty.", { unit: label, example: number(units === "kmh" ? 2.4 : 1.5) }) };
  if (typed < lo || typed > hi) return { error: t("Speed from {low} to {high} {unit}, or leave it empty.", { low: number(lo), high: number(hi), unit: label }) };
  return { mph: speedToMph(typed, units) };
}

/**
 * A speed in mph as the editor shows it in the walker's units ("" for none).
 * @param {number|null|undefined} mph
 * @param {string} units
 * @returns {string}
 */
export function speedField(mph, units) {
  return typeof mph === "number" ? number(speedIn(mph, units)) : "";
}

/**
 * Check a plan being edited, field by field, as the server will.
 * @param {{name: string, description: string, segments: Array<{kind: string, length: string, speed: string}>}} draft
 * @param {string} units
 * @returns {{plan: {name: string, description: string, segments: Array<object>}|null,
 *   errors: {name?: string, description?: string, plan?: string, segments: Array<{length?: string, speed?: string}>},
 *   seconds: number, backward: number, count: number}}
 *   `plan` is the body to send when there is no error; `seconds`/`backward` count the valid lengths
 */
export function checkDraft(draft, units) {
  const errors = { segments: [] };
  const name = draft.name.trim();
  if (!name) errors.name = t("Give the plan a name.");
  else if (name.length > PLAN_RULES.MAX_NAME_LENGTH) errors.name = t("At most {max} characters (now {n}).", { max: PLAN_RULES.MAX_NAME_LENGTH, n: name.length });
  const description = draft.description.trim();
  if (description.length > PLAN_RULES.MAX_DESCRIPTION_LENGTH) {
    errors.description = t("At most {max} characters (now {n}).", { max: PLAN_RULES.MAX_DESCRIPTION_LENGTH, n: description.length });
  }
  const segments = [];
  let seconds = 0;
  let backward = 0;
  let bad = 0;
  for (const raw of draft.segments) {
    const length = parseLength(raw.length);
    const speed = parseSpeed(raw.speed, units);
    const segmentErrors = {};
    if ("error" in length) segmentErrors.length = length.error;
    if ("error" in speed) segmentErrors.speed = speed.error;
    if (!SEGMENT_KINDS.includes(raw.kind)) segmentErrors.kind = t("Pick a kind.");
    errors.segments.push(segmentErrors);
    if (Object.keys(segmentErrors).length) bad += 1;
    if ("seconds" in length) {
      seconds += length.seconds;
      if (raw.kind === "reverse") backward += length.seconds;
      const segment = { kind: raw.kind, seconds: length.seconds };
      if ("mph" in speed && speed.mph !== null) segment.speed_mph = speed.mph;
      segments.push(segment);
    }
  }
  if (!draft.segments.length) errors.plan = t("Add at least one interval.");
  else if (draft.segments.length > PLAN_RULES.MAX_SEGMENTS) errors.plan = t("At most {n} intervals.", { n: PLAN_RULES.MAX_SEGMENTS });
  else if (seconds > PLAN_RULES.MAX_PLAN_SECONDS) errors.plan = t("At most {n} hours in all (now {length}).", { n: PLAN_RULES.MAX_PLAN_SECONDS / 3600, length: lengthText(seconds) });
  const ok = !errors.name && !errors.description && !errors.plan && !bad;
  return { plan: ok ? { name, description, segments } : null, errors, seconds, backward, count: draft.segments.length };
}

/**
 * A plan as the editor holds it: text fields, in the walker's units.
 * @param {{name?: string, description?: string, segments?: Array<object>}} plan
 * @param {string} units
 * @returns {{name: string, description: string, segments: Array<{kind: string, length: string, speed: string}>}}
 */
export function draftOf(plan, units) {
  return {
    name: plan.name || "",
    description: plan.description || "",
    segments: (plan.segments || []).map((s) => ({ kind: s.kind, length: lengthText(s.seconds), speed: speedField(s.speed_mph, units) })),
  };
}

/**
 * The name of a copy, kept within the name limit and unlike any name taken: "Evening walk (copy)",
 * then "Evening walk (copy 2)"; a copy of a copy is numbered from its original's name.
 * @param {string} name
 * @param {Iterable<string>} [taken] the names of the walker's plans
 * @returns {string}
 */
export function copyName(name, taken = []) {
  const names = new Set(taken);
  const copyOf = (n) => (n === 1 ? t("{name} (copy)", { name: "" }) : t("{name} (copy {n})", { name: "", n }));
  // The original's name, without a copy mark this function added before.
  let base = name;
  for (let n = 1; n < 100; n += 1) if (base.endsWith(copyOf(n))) { base = base.slice(0, -copyOf(n).length); break; }
  for (let n = 1; ; n += 1) {
    const suffix = copyOf(n);
    const candidate = base.slice(0, PLAN_RULES.MAX_NAME_LENGTH - suffix.length) + suffix;
    if (!names.has(candidate)) return candidate;
  }
}

/**
 * A plan from a file or a link, checked by the server's rules: the plan to save, or what is wrong.
 * Extra fields of the API's own plan JSON (id, totals) are dropped, so a saved answer imports too.
 * @param {any} raw
 * @returns {{plan: {name: string, description: string, segments: Array<object>}|null, problems: string[]}}
 */
export function planFromData(raw) {
  const problems = [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { plan: null, problems: [t("This is not a RetroWalk plan.")] };
  if (raw.kind !== undefined && raw.kind !== FILE_TAG) problems.push(t("This is not a RetroWalk plan."));
  const name = typeof raw.name === "string" ? raw.name.trim() : "";
  if (!name) problems.push(t("The plan has no name."));
  else if (name.length > PLAN_RULES.MAX_NAME_LENGTH) problems.push(t("The name is longer than {n} characters.", { n: PLAN_RULES.MAX_NAME_LENGTH }));
  const description = typeof raw.description === "string" ? raw.description.trim() : "";
  if (description.length > PLAN_RULES.MAX_DESCRIPTION_LENGTH) problems.push(t("The description is longer than {n} characters.", { n: PLAN_RULES.MAX_DESCRIPTION_LENGTH }));
  const list = raw.segments;
  const segments = [];
  if (!Array.isArray(list) || !list.length) problems.push(t("The plan has no intervals."));
  else if (list.length > PLAN_RULES.MAX_SEGMENTS) problems.push(t("The plan has more than {n} intervals.", { n: PLAN_RULES.MAX_SEGMENTS }));
  else {
    list.forEach((s, index) => {
      const where = t("Interval {n}", { n: index + 1 });
      const { MIN_SEGMENT_SECONDS: lo, MAX_SEGMENT_SECONDS: hi, MIN_SPEED_MPH: slo, MAX_SPEED_MPH: shi } = PLAN_RULES;
      if (!s || typeof s !== "object") { problems.push(t("{interval} is not an interval.", { interval: where })); return; }
      if (!SEGMENT_KINDS.includes(s.kind)) problems.push(t("{interval}: the kind must be one of {kinds}.", { interval: where, kinds: SEGMENT_KINDS.join(", ") }));
      if (!Number.isInteger(s.seconds) || s.seconds < lo || s.seconds > hi) problems.push(t("{interval} must last {low} to {high} whole seconds.", { interval: where, low: lo, high: hi }));
      const speed = s.speed_mph;
      if (speed !== undefined && speed !== null && (typeof speed !== "number" || !(speed >= slo && speed <= shi))) {
        problems.push(t("{interval}: the speed must be {low} to {high} mph.", { interval: where, low: number(slo), high: number(shi) }));
      }
      const segment = { kind: s.kind, seconds: s.seconds };
      if (typeof speed === "number") segment.speed_mph = Math.round(speed * 10) / 10;
      segments.push(segment);
    });
    const total = segments.reduce((sum, s) => sum + (Number.isInteger(s.seconds) ? s.seconds : 0), 0);
    if (!problems.length && total > PLAN_RULES.MAX_PLAN_SECONDS) problems.push(t("The plan lasts more than {n} hours.", { n: PLAN_RULES.MAX_PLAN_SECONDS / 3600 }));
  }
  return problems.length ? { plan: null, problems } : { plan: { name, description, segments }, problems };
}

/**
 * A plan as a file's text (JSON), the same shape an import reads.
 * @param {{name: string, description?: string, segments: Array<object>}} plan
 * @returns {string}
 */
export function planFileText(plan) {
  const { name, description = "", segments } = plan;
  return `${JSON.stringify({ kind: FILE_TAG, version: FILE_VERSION, name, description, segments: segments.map(({ kind, seconds, speed_mph }) => (speed_mph === undefined || speed_mph === null ? { kind, seconds } : { kind, seconds, speed_mph })) }, null, 2)}\n`;
}

/**
 * A file name for a plan: "retrowalk-evening-walk.json".
 * @param {{name: string}} plan
 * @returns {string}
 */
export function planFileName(plan) {
  const slug = plan.name.toLowerCase().normalize("NFKD").replace(/[^\w\s-]/g, "").trim().replace(/[\s_-]+/g, "-").slice(0, 40);
  return `retrowalk-${slug || "plan"}.json`;
}

/**
 * Read a plan file's text.
 * @param {string} text
 * @returns {{plan: object|null, problems: string[]}}
 */
export function planFromFile(text) {
  let raw;
  try { raw = JSON.parse(text); } catch { return { plan: null, problems: [t("This file is not a RetroWalk plan (it is not JSON).")] }; }
  return planFromData(raw);
}

/**
 * A plan packed into a link fragment: base64url of the plan file's JSON.
 * @param {{name: string, description?: string, segments: Array<object>}} plan
 * @returns {string}
 */
export function encodeShare(plan) {
  const bytes = new TextEncoder().encode(JSON.stringify(JSON.parse(planFileText(plan))));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A plan unpacked from a shared link's fragment, checked as an import is.
 * @param {string} packed
 * @returns {{plan: object|null, problems: string[]}}
 */
export function decodeShare(packed) {
  const broken = { plan: null, problems: [t("This link does not hold a plan: it may have been cut short when it was copied.")] };
  if (typeof packed !== "string" || !packed || packed.length > MAX_SHARE_CHARS || !/^[\w-]+$/.test(packed)) return broken;
  try {
    const binary = atob(packed.replace(/-/g, "+").replace(/_/g, "/"));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    return planFromData(JSON.parse(text));
  } catch {
    return broken;
  }
}

/**
 * The address that opens a shared plan on another phone.
 * @param {{name: string, description?: string, segments: Array<object>}} plan
 * @param {string} origin e.g. location.origin
 * @returns {string}
 */
export function shareLink(plan, origin) {
  return `${origin}/#share=${encodeShare(plan)}`;
}
