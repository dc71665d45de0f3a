// Numbers on the screens: English's quick path (no Intl formatter on the first screen) writes
// exactly what Intl writes, so a walker never sees "1.3 min" on one screen and "1.2 min" on another.
import assert from "node:assert/strict";
import { test } from "node:test";

import { number, useLanguage } from "../../web/js/i18n.js";

/** What Intl writes for an English walker (the app's formatter before the quick path). */
const intl = (value) => new Intl.NumberFormat("en", { useGrouping: false, maximumFractionDigits: 1 }).format(value);

/** Minutes and seconds as the picker, player and summary show them, ties and float edges among them. */
function samples() {
  const values = [0, -0, 0.05, 0.15, 0.25, 0.35, 0.45, 1.05, 1.25, 1.45, 2.675, -0.04, -0.05, -1.25, -7.5, 1e-7, 59.95, 99.95, 1e20, 123456789.95];
  for (let seconds = 0; seconds <= 4 * 3600; seconds += 7) values.push(seconds / 60, -seconds / 60);
  // A fixed sequence of awkward doubles (no wall clock, no Math.random): the same run every time.
  let x = 0.1;
  for (let i = 0; i < 2000; i++) {
    x = (x * 9301 + 49297) % 233280;
    values.push(x / 1000, x / 997 - 100);
  }
  return values;
}

test("an English number reads as Intl writes it, ties and negatives included", async () => {
  await useLanguage("en");
  for (const value of samples()) assert.equal(number(value), intl(value), `number(${value})`);
});

test("other languages and other options still go through Intl", async () => {
  assert.equal(number(1234.5, { maximumFractionDigits: 0 }), "1235");
  assert.equal(number(Number.NaN), intl(Number.NaN));
  assert.equal(number(Number.POSITIVE_INFINITY), intl(Number.POSITIVE_INFINITY));
  await useLanguage("de");
  assert.equal(number(1.5), "1,5");
  await useLanguage("en");
});
