"""The phone app's files and pages: precache list honest both ways, manifest, worker, QR, no-build rules."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from server import create_app
from server.pages import precache_list, url_to_file

WEB = Path(__file__).resolve().parent.parent / "web"
JS_FILES = sorted(WEB.rglob("*.js"))
MODULES = [path for path in JS_FILES if path.name != "sw.js"]


@pytest.fixture
def app(tmp_path):
    """An app on a temporary database, never calling Google's voice."""
    return create_app({"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(tmp_path / "audio"), "GTTS_ENABLED": False})


@pytest.fixture
def client(app):
    return app.test_client()


def web_files() -> set[str]:
    """Every file under web/, as a path relative to it."""
    return {str(path.relative_to(WEB)) for path in WEB.rglob("*") if path.is_file()}


def test_precache_lists_every_web_file_and_nothing_else():
    listed = [url_to_file(url) for url in precache_list((WEB / "sw.js").read_text())]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert set(listed) == web_files() - {"sw.js"}


def test_page_is_served_fresh_and_hands_out_the_device_cookie(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "rw_device=" in response.headers["Set-Cookie"]


def test_page_loads_one_module_and_nothing_from_elsewhere():
    html = (WEB / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/js/main.js">']
    for path in [WEB / "index.html", WEB / "manifest.webmanifest", *JS_FILES, *WEB.rglob("*.css")]:
        assert not re.search(r"""(src|href|url\()\s*=?\s*["']?(https?:)?//""", path.read_text()), f"{path} loads from another site"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(WEB)))
def test_modules_build_the_dom_without_html_strings_and_document_their_exports(path):
    source = path.read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "document.write" not in source
    for match in re.finditer(r"^export (?:async )?(?:function|class|const) (\w+)", source, re.M):
        before = source[: match.start()].rstrip()
        assert before.endswith("*/"), f"{match.group(1)} in {path.name} has no JSDoc"
    for target in re.findall(r'from "(\.[^"]+)"', source):
        assert (path.parent / target).resolve().is_file(), f"{path.name} imports missing {target}"


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    for key in ("name", "short_name", "start_url", "scope", "display", "background_color", "theme_color"):
        assert manifest[key], key
    assert manifest["display"] == "standalone"
    pngs = {}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
        if icon["type"] == "image/png":
            data = (WEB / icon["src"].lstrip("/")).read_bytes()
            width, height = struct.unpack(">II", data[16:24])
            assert f"{width}x{height}" == icon["sizes"]
            pngs[(icon["sizes"], icon["purpose"])] = icon["src"]
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(pngs)


def test_ios_home_screen_tags_and_touch_icon(client):
    html = client.get("/").get_data(as_text=True)
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
    href = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', html).group(1)
    data = client.get(href).data
    assert struct.unpack(">II", data[16:24]) == (180, 180)


def test_worker_is_served_fresh_for_the_whole_site_with_a_content_version(client):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    source = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "(\w+)";', source).group(1)
    assert version != "dev" and len(version) == 12


def test_worker_version_changes_when_any_precached_file_changes(tmp_path):
    from server.pages import _stamped_worker

    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "sw.js").write_text('const VERSION = "dev";\nconst PRECACHE = [\n  "/",\n  "/a.js",\n];\n')
    (folder / "index.html").write_text("<p>one</p>")
    (folder / "a.js").write_text("1")
    first = _stamped_worker(str(folder), (1,))
    (folder / "a.js").write_text("2")
    assert _stamped_worker(str(folder), (2,)) != first


def test_worker_never_touches_websockets_and_keeps_audio_and_api_apart():
    source = (WEB / "sw.js").read_text()
    assert '"/ws/' not in source
    assert 'startsWith("/audio/")' in source and 'startsWith("/api/")' in source
    assert "response.ok" in source and "cache.addAll" in source


def test_phone_address_names_the_lan_address_not_localhost(client, monkeypatch):
    monkeypatch.setattr("server.cli._lan_address", lambda: "192.168.1.20")
    answer = client.get("/phone.json", base_url="http://localhost:8123").json
    assert answer == {"url": "http://192.168.1.20:8123/", "secure": False, "reachable": True}
    answer = client.get("/phone.json", base_url="https://walk.example.org").json
    assert answer == {"url": "https://walk.example.org/", "secure": True, "reachable": True}


def test_phone_address_from_config_wins(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "AUDIO_CACHE": str(tmp_path / "a"), "GTTS_ENABLED": False,
                      "PHONE_URL": "https://retro.tunnel.example"})
    assert app.test_client().get("/phone.json").json["url"] == "https://retro.tunnel.example/"


def test_phone_address_without_a_network_says_it_is_unreachable(client, monkeypatch):
    monkeypatch.setattr("server.cli._lan_address", lambda: None)
    assert client.get("/phone.json", base_url="http://127.0.0.1:8000").json["reachable"] is False


def test_qr_code_is_an_svg_drawn_here(client, monkeypatch):
    monkeypatch.setattr("server.cli._lan_address", lambda: "192.168.1.20")
    response = client.get("/phone-qr.svg", base_url="http://localhost:8123")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "<path" in svg and "<script" not in svg and "href" not in svg
    import segno

    expected = segno.make("http://192.168.1.20:8123/", error="m")
    assert f'width="{(expected.symbol_size(scale=6, border=2))[0]}"' in svg


def test_app_files_are_revalidated_so_two_versions_never_mix(client):
    response = client.get("/js/main.js")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert client.get("/js/main.js", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
