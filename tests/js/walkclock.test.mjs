// The walk clock in JavaScript (web/js/walkclock.js) against the table of cases pytest checks
// too (tests/fixtures/walk_clock.json), so the phone and the server agree. Run: node --test tests/js/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as wc from "../../web/js/walkclock.js";

const FIXTURES = JSON.parse(readFileSync(new URL("../fixtures/walk_clock.json", import.meta.url), "utf8"));
const LEAD = FIXTURES.lead_ms;

for (const c of FIXTURES.cases) {
  const plan = FIXTURES.plans[c.plan];
  const end = wc.walkEndMs(plan.starts, plan.offsets);

  test(c.name, () => {
    if (c.refused) {
      assert.throws(() => wc.replay(plan.starts, c.events, LEAD, end), (error) => {
        assert.ok(error instanceof wc.WalkRefused);
        assert.equal(error.code, c.refused.code);
        assert.equal(error.index, c.refused.index);
        assert.ok(error.message);
        return true;
      });
      // The walk before the refused event is left as it was.
      const before = wc.replay(plan.starts, c.events.slice(0, c.refused.index), LEAD, end);
      const copy = structuredClone(before);
      assert.throws(() => wc.step(before, plan.starts, c.events[c.refused.index], LEAD, end), wc.WalkRefused);
      assert.deepEqual(before, copy);
      return;
    }
    const walk = wc.replay(plan.starts, c.events, LEAD, end);
    const { walk: expectedWalk, summary, ...expectedView } = c.expect;
    assert.deepEqual(walk, expectedWalk);
    assert.deepEqual(wc.view(walk, plan.starts, plan.offsets, c.now), expectedView);
    const settled = wc.settle(walk, end, c.now);
    assert.deepEqual(settled.state === wc.FINISHED ? wc.summarize(settled, plan.starts, plan.kinds) : undefined, summary);
    // Event by event, through JSON as a phone keeps it, the same walk.
    let stepped = wc.READY_WALK;
    for (const event of c.events) stepped = JSON.parse(JSON.stringify(wc.step(stepped, plan.starts, event, LEAD, end)));
    assert.deepEqual(stepped, expectedWalk);
  });
}

test("positionMs, dueMs, endAt and segmentIndex agree with view", () => {
  const plan = FIXTURES.plans.three_fives;
  const t0 = FIXTURES.t0;
  const walk = wc.replay(plan.starts, [{ type: "start", at: t0 }, { type: "pause", at: t0 + 2000 }, { type: "resume", at: t0 + 3000 }], LEAD);
  const now = t0 + 9000;
  const seen = wc.view(walk, plan.starts, plan.offsets, now);
  assert.equal(wc.positionMs(walk, now), seen.position_ms);
  assert.equal(wc.segmentIndex(plan.starts, seen.position_ms), seen.segment);
  assert.equal(wc.endAt(walk, plan.starts.at(-1)), seen.end_at);
  for (const { seq, due } of seen.dues) assert.equal(wc.dueMs(walk, plan.offsets[seq]), due);
});

test("position places the walker in a plan: at a boundary in the next segment, clamped to the plan, -1 for no segments", () => {
  const segments = [{ kind: "warmup", seconds: 5 }, { kind: "reverse", seconds: 10 }, { kind: "forward", seconds: 5 }];
  const at = (ms) => {
    const { index, segmentElapsedMs, segmentRemainingMs, elapsedMs, remainingMs, fraction } = wc.position(segments, ms);
    return [index, segmentElapsedMs, segmentRemainingMs, elapsedMs, remainingMs, fraction];
  };
  assert.deepEqual(at(-500), [0, 0, 5000, 0, 20000, 0]);
  assert.deepEqual(at(4999), [0, 4999, 1, 4999, 15001, 4999 / 20000]);
  assert.deepEqual(at(5000), [1, 0, 10000, 5000, 15000, 0.25]);
  assert.deepEqual(at(15000), [2, 0, 5000, 15000, 5000, 0.75]);
  assert.deepEqual(at(25000), [2, 5000, 0, 20000, 0, 1]);
  assert.equal(wc.position(segments, 5000).segment, segments[1]);
  assert.equal(wc.position(segments, 5000).next, segments[2]);
  assert.equal(wc.position(segments, 16000).next, null);
  assert.deepEqual(wc.position([], 1000), {
    index: -1, segment: null, next: null, segmentElapsedMs: 0, segmentRemainingMs: 0, totalMs: 0, elapsedMs: 0, remainingMs: 0, fraction: 0,
  });
});
