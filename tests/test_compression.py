"""gzip on the wire (server/compression.py): the page, the app's files and the API's JSON, compressed for a
browser that takes it, revalidated by a weak ETag; what is small, compressed already or refused goes as it is."""

from __future__ import annotations

import gzip
import json

import pytest

from server import create_app
from server.compression import accepts_gzip
from test_web import WEB, app_on_a_copy_of_web


@pytest.fixture
def client(tmp_path, shared_audio_cache):
    """The app on a temporary database and the run's audio cache (never calling Google's voice), via Flask's client."""
    config = {"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(shared_audio_cache), "GTTS_ENABLED": False}
    return create_app(config).test_client()


# What a phone's browser says it takes (Chromium's own header).
GZIP = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.mark.parametrize("path", ["/", "/js/builtin.js", "/css/screens.css", "/icons/walker.svg", "/sw.js"])
def test_text_files_go_out_compressed_to_a_browser_that_takes_gzip_and_still_revalidate(client, path):
    plain, packed = client.get(path), client.get(path, headers=GZIP)
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data) / 2
    assert int(packed.headers["Content-Length"]) == len(packed.data)
    # Either answer names what it depends on, so no cache hands the compressed one to a browser that did not ask.
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    if path == "/sw.js":
        return  # the worker has no ETag: browsers fetch it fresh to look for updates
    # The same file in another encoding: a weak tag, and a revalidation with either tag is a 304.
    assert packed.headers["ETag"] == "W/" + plain.headers["ETag"]
    for tag in (packed.headers["ETag"], plain.headers["ETag"]):
        again = client.get(path, headers={**GZIP, "If-None-Match": tag})
        assert again.status_code == 304 and again.data == b"" and "Accept-Encoding" in again.headers["Vary"]
        assert again.headers["ETag"] == packed.headers["ETag"]


def test_what_is_small_already_compressed_or_refused_goes_out_as_it_is(client):
    icon = client.get("/icons/icon-192.png", headers=GZIP)
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers
    refused = client.get("/js/builtin.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.data == (WEB / "js" / "builtin.js").read_bytes()
    small = client.get("/api/settings", headers=GZIP)
    assert small.status_code == 200 and "Content-Encoding" not in small.headers


def test_the_api_s_json_goes_out_compressed_to_a_browser_that_takes_gzip(client):
    plain, packed = client.get("/api/programmes"), client.get("/api/programmes", headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    assert len(packed.data) < len(plain.data) / 4


def test_a_changed_file_goes_out_compressed_as_it_is_now(tmp_path):
    client = app_on_a_copy_of_web(tmp_path).test_client()
    before = client.get("/css/screens.css", headers=GZIP)
    rules = "".join(f".rule-{n} {{ margin: {n}px; }}\n" for n in range(200))
    (tmp_path / "web" / "css" / "screens.css").write_text(rules)
    after = client.get("/css/screens.css", headers={**GZIP, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and gzip.decompress(after.data).decode() == rules
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br, zstd", True),
        ("GZIP", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("*;q=0, gzip", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_gzip_is_sent_only_when_the_request_takes_it(header, takes):
    assert accepts_gzip({"HTTP_ACCEPT_ENCODING": header}) is takes


def test_a_head_and_a_revalidation_by_date_say_what_the_get_would(client):
    get = client.get("/js/builtin.js", headers=GZIP)
    head = client.head("/js/builtin.js", headers=GZIP)
    assert head.status_code == 200 and head.data == b""
    for name in ("Content-Encoding", "Content-Length", "ETag", "Vary", "Last-Modified"):
        assert head.headers[name] == get.headers[name], name
    by_date = client.get("/js/builtin.js", headers={**GZIP, "If-Modified-Since": get.headers["Last-Modified"]})
    assert by_date.status_code == 304 and by_date.headers["ETag"] == get.headers["ETag"]
    assert "Accept-Encoding" in by_date.headers["Vary"]


@pytest.mark.parametrize("path", ["/", "/js/builtin.js"])
def test_a_range_is_a_part_of_the_plain_file_and_a_gzip_client_gets_it_whole(client, path):
    plain = client.get(path).data
    part = client.get(path, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == plain[:10] and "Content-Encoding" not in part.headers
    assert "Accept-Encoding" in part.headers["Vary"]
    # Compressed bytes are never sliced: the whole answer, and nothing that says it is a part.
    whole = client.get(path, headers={**GZIP, "Range": "bytes=0-9", "If-Range": part.headers["ETag"]})
    assert whole.status_code == 200 and gzip.decompress(whole.data) == plain
    assert "Content-Range" not in whole.headers and "Accept-Ranges" not in whole.headers


def test_audio_and_the_csv_export_go_out_as_they_are_to_a_gzip_client(client):
    client.get("/")  # a device
    plan = client.post(
        "/api/plans", json={"name": "Short", "segments": [{"kind": "forward", "seconds": 30}]}
    ).get_json()
    session = client.post("/api/sessions", json={"plan_id": plan["id"]}, headers=GZIP)
    assert session.status_code == 201 and session.headers["Content-Encoding"] == "gzip"
    cue = json.loads(gzip.decompress(session.data))["timeline"][0]
    # MP3 is compressed already, and a player asks for byte ranges of it: they stay ranges of the file.
    audio = client.get(cue["audio"], headers={**GZIP, "Range": "bytes=0-99"})
    assert audio.status_code == 206 and len(audio.data) == 100 and "Content-Encoding" not in audio.headers
    export = client.get("/api/history.csv", headers=GZIP)
    assert export.status_code == 200 and "Content-Encoding" not in export.headers
