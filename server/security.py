"""Browser-facing defaults: security headers on every response, one Origin check (every write, the socket's
handshake), trusted proxies only.

The Content-Security-Policy allows exactly what the phone app uses: its own scripts (one
module, no inline script), its own styles (styles set from script through the CSSOM are
allowed; the page's one inline <style>, its first screen's rules, by its hash, and no style
attribute), its own images, audio from this
site (and blob: URLs), its own API and session websocket, its own service worker and manifest,
and no framing by anyone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from .refusals import FORBIDDEN, Refusal

# The port an origin or Host without one means, by scheme.
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# The page scheme a request scheme belongs to (a socket's ws:// is an http page's).
WEB_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
# Requests that change something: a page from another site must not make them on a walker's behalf.
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'{style_hashes}; img-src 'self'; "
    "media-src 'self' blob:; connect-src 'self' {socket_origin}; worker-src 'self'; manifest-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The app keeps the screen on during a walk and plays cue audio; it needs nothing else.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "screen-wake-lock=(self), autoplay=(self), fullscreen=(self)"
)
REFERRER_POLICY = "same-origin"
NO_STORE = "no-store"
JSON_MIMETYPE = "application/json"


def content_security_policy(scheme: str, host: str, style_hashes: Iterable[str] = ()) -> str:
    """The policy for a page served at scheme://host: 'self' plus this host's websocket origin, and
    the inline styles of exactly these hashes ('sha256-...' sources).

    Older Safari needs the websocket origin spelled out.
    """
    socket_scheme = "wss" if scheme == "https" else "ws"
    return CSP.format(
        socket_origin=f"{socket_scheme}://{host}", style_hashes="".join(f" {source}" for source in style_hashes)
    )


def add_security_headers(response: Response) -> Response:
    """Headers every response carries; private JSON is never stored by a browser or a proxy."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.scheme, request.host))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    hsts_max_age = int(current_app.config["HSTS_MAX_AGE_S"])
    if request.is_secure and hsts_max_age:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_max_age}")
    if response.mimetype == JSON_MIMETYPE and "Cache-Control" not in headers:
        # A device's plans, sessions and settings: never kept by a shared cache or the back button.
        headers["Cache-Control"] = NO_STORE
    return response


def _host_port(netloc: str, scheme: str) -> tuple[str, int | None]:
    """Host and port of a netloc, the scheme's default port filled in."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def same_origin(origin: str | None, host: str, scheme: str) -> bool:
    """True when there is no Origin (not a browser) or it names this very scheme, host and port."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if not parts.netloc:
        return False  # "null" (sandboxed frames, file://) and anything unparsable
    # An http page must not drive an https site (nor the reverse): the scheme is part of the origin.
    if WEB_SCHEMES.get(parts.scheme.lower()) != WEB_SCHEMES.get(scheme.lower()):
        return False
    return _host_port(parts.netloc, parts.scheme) == _host_port(host, scheme)


def refuse_cross_site_write():
    """Before anything else (no device is made for it): a write from another site's page is refused with 403."""
    if request.method not in STATE_CHANGING_METHODS:
        return None
    if same_origin(request.headers.get("Origin"), request.host, request.scheme):
        return None
    raise Refusal("forbidden_origin", "This server only accepts changes from pages it serves itself.", status=FORBIDDEN)


def parse_networks(addresses: str | Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Proxy addresses as networks, from a comma-separated string or a list ("127.0.0.1", "10.0.0.0/8", "::1")."""
    if isinstance(addresses, str):
        addresses = addresses.split(",")
    return [ipaddress.ip_network(item.strip(), strict=False) for item in addresses if item.strip()]


def address_in(address: str | None, networks: list) -> bool:
    """Whether a peer address (IPv4 or IPv6, a zone suffix ignored) is in one of the networks."""
    try:
        peer = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    return any(peer in network for network in networks)


class TrustedProxyFix:
    """ProxyFix for requests from the proxy's own address only: any other client's X-Forwarded-* headers are ignored."""

    def __init__(self, wsgi_app, hops: int, trusted: str | Iterable[str]):
        """Wrap the app: ProxyFix for `hops` proxies, applied only to requests from `trusted`."""
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.direct = wsgi_app
        self.proxied = ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self.networks = parse_networks(trusted)

    def trusts(self, address: str | None) -> bool:
        """Whether a peer address is one of the configured proxies."""
        return address_in(address, self.networks)

    def __call__(self, environ, start_response):
        """Apply the forwarded headers when the proxy sent the request, else serve it as it came."""
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.proxied(environ, start_response)
        return self.direct(environ, start_response)


def init_app(app: Flask) -> None:
    """Install the trusted-proxy fix, the Origin check (first of all before-request hooks) and the headers."""
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, hops, app.config["PROXY_TRUSTED"])
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_cross_site_write)
    app.after_request(add_security_headers)
