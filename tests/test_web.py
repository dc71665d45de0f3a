"""The phone app's files and pages: precache list honest both ways, manifest, worker, QR, no-build rules."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import shutil
import struct
import subprocess
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
    return create_app(
        {"DATA_DIR": str(tmp_path / "data"), "AUDIO_CACHE": str(tmp_path / "audio"), "GTTS_ENABLED": False}
    )


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


def test_the_brand_in_the_page_is_the_app_icon_drawn_inline():
    """The top bar draws web/icons/walker.svg's shapes in the page itself (no request, no image document
    before the first screen), so the two never differ."""
    # Every element but the <svg> itself and its <title> (the page's mark is aria-hidden: the link names the app).
    shapes = lambda text: re.findall(r"<(?!/|!|svg\b|title\b)\w+\b[^>]*>", text)  # noqa: E731
    view_box = lambda text: re.search(r'<svg[^>]*viewBox="([^"]+)"', text).group(1)  # noqa: E731
    icon = (WEB / "icons" / "walker.svg").read_text()
    brand = re.search(r'<svg class="brand-mark"[^>]*>.*?</svg>', (WEB / "index.html").read_text(), re.S).group(0)
    assert 'aria-hidden="true"' in brand and view_box(brand) == view_box(icon)
    assert shapes(brand) == shapes(icon) and len(shapes(icon)) >= 10


def test_page_loads_one_module_and_nothing_from_elsewhere():
    html = (WEB / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/js/main.js">']
    for path in [WEB / "index.html", WEB / "manifest.webmanifest", *JS_FILES, *WEB.rglob("*.css")]:
        assert not re.search(r"""(src|href|url\()\s*=?\s*["']?(https?:)?//""", path.read_text()), (
            f"{path} loads from another site"
        )


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
    # Phones hold it upright anyway; a tablet on a treadmill console is often landscape: never locked.
    assert manifest.get("orientation", "any") == "any"
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
    monkeypatch.setattr("server.network.lan_address", lambda: "192.168.1.20")
    answer = client.get("/phone.json", base_url="http://localhost:8123").json
    assert answer == {"url": "http://192.168.1.20:8123/", "secure": False, "reachable": True}
    answer = client.get("/phone.json", base_url="https://walk.example.org").json
    assert answer == {"url": "https://walk.example.org/", "secure": True, "reachable": True}


def test_phone_address_from_config_wins(tmp_path):
    app = create_app(
        {
            "DATA_DIR": str(tmp_path / "d"),
            "AUDIO_CACHE": str(tmp_path / "a"),
            "GTTS_ENABLED": False,
            "PHONE_URL": "https://retro.tunnel.example",
        }
    )
    assert app.test_client().get("/phone.json").json["url"] == "https://retro.tunnel.example/"


def test_phone_address_without_a_network_says_it_is_unreachable(client, monkeypatch):
    monkeypatch.setattr("server.network.lan_address", lambda: None)
    assert client.get("/phone.json", base_url="http://127.0.0.1:8000").json["reachable"] is False


def test_qr_code_is_an_svg_drawn_here(client, monkeypatch):
    monkeypatch.setattr("server.network.lan_address", lambda: "192.168.1.20")
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


def app_on_a_copy_of_web(tmp_path):
    """An app serving a copy of web/ the test may change."""
    shutil.copytree(WEB, tmp_path / "web")
    return create_app(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "AUDIO_CACHE": str(tmp_path / "audio"),
            "GTTS_ENABLED": False,
            "WEB_DIR": str(tmp_path / "web"),
        }
    )


def test_an_app_file_asked_again_is_the_same_answer_until_the_file_changes(tmp_path):
    """App files answered from memory (server/appfiles.py) carry Flask's own headers, and a changed file is new."""
    client = app_on_a_copy_of_web(tmp_path).test_client()
    first, again = client.get("/css/screens.css"), client.get("/css/screens.css")
    assert again.data == first.data == (tmp_path / "web" / "css" / "screens.css").read_bytes()
    # Byte for byte but the Date, which is the moment of each answer (a second may tick between the two).
    without_date = lambda headers: [(name, value) for name, value in headers if name != "Date"]  # noqa: E731
    assert without_date(again.headers) == without_date(first.headers)
    assert again.headers["Content-Security-Policy"] and again.headers["Cache-Control"] == "no-cache"
    (tmp_path / "web" / "css" / "screens.css").write_text("main { color: red; }\n")
    changed = client.get("/css/screens.css")
    assert changed.data == b"main { color: red; }\n" and changed.headers["ETag"] != first.headers["ETag"]
    assert client.get("/css/screens.css", headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_an_app_file_reached_by_another_host_names_that_host(client):
    """The page's policy names the socket origin of the host the phone used, not the first one that asked."""
    client.get("/js/main.js", base_url="http://localhost:8000")
    other = client.get("/js/main.js", base_url="http://192.168.1.20:8000")
    assert "ws://192.168.1.20:8000" in other.headers["Content-Security-Policy"]
    assert "localhost" not in other.headers["Content-Security-Policy"]


def style_sources(policy: str) -> list[str]:
    """The style-src sources of a Content-Security-Policy header."""
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    return directives["style-src"].split()


def test_the_page_paints_its_first_screen_from_its_own_inline_style_allowed_by_hash_alone(client, tmp_path):
    """The first frame and the picker need no stylesheet: index.html holds their rules, the page's policy allows
    that block by its SHA-256 and nothing else inline, and a change to the block is a new hash."""
    html = (WEB / "index.html").read_text(encoding="utf-8")
    blocks = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(blocks) == 1 and "[hidden]" in blocks[0] and ".skeleton" in blocks[0] and ".tabs" in blocks[0]
    # The picker's cards and buttons, and what every screen shares (the toast).
    assert all(rule in blocks[0] for rule in (".plan-card", ".programme", ".btn-primary", ".toast"))
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    page = client.get("/")
    assert style_sources(page.headers["Content-Security-Policy"]) == ["'self'", f"'sha256-{digest}'"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    # Only the page carries the hash: a file or an API answer allows no inline style at all.
    assert style_sources(client.get("/css/screens.css").headers["Content-Security-Policy"]) == ["'self'"]
    assert style_sources(client.get("/api/plans").headers["Content-Security-Policy"]) == ["'self'"]
    # The later screens' stylesheet is applied by the router when one of them is first opened.
    assert 'rel="stylesheet"' not in html and 'as="style"' not in html
    # An edited page (another copy of web/) is served with its own block's hash, not a remembered one.
    changed = app_on_a_copy_of_web(tmp_path)
    copy = tmp_path / "web" / "index.html"
    copy.write_text(html.replace("<style>", "<style>\n    main { color: white; }", 1), encoding="utf-8")
    sources = style_sources(changed.test_client().get("/").headers["Content-Security-Policy"])
    assert len(sources) == 2 and sources[1] != f"'sha256-{digest}'"


def test_only_the_apps_files_are_answered_from_its_folders(client):
    for path in ("/js/../../server/__init__.py", "/js/%2e%2e/%2e%2e/pyproject.toml", "/css/missing.css"):
        assert client.get(path).status_code == 404, path
    assert client.get("/js/main.js?v=2").status_code == 200


# --- The phone mirrors the server's rules, and loads its later screens lazily ---------------------


def js_constant(path: Path, name: str) -> str:
    """The source text of `NAME: value` (or `const NAME = value`) in a module."""
    match = re.search(rf"\b{name}(?::|\s*=)\s*([^,;\n]+)", path.read_text())
    assert match, f"{name} not found in {path.name}"
    return match.group(1).strip()


def test_the_editor_checks_plans_by_the_servers_rules():
    from server import plans

    source = WEB / "js" / "plans.js"
    for name in (
        "MIN_SEGMENT_SECONDS",
        "MAX_SEGMENT_SECONDS",
        "MAX_SEGMENTS",
        "MAX_PLAN_SECONDS",
        "MIN_SPEED_MPH",
        "MAX_SPEED_MPH",
        "MAX_NAME_LENGTH",
        "MAX_DESCRIPTION_LENGTH",
    ):
        value = math.prod(float(factor) for factor in js_constant(source, name).split("*"))
        assert value == getattr(plans, name), name
    kinds = re.search(
        r"export const KINDS = Object\.freeze\(\{(.*?)\}\);", (WEB / "js" / "workout.js").read_text(), re.S
    ).group(1)
    assert tuple(re.findall(r"^\s+(\w+): \{", kinds, re.M)) == plans.SEGMENT_KINDS


def test_settings_screen_offers_what_the_server_accepts():
    from server import cues, phrases, settings

    source = WEB / "js" / "settings.js"
    assert int(js_constant(source, "MIN_WEIGHT_KG")) == settings.MIN_WEIGHT_KG
    assert int(js_constant(source, "MAX_WEIGHT_KG")) == settings.MAX_WEIGHT_KG
    countdown = re.search(r"COUNTDOWN_CHOICES: \[([^\]]*)\]", source.read_text()).group(1)
    assert tuple(int(n) for n in countdown.split(",")) == cues.COUNTDOWN_CHOICES
    languages = re.search(r"LANGUAGES: \{([^}]*)\}", source.read_text()).group(1)
    assert tuple(re.findall(r"(\w+): \"", languages)) == phrases.LANGUAGES
    assert float(js_constant(WEB / "js" / "workout.js", "KM_PER_MILE")) == phrases.KM_PER_MILE
    defaults = re.search(r"DEFAULT_SETTINGS = Object\.freeze\(\{(.*?)\}\);", source.read_text(), re.S).group(1)
    assert set(re.findall(r"(\w+):", defaults)) == settings.FIELDS


LAZY = (
    "screens/editor.js",
    "screens/incoming.js",
    "screens/progress.js",
    "screens/settings.js",
    "charts.js",
    "plans.js",
    "screens/ready.js",
    "screens/player.js",
    "screens/summary.js",
    "screens/history.js",
    # The walk machinery, the other screens' controllers and the update offer load after the first screen.
    "coach.js",
    "audio.js",
    "live.js",
    "pocket.js",
    "walkclock.js",
    "offline.js",
    "walkstore.js",
    "updates.js",
    "clock.js",
    "phone.js",
    # What the picker needs only after its first paint (its server side, the API, the settings, the
    # service worker) and the numbers of the later screens: the first screen is at its 30 KB budget.
    "api.js",
    "settings.js",
    "install.js",
    "pagewords.js",
    "figures.js",
    "rounding.js",
    "controllers/pickerdata.js",
    "controllers/planlist.js",
    "controllers/walk.js",
    "controllers/editing.js",
    "controllers/records.js",
    "controllers/settings.js",
)


def static_imports(path: Path, seen: set[Path] | None = None) -> set[Path]:
    """Every module `path` loads before it runs (its static imports, transitively)."""
    seen = set() if seen is None else seen
    for target in re.findall(r'^(?:import|export) (?:[^;]*? from )?"(\.[^"]+)";', path.read_text(), re.M | re.S):
        module = (path.parent / target).resolve()
        if module not in seen:
            seen.add(module)
            static_imports(module, seen)
    return seen


def test_the_new_screens_load_when_opened_not_with_the_page():
    first_load = {str(p.relative_to(WEB / "js")) for p in static_imports(WEB / "js" / "main.js")}
    assert not set(LAZY) & first_load, f"loaded with the page: {set(LAZY) & first_load}"
    controllers = "".join(path.read_text() for path in (WEB / "js" / "controllers").glob("*.js"))
    for module in (
        "screens/editor.js",
        "screens/incoming.js",
        "screens/progress.js",
        "screens/settings.js",
        "plans.js",
    ):
        assert f'import("../{module}")' in controllers, module


def test_the_page_preloads_exactly_what_its_first_screen_imports():
    """Every module main.js loads before it runs is fetched at once from the page (no waterfall), and nothing more."""
    html = (WEB / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/([^"]+)">', html))
    assert preloaded == {str(p.relative_to(WEB)) for p in static_imports(WEB / "js" / "main.js")}


def test_every_tab_has_a_route():
    html = (WEB / "index.html").read_text()
    router = (WEB / "js" / "router.js").read_text()
    tabs = re.findall(r'<a href="#/(\w*)" data-tab="(\w+)">', html)
    assert {tab for _, tab in tabs} == {"workouts", "progress", "history", "settings"}
    for _path, tab in tabs:
        assert f'"{tab}"]' in router, f"no route shows the {tab} tab"


NODE = shutil.which("node")
# Runs the pure plan module under Node: lengths as typed, and a share link of a plan.
PLANS_JS_PROBE = """
import * as plans from "%s";
const typed = ["1:30", "2", "1.5", "45s", "0:04", "60:00", "60:01", "abc", ""];
const lengths = Object.fromEntries(typed.map((t) => [t, plans.parseLength(t)]));
const speeds = ["6.4", "6.5", "0.5", "0.4", "2,4"].map((t) => plans.parseSpeed(t, "kmh"));
const plan = {
  name: "Évening walk ✓", description: "",
  segments: [{ kind: "reverse", seconds: 60, speed_mph: 1.5 }, { kind: "forward", seconds: 90 }],
};
const packed = plans.encodeShare(plan);
const back = plans.decodeShare(packed);
const cut = plans.decodeShare(packed.slice(0, -6));
console.log(JSON.stringify({ lengths, speeds, packed, back, cut }));
"""


@pytest.mark.skipif(NODE is None, reason="Node.js runs the pure plan module; install nodejs to run this check")
def test_plan_lengths_speeds_and_share_links_agree_with_the_server(tmp_path):
    from server.plans import parse_plan

    probe = tmp_path / "probe.mjs"
    probe.write_text(PLANS_JS_PROBE % (WEB / "js" / "plans.js").as_uri())
    out = json.loads(subprocess.run([NODE, str(probe)], capture_output=True, text=True, check=True, timeout=30).stdout)
    seconds = {text: answer.get("seconds") for text, answer in out["lengths"].items()}
    assert seconds == {
        "1:30": 90,
        "2": 120,
        "1.5": 90,
        "45s": 45,
        "0:04": None,
        "60:00": 3600,
        "60:01": None,
        "abc": None,
        "": None,
    }
    assert [answer.get("mph") for answer in out["speeds"]] == [4.0, None, 0.3, None, 1.5]
    # A share link is base64url JSON any client can read, and the server accepts what it holds.
    raw = json.loads(base64.urlsafe_b64decode(out["packed"] + "=" * (-len(out["packed"]) % 4)))
    plan = parse_plan({key: raw[key] for key in ("name", "description", "segments")}, "my-x")
    assert plan.name == "Évening walk ✓" and plan.backward_seconds == 60
    assert out["back"]["plan"]["segments"] == raw["segments"] and out["cut"]["plan"] is None
