// Uploading walks played without the server (web/js/offline.js): what happens to each walk's
// log on each answer. The browser test (tests/test_browser_offline.py) plays one for real;
// here every answer is tried with a stand-in fetch. Run: node --test tests/js/

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { uploadWalks } from "../../web/js/offline.js";

const SEGMENTS = [{ kind: "warmup", seconds: 5 }, { kind: "reverse", seconds: 5 }, { kind: "forward", seconds: 5 }];

/** localStorage in memory. */
function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/** A finished walk's log (stopped 50 s ago) and its entry in "On this phone". */
function walk(id) {
  const start = Date.now() - 60_000;
  return {
    log: {
      id, plan_id: "my-plan", plan_name: `Walk ${id}`, segments: SEGMENTS, options: {}, offsets: [0, 5000, 10000, 15000],
      lead_ms: 1500, events: [{ type: "start", at: start }, { type: "stop", at: start + 10_000 }], ended: true,
    },
    entry: { id, plan_name: `Walk ${id}`, started_at: start + 1500, local: true },
  };
}

const stored = (key) => JSON.parse(localStorage.getItem(`retrowalk.${key}`) || "[]");

let requests = [];

/**
 * Answer each upload by its walk id: a status, or "down" for a server that cannot be reached.
 * @param {Record<string, number|"down">} answers
 */
function serverAnswers(answers) {
  globalThis.fetch = async (url, init) => {
    const id = decodeURIComponent(String(url).split("/").pop());
    requests.push({ url: String(url), method: init.method, body: JSON.parse(init.body) });
    const answer = answers[id];
    if (answer === "down") throw new TypeError("Failed to fetch");
    const body = answer < 300 ? { id: `server-${id}`, state: "finished" } : { error: "invalid_events", message: "Event 2 does not apply." };
    return new Response(JSON.stringify(body), { status: answer, headers: { "Content-Type": "application/json" } });
  };
}

beforeEach(() => {
  globalThis.localStorage = memoryStorage();
  globalThis.window = new EventTarget();
  globalThis.navigator = { onLine: true };
  requests = [];
});

function keep(...walks) {
  localStorage.setItem("retrowalk.walklogs", JSON.stringify(walks.map((w) => w.log)));
  localStorage.setItem("retrowalk.history", JSON.stringify(walks.map((w) => w.entry)));
}

test("a walk the server stores leaves the phone's logs and its own history; refused ones stay in history; errors are kept", async () => {
  const [taken, again, refused, broken] = ["taken-01", "retried-1", "refused-1", "broken-01"].map(walk);
  keep(taken, again, refused, broken);
  serverAnswers({ "taken-01": 201, "retried-1": 200, "refused-1": 400, "broken-01": 500 });
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.join(" "));
  let count;
  try {
    count = await uploadWalks();
  } finally {
    console.warn = warn;
  }
  assert.equal(count, 2);
  assert.deepEqual(stored("walklogs").map((log) => log.id), ["broken-01"], "only the walk the server failed on waits for a retry");
  assert.deepEqual(stored("history").map((entry) => entry.id), ["refused-1", "broken-01"], "an uploaded walk still shows as on this phone");
  assert.ok(warnings.some((text) => text.includes("Walk refused-1")), "a refused walk is not dropped silently");
  const first = requests[0];
  assert.equal(first.method, "PUT");
  assert.ok(first.url.endsWith("/api/sessions/offline/taken-01"));
  assert.deepEqual(Object.keys(first.body).sort(), ["end_ms", "events", "lead_ms", "options", "plan_id", "plan_name", "segments"]);
  assert.deepEqual(first.body.events, taken.log.events);
  assert.equal(first.body.end_ms, 15_000);
});

test("with the server unreachable every log is kept, and the next try uploads it once", async () => {
  const walks = ["first-001", "second-01"].map(walk);
  keep(...walks);
  serverAnswers({ "first-001": "down", "second-01": "down" });
  assert.equal(await uploadWalks(), 0);
  assert.equal(requests.length, 1, "the phone went on trying a server it cannot reach");
  assert.equal(stored("walklogs").length, 2);
  serverAnswers({ "first-001": 201, "second-01": 201 });
  assert.equal(await uploadWalks(), 2);
  assert.equal(await uploadWalks(), 0);
  assert.equal(requests.length, 3);
  assert.deepEqual(stored("walklogs"), []);
  assert.deepEqual(stored("history"), []);
});

test("a walk still under way by the server's clock is tried again shortly; a device at its session bound waits for the next load", async () => {
  const [early, full] = ["early-001", "full-0001"].map(walk);
  keep(early, full);
  const conflict = (code) => async (url, init) => {
    requests.push({ url: String(url), method: init.method });
    return new Response(JSON.stringify({ error: code, message: "Not now." }), { status: 409, headers: { "Content-Type": "application/json" } });
  };
  const timers = [];
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  globalThis.setTimeout = (fn, ms) => { timers.push(ms); return 0; };
  globalThis.clearTimeout = () => {};
  try {
    globalThis.fetch = conflict("too_many_sessions");
    await uploadWalks();
    assert.equal(timers.length, 0, "a device at its bound is retried in a loop");
    globalThis.fetch = conflict("walk_not_finished");
    await uploadWalks();
    assert.ok(timers.length >= 1 && timers.every((ms) => ms > 0 && ms <= 10_000), `retries: ${timers}`);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
  }
  assert.equal(stored("walklogs").length, 2, "a walk the server did not take yet was dropped");
});
