// Numbers that add up on screen (web/js/figures.js): the player's done and to go, a summary's
// walked, paused and total, the week's minutes and minutes to go. Run: node --test tests/js/

import assert from "node:assert/strict";
import { test } from "node:test";

import { clockParts, minutesShown, minutesToGo, walkFigures, weekMinutes } from "../../web/js/figures.js";

test("4.5 s into a 15 s plan reads 0:04 done, 0:11 to go (not 0:05 and 0:11)", () => {
  assert.deepEqual(clockParts(4500, 15_000), { done: 4, toGo: 11 });
});

test("done and to go always add up to the plan's length, from before the start to after the end", () => {
  for (const totalMs of [15_000, 60_000, 1_140_000]) {
    for (let elapsed = -3000; elapsed <= totalMs + 3000; elapsed += 137) {
      const { done, toGo } = clockParts(elapsed, totalMs);
      assert.equal(done + toGo, totalMs / 1000);
      assert.ok(done >= 0 && toGo >= 0);
    }
  }
});

test("a summary once shown: 0:24 walked and 0:06 paused no longer make a total of 0:29", () => {
  const figures = walkFigures({ walked_seconds: 23.4, forward_seconds: 23.4, backward_seconds: 0, rest_seconds: 0, paused_seconds: 5.5, duration_seconds: 28.9 });
  assert.equal(figures.total, 29);
  assert.equal(figures.walked + figures.paused, figures.total);
});

test("walked + paused = total and forward + backward + rest = walked, whatever the tenths", () => {
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let n = 0; n < 2000; n += 1) {
    const forward = (next() % 20_000) / 10;
    const backward = (next() % 20_000) / 10;
    const rest = (next() % 600) / 10;
    const paused = (next() % 3000) / 10;
    const walked = Math.round((forward + backward + rest) * 10) / 10;
    const f = walkFigures({ walked_seconds: walked, forward_seconds: forward, backward_seconds: backward, paused_seconds: paused });
    assert.equal(f.walked + f.paused, f.total);
    assert.equal(f.forward + f.backward + f.rest, f.walked);
    // The total is the summary's duration rounded once (halves up).
    assert.equal(f.total, Math.floor((Math.round(walked * 10) + Math.round(paused * 10) + 5) / 10));
  }
});

test("a summary without backward or pause figures still adds up", () => {
  assert.deepEqual(walkFigures({ walked_seconds: 12.5 }), { walked: 13, forward: 0, backward: 0, rest: 13, paused: 0, total: 13 });
});

test("the week's minutes shown and the minutes to go add up to the target", () => {
  for (let tenths = 0; tenths <= 1600; tenths += 1) {
    const minutes = tenths / 10;
    const shown = minutesShown(minutes);
    const toGo = minutesToGo(minutes, 150);
    if (shown < 150) assert.equal(Math.round((shown + toGo) * 10), 1500, `${minutes}: ${shown} + ${toGo}`);
    else assert.equal(toGo, 0);
  }
  assert.equal(minutesToGo(42.5, 150), 107);
  assert.equal(minutesShown(42.5), 43);
});

test("a week's row in the chart's table: forward + backward = total, whole from 10 minutes", () => {
  assert.deepEqual(weekMinutes(12.5, 2.4, 14.9), { forward: 13, backward: 2, total: 15 });
  assert.deepEqual(weekMinutes(3.4, 2.4, 5.8), { forward: 3.4, backward: 2.4, total: 5.8 });
  for (let f = 0; f < 400; f += 7) {
    for (let b = 0; b < 400; b += 13) {
      const row = weekMinutes(f / 10, b / 10, (f + b) / 10);
      assert.equal(Math.round((row.forward + row.backward) * 10), Math.round(row.total * 10), `${f} ${b}`);
    }
  }
});
