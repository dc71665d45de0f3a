"""The phone with no server, in Debian's Chromium: a played walk's track plays from the
service worker's cache (byte ranges answered with 206, as Safari needs), and a walk played
with the server down counts in history and the week's minutes once the server is back."""

from __future__ import annotations

import pytest

from browser_support import create_plan, open_plan, wait_until

pytestmark = pytest.mark.browser

SW_READY_JS = """() => Promise.race([
  navigator.serviceWorker.ready.then(() => true),
  new Promise((resolve) => setTimeout(() => resolve(false), 10000)),
])"""
# Short plans: 5-second segments, the shortest a plan may have.
SHORT = [
    {"kind": "warmup", "seconds": 5},
    {"kind": "reverse", "seconds": 5, "speed_mph": 1.5},
    {"kind": "forward", "seconds": 5},
]
# Generous bounds for a loaded 2-core machine; each wait polls and ends as soon as it can.
CACHE_WAIT_S = 30
WALK_WAIT_S = 60
UPLOAD_WAIT_S = 30

# One fetch from the page (so through the service worker), with its status, headers and bytes.
FETCH_JS = """async ([url, range]) => {
  const response = await fetch(url, range ? { headers: { Range: range } } : {});
  const bytes = Array.from(new Uint8Array(await response.arrayBuffer()));
  return { status: response.status, range: response.headers.get("content-range"),
           length: response.headers.get("content-length"), type: response.headers.get("content-type"), bytes };
}"""
TRACK_KEPT_JS = """async (url) => Boolean(await (await caches.open("retrowalk-tracks")).match(url))"""
# An <audio> element loading the track (its metadata needs ranges from the service worker).
TRACK_DURATION_JS = """(url) => new Promise((resolve) => {
  const audio = new Audio();
  audio.preload = "auto";
  audio.onloadedmetadata = () => resolve(audio.duration);
  audio.onerror = () => resolve(-1);
  audio.src = url;
})"""

# Seconds the walk's track element (pocket.js) has played, 0 when there is none or it is paused.
TRACK_PLAYING_JS = """(() => {
  const track = document.getElementById("walk-track");
  return track && !track.paused ? track.currentTime : 0;
})()"""


def controlled(page) -> bool:
    """True once the service worker controls the page (a reload may be needed the first time)."""
    if not page.evaluate(SW_READY_JS):
        return False
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        page.reload()
    return page.evaluate("Boolean(navigator.serviceWorker.controller)")


def new_session(page, plan_id: str) -> dict:
    """POST /api/sessions for the page's own device (its cookie)."""
    response = page.request.post("/api/sessions", data={"plan_id": plan_id})
    assert response.status == 201, response.text()
    return response.json()


def test_a_played_track_plays_offline_from_the_cache_with_byte_ranges(phone_page, fresh_server):
    running = fresh_server()
    page = phone_page(running.url)
    page.goto("/")
    assert controlled(page), "the service worker never took control"
    plan = create_plan(page, "Range walk", SHORT)
    track = new_session(page, plan["id"])["track"]
    whole = page.request.get(track).body()
    assert len(whole) > 1000

    # The player asks for ranges: answered by the network (206), while the worker keeps the whole file.
    first = page.evaluate(FETCH_JS, [track, "bytes=0-99"])
    assert first["status"] == 206 and bytes(first["bytes"]) == whole[:100]
    wait_until(lambda: page.evaluate(TRACK_KEPT_JS, track), CACHE_WAIT_S, "the track was never kept for offline")

    running.stop()
    page.context.set_offline(True)
    middle = page.evaluate(FETCH_JS, [track, "bytes=100-299"])
    assert middle["status"] == 206
    assert middle["range"] == f"bytes 100-299/{len(whole)}"
    assert middle["length"] == "200" and middle["type"] == "audio/mpeg"
    assert bytes(middle["bytes"]) == whole[100:300]
    tail = page.evaluate(FETCH_JS, [track, "bytes=-64"])
    assert tail["status"] == 206 and bytes(tail["bytes"]) == whole[-64:]
    from_start = page.evaluate(FETCH_JS, [track, f"bytes={len(whole) - 10}-"])
    assert bytes(from_start["bytes"]) == whole[-10:]
    past = page.evaluate(FETCH_JS, [track, f"bytes={len(whole)}-"])
    assert past["status"] == 416 and past["range"] == f"bytes */{len(whole)}"
    assert bytes(page.evaluate(FETCH_JS, [track, None])["bytes"]) == whole
    # A media element reads it offline: lead-in plus the 15-second plan.
    duration = page.evaluate(TRACK_DURATION_JS, track)
    assert duration >= 15, f"the track did not load offline (duration {duration})"
    assert not page.js_errors


def week(page) -> dict:
    """GET /api/stats/week for the page's device."""
    response = page.request.get("/api/stats/week")
    assert response.ok, response.text()
    return response.json()


def walked(page, plan_name: str) -> list[dict]:
    """The server's finished walks of one plan for the page's device (preparing a walk leaves one never started)."""
    response = page.request.get("/api/history")
    assert response.ok, response.text()
    return [entry for entry in response.json() if entry["plan_name"] == plan_name and entry["state"] == "finished"]


@pytest.mark.realtime(seconds=30)
def test_a_walk_played_with_the_server_down_counts_once_it_is_back(phone_page, fresh_server):
    running = fresh_server()
    page = phone_page(running.url)
    page.goto("/")
    assert controlled(page)
    plan = create_plan(page, "Walk without the server", SHORT)
    assert week(page)["minutes"] == 0
    page.reload()
    # Prepared once online: its timeline is remembered and its audio is in the cache.
    open_plan(page, plan["id"])
    page.click("text=Back to workouts")
    page.wait_for_selector(f'[data-offline="{plan["id"]}"]:not([hidden])')

    running.stop()
    page.context.set_offline(True)
    page.reload()
    open_plan(page, plan["id"])
    page.click("#start")
    # Pocket mode (the default): the walk's track plays from the service worker's cache.
    wait_until(lambda: page.evaluate(TRACK_PLAYING_JS) > 2, WALK_WAIT_S, "the walk's track did not play offline")
    page.wait_for_selector("text=Workout complete", timeout=WALK_WAIT_S * 1000)
    logs = page.evaluate("JSON.parse(localStorage.getItem('retrowalk.walklogs') || '[]')")
    assert len(logs) == 1 and logs[0]["events"][0]["type"] == "start" and logs[0]["ended"]
    page.goto("/#/history")
    page.wait_for_selector("text=On this phone")

    # The server is back: the phone hears the network return and uploads the walk.
    running.start()
    page.context.set_offline(False)
    walks = wait_until(lambda: walked(page, plan["name"]), UPLOAD_WAIT_S, "the walk never reached the server's history")
    assert len(walks) == 1
    assert walks[0]["ended_by"] == "complete", walks
    assert walks[0]["summary"]["walked_seconds"] == 15, walks
    # The week's minutes: 15 s walked, 5 of them backward (to a tenth of a minute). A walk this
    # short counts as a completed walk, not a session (stats.MIN_COUNTED_SESSION_S).
    this_week = week(page)
    assert this_week["minutes"] == pytest.approx(15 / 60, abs=0.05), this_week
    assert this_week["backward_minutes"] == pytest.approx(5 / 60, abs=0.05), this_week
    assert this_week["completed_sessions"] == 1, this_week
    wait_until(
        lambda: page.evaluate("localStorage.getItem('retrowalk.walklogs')") == "[]",
        UPLOAD_WAIT_S,
        "the phone kept the uploaded walk's log",
    )

    # Shown once, from the server: no longer "On this phone".
    # The page is on this screen already (a goto to the same #/history does not draw it again): the
    # upload draws it again from the server's answer, a fetch later, so that is waited for.
    page.goto("/#/history")
    page.wait_for_selector("text=On this phone", state="detached", timeout=UPLOAD_WAIT_S * 1000)
    page.wait_for_selector(".history li")
    assert page.locator(".history li", has_text=plan["name"]).count() == 1
    # Loading again uploads nothing twice.
    page.reload()
    page.wait_for_selector(".history li")
    assert len(walked(page, plan["name"])) == 1
    assert not page.js_errors
