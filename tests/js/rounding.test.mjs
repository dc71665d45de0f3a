// The one rounding rule in JavaScript (web/js/walkclock.js roundParts) against the cases pytest
// checks too (tests/fixtures/rounding.json). Run: node --test tests/js/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { roundParts } from "../../web/js/walkclock.js";

const { cases } = JSON.parse(readFileSync(new URL("../fixtures/rounding.json", import.meta.url), "utf8"));

for (const c of cases) {
  test(`roundParts: ${c.why}`, () => {
    assert.deepEqual(roundParts(c.values, c.step), c.parts);
  });
}

test("roundParts: parts add up to the total rounded once", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let n = 0; n < 500; n += 1) {
    const values = Array.from({ length: next() % 12 }, () => next() % 1_000_000);
    const step = [1, 60, 100, 1000][next() % 4];
    const parts = roundParts(values, step);
    const sum = values.reduce((a, b) => a + b, 0);
    assert.equal(parts.reduce((a, b) => a + b, 0), Math.floor((sum + Math.floor(step / 2)) / step));
  }
});
