// A new version of the app reaches an open page only between walks and only on the walker's
// tap (web/js/updates.js), against a fake registration: the browser's own lifecycle is
// checked end to end by tests/test_browser_updates.py. Run: node --test tests/js/

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { SKIP_WAITING, WALK_CHECK_MS, watchForUpdates } from "../../web/js/updates.js";

/** A service worker as the page sees it: a state, and the messages posted to it. */
class FakeWorker extends EventTarget {
  constructor(state = "installing") {
    super();
    this.state = state;
    this.messages = [];
  }

  postMessage(message) {
    this.messages.push(message);
  }

  /** Move to a new state, as the browser does, telling whoever listens. */
  become(state) {
    this.state = state;
    this.dispatchEvent(new Event("statechange"));
  }
}

/** A registration whose installing and waiting workers the test sets. */
class FakeRegistration extends EventTarget {
  constructor() {
    super();
    this.installing = null;
    this.waiting = null;
    this.updates = 0;
  }

  async update() {
    this.updates += 1;
  }

  /** A new worker starts installing (the browser found a changed sw.js). */
  found(worker) {
    this.installing = worker;
    this.dispatchEvent(new Event("updatefound"));
  }

  /** The installing worker has installed and now waits. */
  installed(worker) {
    this.installing = null;
    this.waiting = worker;
    worker.become("installed");
  }
}

let reloads;
let container;
let registration;
let offers;
let walking;

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout"] });
  reloads = 0;
  globalThis.location = { reload: () => { reloads += 1; } };
  globalThis.document = Object.assign(new EventTarget(), { visibilityState: "visible" });
  container = Object.assign(new EventTarget(), { controller: new FakeWorker("activated") });
  registration = new FakeRegistration();
  offers = [];
  walking = false;
});

afterEach(() => {
  mock.timers.reset();
  delete globalThis.location;
  delete globalThis.document;
});

/** Watch the registration as the app does: `walking` as the test sets it, offers collected. */
function watch() {
  watchForUpdates(registration, { walking: () => walking, offer: (update) => offers.push(update) }, container);
}

/** The waiting worker takes over (after skip-waiting): the page's controller changes. */
function takeOver(worker) {
  registration.waiting = null;
  worker.become("activated");
  container.controller = worker;
  container.dispatchEvent(new Event("controllerchange"));
}

test("a first install takes the page over at once: nothing is offered and the page does not reload", () => {
  container.controller = null;
  const first = new FakeWorker();
  registration.installing = first;
  watch();
  registration.installed(first);
  takeOver(first);
  assert.equal(offers.length, 0);
  assert.equal(reloads, 0);
});

test("a new version waits until the walker taps, then takes over and the page reloads once", () => {
  watch();
  const next = new FakeWorker();
  registration.found(next);
  assert.equal(offers.length, 0, "offered before it had installed");
  registration.installed(next);
  assert.equal(offers.length, 1);
  assert.deepEqual(next.messages, [], "the worker was told to take over before the tap");
  offers[0]();
  assert.deepEqual(next.messages, [SKIP_WAITING]);
  takeOver(next);
  container.dispatchEvent(new Event("controllerchange"));
  assert.equal(reloads, 1);
});

test("a version already waiting when the page opens is offered once, however often it is seen", () => {
  const next = new FakeWorker("installed");
  registration.waiting = next;
  watch();
  next.become("installed");
  assert.equal(offers.length, 1);
});

test("during a walk the offer waits for the walk's end", () => {
  walking = true;
  watch();
  const next = new FakeWorker();
  registration.found(next);
  registration.installed(next);
  mock.timers.tick(WALK_CHECK_MS * 5);
  assert.equal(offers.length, 0, "offered in the middle of a walk");
  walking = false;
  mock.timers.tick(WALK_CHECK_MS);
  assert.equal(offers.length, 1);
  mock.timers.tick(WALK_CHECK_MS * 5);
  assert.equal(offers.length, 1, "offered again");
});

test("a walk started between the tap and the switch is not cut short: the reload waits for its end", () => {
  watch();
  const next = new FakeWorker();
  registration.found(next);
  registration.installed(next);
  offers[0]();
  walking = true;
  takeOver(next);
  mock.timers.tick(WALK_CHECK_MS * 5);
  assert.equal(reloads, 0, "reloaded in the middle of a walk");
  walking = false;
  mock.timers.tick(WALK_CHECK_MS);
  assert.equal(reloads, 1);
});

test("another tab's update switches this page's worker without reloading it", () => {
  watch();
  const next = new FakeWorker();
  registration.found(next);
  registration.installed(next);
  takeOver(next);
  assert.equal(reloads, 0);
});

test("after another tab's update this page is offered the reload, between walks, and reloads on the tap", () => {
  watch();
  const next = new FakeWorker();
  registration.found(next);
  registration.installed(next);
  walking = true;
  takeOver(next);
  mock.timers.tick(WALK_CHECK_MS * 5);
  assert.equal(offers.length, 1, "offered in the middle of a walk");
  walking = false;
  mock.timers.tick(WALK_CHECK_MS);
  assert.equal(offers.length, 2);
  offers[1]();
  assert.equal(reloads, 1);
});

test("an offer tapped after another tab already switched versions reloads this page", () => {
  watch();
  const next = new FakeWorker();
  registration.found(next);
  registration.installed(next);
  takeOver(next);
  offers[0]();
  assert.deepEqual(next.messages, []);
  assert.equal(reloads, 1);
});

test("a version replaced by a newer one while a walk ran offers the newer one, once", () => {
  walking = true;
  watch();
  const older = new FakeWorker();
  registration.found(older);
  registration.installed(older);
  const newer = new FakeWorker();
  registration.found(newer);
  older.become("redundant");
  registration.installed(newer);
  walking = false;
  mock.timers.tick(WALK_CHECK_MS);
  assert.equal(offers.length, 1);
  offers[0]();
  assert.deepEqual(newer.messages, [SKIP_WAITING]);
  assert.deepEqual(older.messages, []);
});
