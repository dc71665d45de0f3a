"""The phone app's own routes: the page, its manifest and service worker, and the phone address as a QR code."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import segno
from flask import Blueprint, Response, current_app, request, send_file

from . import network
from .compression import VARY, accepts_gzip, compress_file
from .security import content_security_policy

bp = Blueprint("pages", __name__)

# The page and the worker must be fetched fresh every time, so a new version reaches phones
# on their next visit (the service worker, not the HTTP cache, keeps the app offline).
NO_CACHE = "no-cache"
SW_VERSION_PLACEHOLDER = 'const VERSION = "dev";'
# The list of precached files in sw.js: `const PRECACHE = [ "...", ... ];`.
PRECACHE_PATTERN = re.compile(r"const PRECACHE = \[(.*?)\];", re.S)
# The page's ETag: the start of its bytes' SHA-256 (plenty to tell two versions apart).
PAGE_ETAG_CHARS = 32
NS_PER_S = 1e9
QR_SCALE = 6
QR_BORDER = 2
# The page's inline <style> blocks (its first screen's rules: the first frame, the picker, what every screen shares):
# the policy allows each by its hash.
INLINE_STYLE_PATTERN = re.compile(r"<style>(.*?)</style>", re.S)


def web_dir() -> Path:
    """The folder of the static app (the Flask static folder)."""
    return Path(current_app.static_folder)


def precache_list(sw_source: str) -> list[str]:
    """The URLs the service worker precaches, read from its source."""
    match = PRECACHE_PATTERN.search(sw_source)
    if not match:
        raise ValueError("sw.js has no PRECACHE list")
    return re.findall(r'"([^"]+)"', match.group(1))


def url_to_file(url: str) -> str:
    """The web/ file a precached URL is served from ("./" is the page, index.html)."""
    path = url.removeprefix("./").removeprefix("/")
    return path or "index.html"


@lru_cache(maxsize=4)
def _stamped_worker(folder: str, mtimes: tuple) -> str:
    """sw.js with its version set to a hash of every precached file, so any change ships a new cache."""
    root = Path(folder)
    source = (root / "sw.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode())
    for url in precache_list(source):
        digest.update(url.encode())
        digest.update((root / url_to_file(url)).read_bytes())
    return source.replace(SW_VERSION_PLACEHOLDER, f'const VERSION = "{digest.hexdigest()[:12]}";', 1)


def _fresh(response: Response) -> Response:
    """Mark a response as one to revalidate on every load."""
    response.headers["Cache-Control"] = NO_CACHE
    return response


@bp.after_app_request
def revalidate_app_files(response: Response) -> Response:
    """The app's files (JS, CSS, icons) are revalidated on every load, never guessed fresh from
    their age: without a service worker (plain http) that would mix two versions of the app."""
    if request.endpoint == "static" and "Cache-Control" not in response.headers:
        _fresh(response)
    return response


def style_hash_sources(html: str) -> tuple[str, ...]:
    """The CSP source ('sha256-...') of each inline <style> in a page, as browsers hash its text."""
    return tuple(
        f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'"
        for style in INLINE_STYLE_PATTERN.findall(html)
    )


@lru_cache(maxsize=4)
def _page_style_hashes(page: bytes) -> tuple[str, ...]:
    """The inline style hashes of the page's bytes (worked out again only when the page changes)."""
    return style_hash_sources(page.decode("utf-8"))


def _compressed(response: Response, data: bytes) -> Response:
    """The answer `data` makes, gzip-compressed for a browser that takes it (a weak ETag: another encoding).

    Whole, never a range of the plain bytes (RFC 9110 14.2 lets a server ignore Range): a gzip client is
    never handed a slice of bytes it does not hold.
    """
    response.vary.add(VARY)
    if not accepts_gzip(request.environ) or response.status_code not in (200, 206, 304, 416):
        return response
    etag, _ = response.get_etag()
    if etag:
        response.set_etag(etag, weak=True)  # a 304 too, as the compressed answer it stands for
    if response.status_code == 304:
        return response
    response.close()  # send_file's open file or slice: the compressed copy is sent instead
    response.status_code = 200
    for name in ("Content-Range", "Accept-Ranges"):
        response.headers.pop(name, None)
    response.direct_passthrough = False
    response.set_data(compress_file(data))
    response.headers["Content-Encoding"] = "gzip"
    return response


@bp.get("/")
def index():
    """The app itself, with a policy that lets its own first-screen styles apply and nothing else inline."""
    page = web_dir() / "index.html"
    mtime_ns = page.stat().st_mtime_ns
    # Read once: the bytes sent, their tag and their style hashes are all of the same version of the file.
    data = page.read_bytes()
    response = _fresh(
        send_file(
            BytesIO(data),
            mimetype="text/html",
            conditional=True,
            etag=hashlib.sha256(data).hexdigest()[:PAGE_ETAG_CHARS],
            last_modified=mtime_ns / NS_PER_S,
        )
    )
    response.headers["Content-Security-Policy"] = content_security_policy(
        request.scheme, request.host, _page_style_hashes(data)
    )
    return _compressed(response, data)


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest, with the media type browsers expect."""
    return _fresh(send_file(web_dir() / "manifest.webmanifest", mimetype="application/manifest+json", conditional=True))


@bp.get("/sw.js")
def service_worker():
    """The service worker, version-stamped, never cached by HTTP, allowed to control the whole site."""
    folder = web_dir()
    mtimes = tuple(p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file())
    response = Response(_stamped_worker(str(folder), mtimes), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # Fetched again on every visit (browsers check the worker for updates): 15 KB, about 4 compressed.
    return _compressed(_fresh(response), response.get_data())


def phone_address() -> dict:
    """The address a phone should open, and whether it can install the app from there.

    Opened as localhost, the page names this machine's LAN address on the same port instead
    (a phone cannot reach "localhost"); PHONE_URL in the config (RETROWALK_PHONE_URL), such as
    a tunnel's https address, wins over both.
    """
    configured = current_app.config.get("PHONE_URL")
    if configured:
        url = configured.rstrip("/") + "/"
    else:
        here = urlsplit("//" + request.host)
        host = here.hostname or "localhost"
        if network.is_loopback(host):
            host = network.lan_address() or host
        if ":" in host:
            host = f"[{host}]"
        url = f"{request.scheme}://{host}{f':{here.port}' if here.port else ''}/"
    parts = urlsplit(url)
    return {
        "url": url,
        "secure": parts.scheme == "https",
        "reachable": not network.is_loopback(parts.hostname or "localhost"),
    }


@bp.get("/phone.json")
def phone():
    """Where to open the app on a phone (for the desktop's "take it to the gym" panel)."""
    return phone_address()


@bp.get("/phone-qr.svg")
def phone_qr():
    """A QR code of the phone address, drawn here as SVG (no third-party service)."""
    qr = segno.make(phone_address()["url"], error="m")
    out = BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=QR_SCALE,
        border=QR_BORDER,
        dark="#0b1220",
        light="#ffffff",
        xmldecl=False,
        svgns=True,
        title="QR code of the address to open on your phone",
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response
