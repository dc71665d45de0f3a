"""Pause, resume and skip are heard, not only seen: the confirmation clips in Chromium.

A real click on Pause, Resume or Skip starts the session's confirmation clip on the page's
AudioContext (recorded by the cue instrumentation; a clip is known by its decoded length).
A skip of a running walk plays no clip over the landed switch phrase (that phrase is its
answer); a slow-down it jumped over is scheduled for after that switch phrase.
In pocket mode an in-app tap plays the clip beside the walk's track without moving the
track; a lock-screen control plays nothing extra.
"""

from __future__ import annotations

import time

import pytest

from browser_support import MIN_CUE_SAMPLES, create_plan, hold_to_unlock, wait_until
from test_browser_pocket import MEDIA_HANDLERS_JS, MINUTE, session_of, start_in_mode, track

pytestmark = pytest.mark.browser

# The clip's length as the CuePlayer decodes it (48 kHz, audio.js DECODE_SAMPLE_RATE).
DECODED_LENGTH_JS = """async (url) => {
  const bytes = await (await fetch(url)).arrayBuffer();
  const decoded = await new OfflineAudioContext(1, 1, 48000).decodeAudioData(bytes);
  return decoded.length;
}"""
# A confirmation starts at once: within this of the context's clock when it was scheduled.
AT_ONCE_S = 0.1
# How long a clip may take to be scheduled after the click (a round of the event loop, generous).
CLIP_WAIT_S = 3
# A clip scheduled for later (a skipped slow-down): this near its moment (the click's own delay, output latency).
LATER_SLACK_S = 0.4
# Listened for after a skip with nothing to say: longer than "Skipping ahead." lasts.
QUIET_AFTER_SKIP_S = 1.5


def sources_since(page, count: int) -> list[dict]:
    """Sources started on the page's AudioContext after the first `count` (cues and clips, not the unlock's silence)."""
    records = page.evaluate("window.__cueStarts")[count:]
    return [r for r in records if r["samples"] >= MIN_CUE_SAMPLES and not r["cancelled"]]


def clip_length(page, phrase: dict) -> int:
    """The decoded length (samples) of a confirmation's audio."""
    return page.evaluate(DECODED_LENGTH_JS, phrase["audio"])


def expect_clip(page, before: int, phrase: dict, later_s: float | None = None) -> dict:
    """Wait for the confirmation clip to start after the `before`-th source (at once, or `later_s` on); its record."""
    length = clip_length(page, phrase)

    def started():
        return next((r for r in sources_since(page, before) if r["samples"] == length), None)

    record = wait_until(started, CLIP_WAIT_S, f"no source of {phrase['text']!r} ({phrase['audio']}) was started")
    wait_s = record["when"] - record["currentTime"]
    if later_s is None:
        assert wait_s <= AT_ONCE_S, f"{phrase['text']!r} was scheduled for later, not at once"
    else:
        assert later_s - LATER_SLACK_S <= wait_s <= later_s + LATER_SLACK_S, (phrase["text"], wait_s, later_s)
    assert record["confirmation"], "the clip is not marked as a confirmation (cue counts would include it)"
    return record


@pytest.mark.realtime(seconds=6)
def test_screen_on_pause_resume_and_skip_are_confirmed_aloud(phone_page, server):
    page = phone_page(server.url)
    page.goto("/")
    plan = create_plan(page, "Heard controls", MINUTE)
    log = start_in_mode(page, plan, "screen")
    session_id = session_of(log)["session"]["id"]
    confirmations = page.request.get(f"/api/sessions/{session_id}").json()["confirmations"]
    # Warm-up 2.5 mph then reverse 1.5 mph: the reverse bout's slow-down is said before its switch.
    assert "1" in confirmations["skip_to"], confirmations
    hold_to_unlock(page)

    before = page.evaluate("window.__cueStarts.length")
    page.get_by_role("button", name="Pause").click()
    expect_clip(page, before, confirmations["pause"])
    wait_until(
        lambda: page.request.get(f"/api/sessions/{session_id}").json()["state"] == "paused",
        5,
        "the pause did not reach the server",
    )

    before = page.evaluate("window.__cueStarts.length")
    page.get_by_role("button", name="Resume").click()
    expect_clip(page, before, confirmations["resume"])

    # A skip out of the warm-up jumps over the reverse bout's slow-down: it is said once the landed
    # switch phrase (one start lead after the tap) has ended, and no "Skipping ahead." is said over it.
    start_lead_s = page.request.get(f"/api/sessions/{session_id}").json()["start_lead_ms"] / 1000
    slow_down = confirmations["skip_to"]["1"]
    before = page.evaluate("window.__cueStarts.length")
    page.get_by_role("button", name="Skip").click()
    expect_clip(page, before, slow_down, later_s=start_lead_s + slow_down["after_ms"] / 1000)
    clips = [r for r in sources_since(page, before) if r["confirmation"]]
    assert all(r["samples"] == clip_length(page, slow_down) for r in clips), (
        "a clip besides the slow-down was played for the skip"
    )

    # A skip into the forward bout (no slow-down jumped over): its switch phrase is the only answer.
    before = page.evaluate("window.__cueStarts.length")
    page.get_by_role("button", name="Skip").click()
    time.sleep(QUIET_AFTER_SKIP_S)
    assert [r for r in sources_since(page, before) if r["confirmation"]] == [], (
        "a skip played a clip over the switch phrase"
    )
    assert not page.js_errors


@pytest.mark.realtime(seconds=6)
def test_pocket_mode_confirms_an_in_app_pause_beside_the_track_and_not_a_lock_screen_one(phone_page, server):
    page = phone_page(server.url)
    page.context.add_init_script(MEDIA_HANDLERS_JS)
    page.goto("/")
    plan = create_plan(page, "Heard in the pocket", MINUTE)
    log = start_in_mode(page, plan, "pocket")
    hello = session_of(log)
    session_id, lead_in = hello["session"]["id"], hello["track_lead_in_ms"]
    wait_until(lambda: track(page)["time"] > lead_in + 1000, 10, "the track is not playing")
    confirmations = page.request.get(f"/api/sessions/{session_id}").json()["confirmations"]

    # A tap on Pause in the app: the track pauses where it is, the clip plays beside it.
    before = page.evaluate("window.__cueStarts.length")
    page.get_by_role("button", name="Pause").click()
    expect_clip(page, before, confirmations["pause"])
    wait_until(lambda: track(page)["paused"], 5, "the track did not pause")
    paused_at = track(page)["time"]
    time.sleep(0.5)
    assert abs(track(page)["time"] - paused_at) < 1, "the track was moved for the confirmation"
    page.get_by_role("button", name="Resume").click()
    wait_until(lambda: not track(page)["paused"], 5, "the track did not play again")

    # The lock screen's pause: the track's silence is the answer, no clip.
    before = page.evaluate("window.__cueStarts.length")
    page.evaluate("window.__mediaHandlers.pause({action: 'pause'})")
    wait_until(
        lambda: page.request.get(f"/api/sessions/{session_id}").json()["state"] == "paused",
        5,
        "the server did not pause",
    )
    time.sleep(1)
    assert sources_since(page, before) == [], "a lock-screen pause played a clip"
    assert not page.js_errors
