// Pause, resume and skip heard, not only seen (web/js/audio.js): which phrase answers a control,
// and when a clip may play. Run: node --test tests/js/

import assert from "node:assert/strict";
import { test } from "node:test";

import { CONTROL_FROM, confirmationAudio, confirmationFor, confirmsAloud, skipConfirmation } from "../../web/js/audio.js";

// The shape POST /api/sessions answers with: segment 1 (a slower backward bout) has its slow-down said before its switch.
const CONFIRMATIONS = {
  pause: { text: "Paused.", audio: "/audio/p.mp3" },
  resume: { text: "Resuming.", audio: "/audio/r.mp3" },
  skip: { text: "Skipping ahead.", audio: "/audio/s.mp3" },
  // after_ms: the landed switch phrase's spoken length and the cue gap, from the server.
  skip_to: { 1: { text: "Slow down to 1.5 miles per hour.", audio: "/audio/slow.mp3", after_ms: 2150 } },
};

test("each control says its own phrase", () => {
  assert.equal(confirmationFor(CONFIRMATIONS, "pause").text, "Paused.");
  assert.equal(confirmationFor(CONFIRMATIONS, "resume").text, "Resuming.");
  assert.equal(confirmationFor(CONFIRMATIONS, "skip", 2).text, "Skipping ahead.");
});

test("a skip into a segment whose slow-down it jumps over says the slow-down instead", () => {
  assert.equal(confirmationFor(CONFIRMATIONS, "skip", 1).audio, "/audio/slow.mp3");
  // Only a skip: a pause in that segment is still "Paused."
  assert.equal(confirmationFor(CONFIRMATIONS, "pause", 1).text, "Paused.");
});

test("a skip plays no clip over the landed switch phrase: that phrase is its answer", () => {
  assert.equal(skipConfirmation(CONFIRMATIONS, 2, true), null);
});

test("a skip over a slow-down says it after the landed switch phrase, not at once", () => {
  assert.deepEqual(skipConfirmation(CONFIRMATIONS, 1, true), { phrase: CONFIRMATIONS.skip_to[1], afterMs: 2150 });
});

test("a skip while paused hears no switch until Resume: its phrase is said at once", () => {
  assert.deepEqual(skipConfirmation(CONFIRMATIONS, 2, false), { phrase: CONFIRMATIONS.skip, afterMs: null });
  assert.deepEqual(skipConfirmation(CONFIRMATIONS, 1, false), { phrase: CONFIRMATIONS.skip_to[1], afterMs: null });
  assert.equal(skipConfirmation(null, 1, false), null);
});

test("a walk with no confirmations known (offline, never remembered) says nothing", () => {
  assert.equal(confirmationFor(null, "pause"), null);
  assert.equal(confirmationFor(undefined, "skip", 1), null);
  assert.equal(confirmationFor({ skip_to: {} }, "resume"), null);
  assert.deepEqual(confirmationAudio(null), []);
});

test("every file a confirmation may play is fetched before Start", () => {
  assert.deepEqual(confirmationAudio(CONFIRMATIONS).sort(), ["/audio/p.mp3", "/audio/r.mp3", "/audio/s.mp3", "/audio/slow.mp3"]);
});

test("screen-on mode always confirms aloud, the lock screen and a headset included", () => {
  for (const from of Object.values(CONTROL_FROM)) {
    for (const visible of [true, false]) assert.equal(confirmsAloud({ pocket: false, from, visible }), true);
  }
});

test("pocket mode confirms a tap in the app, never a lock-screen or headset control", () => {
  assert.equal(confirmsAloud({ pocket: true, from: CONTROL_FROM.APP, visible: true }), true);
  assert.equal(confirmsAloud({ pocket: true, from: CONTROL_FROM.APP, visible: false }), false);
  assert.equal(confirmsAloud({ pocket: true, from: CONTROL_FROM.OUTSIDE, visible: true }), false);
  assert.equal(confirmsAloud({ pocket: true, from: CONTROL_FROM.OUTSIDE, visible: false }), false);
});
