// What the phone keeps for walks without the server (web/js/offline.js, web/js/sw.js): walk
// logs the server will accept, abandoned walks closed sensibly, byte ranges answered from a
// cached track, and the track cache's bounds. Run: node --test tests/js/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

import { addEvent, closeAbandoned, newWalkId, settledBy } from "../../web/js/offline.js";

const LEAD = 1500;
const T0 = 1_780_000_000_000;
// Three 5-second segments: the walk ends 15 s after its start takes effect.
const SEGMENTS = [{ kind: "warmup", seconds: 5 }, { kind: "reverse", seconds: 5 }, { kind: "forward", seconds: 5 }];

function newLog() {
  return { id: "walk-test-1", plan_id: "p", plan_name: "Short", segments: SEGMENTS, options: {}, offsets: [0, 5000, 10000, 15000], lead_ms: LEAD, events: [], ended: false };
}

test("walk ids are 8-64 URL-safe characters and never repeat", () => {
  const ids = new Set(Array.from({ length: 200 }, newWalkId));
  assert.equal(ids.size, 200);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
});

test("a log keeps only the events the clock model accepts", () => {
  const log = newLog();
  assert.ok(addEvent(log, { type: "start", at: T0 }));
  assert.ok(!addEvent(log, { type: "resume", at: T0 + 2000 }), "resume while running");
  assert.ok(addEvent(log, { type: "pause", at: T0 + 3000 }));
  assert.ok(!addEvent(log, { type: "pause", at: T0 + 2500 }), "earlier than the last event");
  assert.ok(addEvent(log, { type: "resume", at: T0 + 6000 }));
  // The walk ends at T0 + 1500 + 15000 + 3000 paused; a stop after that is refused (it completed).
  assert.ok(!addEvent(log, { type: "stop", at: T0 + 30_000 }));
  assert.deepEqual(log.events.map((e) => e.type), ["start", "pause", "resume"]);
});

test("an abandoned walk: stopped when the phone notices, completed if past its end, dropped if never started", () => {
  const running = newLog();
  addEvent(running, { type: "start", at: T0 });
  const stopped = closeAbandoned(running, T0 + 8000);
  assert.deepEqual(stopped.events.at(-1), { type: "stop", at: T0 + 8000 });
  assert.ok(stopped.ended);
  const completed = closeAbandoned(running, T0 + 60_000);
  assert.deepEqual(completed.events, running.events, "a walk past its end completed by itself: no stop added");
  assert.equal(closeAbandoned(newLog(), T0), null);
  const ended = { ...running, ended: true };
  assert.equal(closeAbandoned(ended, T0 + 8000), ended);
});

test("a completed walk is uploaded only once its end is clearly past", () => {
  const log = newLog();
  addEvent(log, { type: "start", at: T0 });
  const end = T0 + LEAD + 15_000;
  assert.ok(!settledBy(log, end));
  assert.ok(settledBy(log, end + 6000));
  addEvent(log, { type: "stop", at: T0 + 4000 });
  assert.ok(settledBy(log, T0 + 4000), "a stopped walk is over at once");
});

/** A value from the worker's realm as one of this realm (deepEqual compares prototypes). */
const here = (value) => JSON.parse(JSON.stringify(value));

/** The service worker's functions, loaded as a plain script with just enough of `self`. */
function worker() {
  const context = vm.createContext({
    self: { addEventListener() {}, location: { origin: "http://phone.test" } },
    Response, Headers, Blob, URL, Request, console, AbortSignal,
  });
  vm.runInContext(readFileSync(new URL("../../web/sw.js", import.meta.url), "utf8"), context);
  const sw = vm.runInContext("({ byteRange, partial, tracksToEvict, MAX_TRACKS, MAX_TRACK_BYTES })", context);
  return {
    ...sw,
    byteRange: (header, size) => here(sw.byteRange(header, size)),
    tracksToEvict: (index) => here(sw.tracksToEvict(index)),
  };
}

test("byte ranges: a-b, a-, -n; past the end unsatisfiable; anything else ignored", () => {
  const { byteRange } = worker();
  const size = 1000;
  assert.deepEqual(byteRange("bytes=0-99", size), { start: 0, end: 100 });
  assert.deepEqual(byteRange("bytes=900-", size), { start: 900, end: 1000 });
  assert.deepEqual(byteRange("bytes=950-5000", size), { start: 950, end: 1000 });
  assert.deepEqual(byteRange("bytes=-100", size), { start: 900, end: 1000 });
  assert.deepEqual(byteRange("bytes=-5000", size), { start: 0, end: 1000 });
  assert.deepEqual(byteRange("Bytes = 0-0", size), { start: 0, end: 1 });
  assert.equal(byteRange("bytes=1000-", size), "unsatisfiable");
  assert.equal(byteRange("bytes=-0", size), "unsatisfiable");
  assert.equal(byteRange("bytes=0-", 0), "unsatisfiable");
  for (const ignored of ["bytes=0-1,5-9", "items=0-9", "bytes=9-1", "bytes=-", "bytes=a-b"]) {
    assert.equal(byteRange(ignored, size), null, ignored);
  }
});

test("a cached file answers a range with 206, its bytes and Content-Range; 416 past its end", async () => {
  const { partial } = worker();
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const whole = () => new Response(bytes, { headers: { "Content-Type": "audio/mpeg", "Content-Length": "1000" } });
  const ranged = await partial(new Request("http://phone.test/audio/tracks/a.mp3", { headers: { Range: "bytes=100-199" } }), whole());
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get("content-range"), "bytes 100-199/1000");
  assert.equal(ranged.headers.get("content-length"), "100");
  assert.equal(ranged.headers.get("content-type"), "audio/mpeg");
  assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.slice(100, 200));
  const tail = await partial(new Request("http://phone.test/t", { headers: { Range: "bytes=-10" } }), whole());
  assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), bytes.slice(990));
  const past = await partial(new Request("http://phone.test/t", { headers: { Range: "bytes=2000-" } }), whole());
  assert.equal(past.status, 416);
  assert.equal(past.headers.get("content-range"), "bytes */1000");
  const plain = await partial(new Request("http://phone.test/t"), whole());
  assert.equal(plain.status, 200);
});

test("the track cache keeps the most recently played tracks within its count and bytes", () => {
  const { tracksToEvict, MAX_TRACKS, MAX_TRACK_BYTES } = worker();
  const index = {};
  for (let i = 0; i < MAX_TRACKS + 3; i += 1) index[`/audio/tracks/${i}.mp3`] = { bytes: 1000, used_at: i };
  assert.deepEqual(tracksToEvict(index).sort(), ["/audio/tracks/0.mp3", "/audio/tracks/1.mp3", "/audio/tracks/2.mp3"]);
  const big = {
    "/audio/tracks/old.mp3": { bytes: MAX_TRACK_BYTES / 2, used_at: 1 },
    "/audio/tracks/mid.mp3": { bytes: MAX_TRACK_BYTES / 2, used_at: 2 },
    "/audio/tracks/new.mp3": { bytes: MAX_TRACK_BYTES / 4, used_at: 3 },
  };
  assert.deepEqual(tracksToEvict(big), ["/audio/tracks/old.mp3"]);
  // The track played last stays even when it alone is over the bound.
  assert.deepEqual(tracksToEvict({ "/audio/tracks/huge.mp3": { bytes: MAX_TRACK_BYTES * 2, used_at: 5 } }), []);
});

/** Just enough of the Cache API for the worker's track cache, in memory. */
class MemoryCache {
  constructor() {
    this.entries = new Map();
  }

  key(request) {
    return new URL(typeof request === "string" ? request : request.url, "http://phone.test").href;
  }

  async match(request) {
    return this.entries.get(this.key(request))?.clone();
  }

  async put(request, response) {
    const body = await response.arrayBuffer();
    this.entries.set(this.key(request), new Response(body, { status: response.status, headers: response.headers }));
  }

  async delete(request) {
    return this.entries.delete(this.key(request));
  }

  async keys() {
    return [...this.entries.keys()].map((url) => new Request(url));
  }
}

test("tracks played beyond the bounds push out the least recently played; playing one again keeps it", async () => {
  const cache = new MemoryCache();
  const clock = { now: 1_000_000 };
  const context = vm.createContext({
    self: { addEventListener() {}, location: { origin: "http://phone.test" } },
    caches: { open: async () => cache },
    Response, Headers, Blob, URL, Request, console, AbortSignal,
  });
  vm.runInContext(readFileSync(new URL("../../web/sw.js", import.meta.url), "utf8"), context);
  context.clock = clock;
  vm.runInContext("Date.now = () => clock.now", context);
  const sw = vm.runInContext("({ storeTrack, touchTrack, MAX_TRACKS })", context);
  const url = (i) => new URL(`/audio/tracks/${i}.mp3`, "http://phone.test");
  const store = async (i) => {
    clock.now += 120_000;
    await sw.storeTrack(url(i), new Response(new Uint8Array(100), { headers: { "Content-Length": "100" } }));
  };
  for (let i = 0; i < sw.MAX_TRACKS; i += 1) await store(i);
  clock.now += 120_000;
  await sw.touchTrack(url(0).pathname);
  await store("new-1");
  await store("new-2");
  const kept = [...cache.entries.keys()].map((key) => new URL(key).pathname).filter((path) => path.startsWith("/audio/tracks/"));
  assert.equal(kept.length, sw.MAX_TRACKS);
  assert.ok(kept.includes("/audio/tracks/0.mp3"), "the track played again was evicted");
  assert.ok(!kept.includes("/audio/tracks/1.mp3") && !kept.includes("/audio/tracks/2.mp3"), "the least recently played stayed");
  assert.ok(kept.includes("/audio/tracks/new-2.mp3"));
});
