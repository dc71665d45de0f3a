// Pocket mode's track player (web/js/pocket.js) on a stand-in media element: it seeks only
// when the walk's clock and the element differ by more than 50 ms, lets a seek settle, and
// tells a pause or play it did not ask for (lock screen, headset) from its own.
// Run: node --test tests/js/

import assert from "node:assert/strict";
import { test } from "node:test";

import { STALL_GIVE_UP_MS, STEER_THRESHOLD_MS, TrackPlayer } from "../../web/js/pocket.js";

/** A media element as far as the player uses it: a position, paused, events, and a record of seeks. */
class FakeMedia extends EventTarget {
  constructor() {
    super();
    this.time = 0;
    this.seeks = [];
    this.paused = true;
    this.ended = false;
    this.seeking = false;
    this.readyState = 4;
    this.duration = 600;
    this.error = null;
  }

  get currentTime() { return this.time; }

  set currentTime(value) {
    this.seeks.push(value);
    this.time = value;
  }

  removeAttribute() {}

  load() {}

  remove() {}

  play() {
    this.paused = false;
    this.dispatchEvent(new Event("play"));
    return Promise.resolve();
  }

  pause() {
    if (this.paused) return;
    this.paused = true;
    this.dispatchEvent(new Event("pause"));
  }
}

/** A player on a fake element, playing from `trackMs`, with what its handlers were told. */
async function playing(trackMs = 5000) {
  const media = new FakeMedia();
  const told = [];
  const player = new TrackPlayer("/audio/tracks/x.mp3", {
    onOutsidePause: (ms) => told.push(["pause", ms]),
    onOutsidePlay: (ms) => told.push(["play", ms]),
  }, media);
  assert.equal(await player.play(trackMs), true);
  player.settleUntil = 0; // as if the start's seek had settled long ago
  media.seeks.length = 0;
  return { media, player, told };
}

test("the element is never re-seeked for a difference of 50 ms or less", async () => {
  const { media, player } = await playing(5000);
  for (const off of [-STEER_THRESHOLD_MS, -20, 0, 20, STEER_THRESHOLD_MS]) {
    assert.equal(player.steer(5000 + off), false, `seeked for ${off} ms`);
  }
  assert.deepEqual(media.seeks, []);
});

test("more than 50 ms off, the element seeks to the walk's clock, then lets the seek settle", async () => {
  const { media, player } = await playing(5000);
  assert.equal(player.steer(5000 + STEER_THRESHOLD_MS + 10), true);
  assert.deepEqual(media.seeks, [5.06]);
  // Right after a seek the element is left alone, even if it still looks off.
  assert.equal(player.steer(9000), false);
  assert.equal(media.seeks.length, 1);
});

test("a pause or play the walk did not ask for is reported with the element's position", async () => {
  const { media, player, told } = await playing(5000);
  media.time = 7.25;
  media.pause(); // the lock screen's pause, with the page asleep or awake
  assert.deepEqual(told, [["pause", 7250]]);
  player.pause(); // the walk's own pause is not reported
  media.time = 8;
  media.play(); // the lock screen's play
  assert.deepEqual(told, [["pause", 7250], ["play", 8000]]);
});

test("the walk's own pause, play and stop, and the track's end, are not reported as the walker's", async () => {
  const { media, player, told } = await playing(5000);
  player.pause(6000);
  await player.play(6000);
  media.ended = true;
  media.pause();
  media.ended = false;
  player.stop();
  assert.deepEqual(told, []);
});

test("a seek that landed late is learnt: the next one aims that much ahead and lands on the clock", async () => {
  const { media, player } = await playing(5000);
  player.steer(5200); // 200 ms behind: seek to 5.2 s
  media.time = 5.92; // a second later the element plays 80 ms behind the clock (6000)
  player.settleUntil = 0;
  assert.equal(player.steer(6000), true);
  assert.equal(media.seeks.at(-1), 6.08, "the second seek does not aim 80 ms ahead");
  media.time = 7.0; // landed on the clock
  player.settleUntil = 0;
  assert.equal(player.steer(7000), false);
  assert.equal(player.seekLagMs, 80);
});

test("a track that fails mid-walk (its next bytes never came) is reported once, so the walk goes on as clips", async () => {
  const { media, player } = await playing(5000);
  const failed = [];
  player.handlers.onFailed = (why) => failed.push(why);
  media.dispatchEvent(new Event("error"));
  media.dispatchEvent(new Event("error"));
  assert.deepEqual(failed, ["error"]);
});

test("a track that should play but stands still longer than the give-up time is reported as stalled", async () => {
  const { media, player } = await playing(5000);
  const failed = [];
  player.handlers.onFailed = (why) => failed.push(why);
  media.time = 5;
  assert.equal(player.checkStall(0), false);
  media.time = 6; // it moves: not stalled, however long the look took
  assert.equal(player.checkStall(STALL_GIVE_UP_MS * 2), false);
  assert.equal(player.checkStall(STALL_GIVE_UP_MS * 2 + STALL_GIVE_UP_MS / 2), false, "a short wait for bytes is not a failure");
  assert.deepEqual(failed, []);
  assert.equal(player.checkStall(STALL_GIVE_UP_MS * 4), true);
  assert.deepEqual(failed, ["stalled"]);
});

test("a paused walk's track standing still is not a stall", async () => {
  const { player } = await playing(5000);
  const failed = [];
  player.handlers.onFailed = (why) => failed.push(why);
  player.pause(5000);
  assert.equal(player.checkStall(0), false);
  assert.equal(player.checkStall(STALL_GIVE_UP_MS * 10), false);
  assert.deepEqual(failed, []);
});
