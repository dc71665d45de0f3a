// Replays walk logs given on stdin with web/js/walkclock.js and prints each result as JSON,
// so tests/test_walkclock.py can hold the JavaScript clock to the Python one on random walks.
// stdin: {starts, offsets, lead_ms, end_ms, kinds, cases: [{events, now}]}

import { readFileSync } from "node:fs";

import * as wc from "../../web/js/walkclock.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const results = input.cases.map(({ events, now }) => {
  try {
    const walk = wc.replay(input.starts, events, input.lead_ms, input.end_ms);
    const settled = wc.settle(walk, input.end_ms, now);
    return {
      walk,
      view: wc.view(walk, input.starts, input.offsets, now),
      summary: settled.state === wc.FINISHED ? wc.summarize(settled, input.starts, input.kinds) : null,
    };
  } catch (error) {
    if (!(error instanceof wc.WalkRefused)) throw error;
    return { refused: { index: error.index, code: error.code } };
  }
});
process.stdout.write(JSON.stringify(results));
