"""The phone app's own files (web/js, web/css, web/icons) answered from memory, ahead of Flask.

A first load asks for a dozen of them at once, and the worker answers one after another: each
went through Flask's routing, request hooks and send_file (about 0.5 ms of the worker's time,
several times that on a busy machine), so the last module of the first screen waited for all the
others. Here the answer Flask gave for a file is kept and replayed, byte for byte and header for
header (type, ETag, Last-Modified, `Cache-Control: no-cache`, the security headers), as long as the
file on disk is unchanged; a HEAD and a revalidation (If-None-Match, or If-Modified-Since alone) are
answered from it too. A range of a file sent uncompressed, a query string, a missing file, the
page, the worker and the API go to Flask as before.

Text files (the modules, the stylesheets, the SVG icons) go out gzip-compressed to a browser that
accepts it, compressed once per version of the file: a phone's first visit fetches about a third of
the bytes (the first screen's 13 files: about 30 KB instead of 120 KB). The compressed answer has a
weak ETag (the same file, another encoding), which a revalidation's If-None-Match still matches.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from werkzeug.http import http_date, parse_date, parse_etags, unquote_etag
from werkzeug.security import safe_join

from .compression import accepts_gzip, compress_file, compressible, weak

# The folders of web/ whose files are answered the same to every device (pages.py serves the page,
# the manifest and the worker itself, with their own rules).
APP_FOLDERS = ("/js/", "/css/", "/icons/")
# A part of a file is Flask's to give, from the file as it is on disk; a compressed answer is whole
# (RFC 9110 14.2 lets a server ignore Range), so a gzip client is never handed a slice of the plain bytes.
RANGE_HEADERS = ("HTTP_RANGE", "HTTP_IF_RANGE")
# Revalidations are answered here: by entity tag, or by date alone (If-Modified-Since is ignored
# beside an If-None-Match, RFC 9110 13.2.2).
IF_NONE_MATCH, IF_MODIFIED_SINCE = "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE"
# What a 304 repeats of the answer it stands for (RFC 9110 15.4.5).
NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "etag", "expires", "last-modified", "vary"}
# Answers kept at most (a file per host the app is reached by: localhost, its LAN address, a tunnel);
# a client inventing Host headers only ever empties the memory, it never grows past this.
MAX_KEPT = 512
# Headers the compressed answer gives anew (or not at all: it is sent whole, never in parts).
ENCODING_HEADERS = {"accept-ranges", "content-length", "content-encoding", "etag"}


def header(headers: list[tuple[str, str]], wanted: str) -> str | None:
    """A header's value in a list of them, or None."""
    return next((value for name, value in headers if name.lower() == wanted), None)


def unchanged_for(environ, headers: list[tuple[str, str]]) -> bool:
    """Whether a revalidation names this answer: its entity tag (weakly, RFC 9110 13.1.2), else a date not before it."""
    if_none_match = environ.get(IF_NONE_MATCH)
    if if_none_match:
        etag = header(headers, "etag")
        return bool(etag) and parse_etags(if_none_match).contains_weak(unquote_etag(etag)[0])
    if_modified_since, last_modified = parse_date(environ.get(IF_MODIFIED_SINCE)), header(headers, "last-modified")
    return bool(if_modified_since and last_modified) and parse_date(last_modified) <= if_modified_since


def not_modified(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers a 304 repeats of the answer it stands for."""
    return [(name, value) for name, value in headers if name.lower() in NOT_MODIFIED_HEADERS]


@dataclass(frozen=True)
class KeptAnswer:
    """Flask's answer for one file, and the state of the file it was made from."""

    stamp: tuple[int, int]
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    # The body gzip-compressed and the headers that go with it, for a text file; None otherwise.
    gzipped: tuple[list[tuple[str, str]], bytes] | None = field(default=None, compare=False)

    def for_everyone(self) -> bool:
        """Whether the answer may be given to every later request: a 200 that hands out no cookie."""
        return self.status.startswith("200 ") and not any(name.lower() == "set-cookie" for name, _ in self.headers)


def with_gzip(kept: KeptAnswer) -> KeptAnswer:
    """The answer with its compressed form beside it, when it is a text file worth compressing."""
    if not kept.for_everyone() or not compressible(header(kept.headers, "content-type") or "", len(kept.body)):
        return kept
    body = compress_file(kept.body)
    etag = header(kept.headers, "etag")
    compressed = [
        *[(name, value) for name, value in kept.headers if name.lower() not in ENCODING_HEADERS],
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(body))),
        *([("ETag", weak(etag))] if etag else []),
    ]
    # Flask's answer already says Vary: Accept-Encoding (compression.py), so no cache hands either to the other.
    return KeptAnswer(kept.stamp, kept.status, kept.headers, kept.body, (compressed, body))


def whole_file_request(environ) -> dict:
    """The request as a plain GET of the whole file: what Flask answers once and is kept."""
    asked = {
        name: value for name, value in environ.items() if name not in (IF_NONE_MATCH, IF_MODIFIED_SINCE, *RANGE_HEADERS)
    }
    asked["REQUEST_METHOD"] = "GET"
    return asked


def file_stamp(path: str) -> tuple[int, int] | None:
    """The file's modification time and size, or None when it is not a regular file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):  # from the same stat: no second look at the disk per request
        return None
    return info.st_mtime_ns, info.st_size


class AppFiles:
    """WSGI middleware: replay Flask's answer for an unchanged app file instead of making it again."""

    def __init__(self, wsgi_app, web_dir: str):
        """Wrap Flask's WSGI app; `web_dir` is the folder it serves the app's files from."""
        self.wsgi_app = wsgi_app
        self.web_dir = web_dir
        self.kept: dict[tuple[str, str, str], KeptAnswer] = {}

    def file_for(self, environ) -> str | None:
        """The file a GET or HEAD of an app file names (no query string), or None for any other request."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        return safe_join(self.web_dir, path.lstrip("/")) if path.startswith(APP_FOLDERS) else None

    def __call__(self, environ, start_response):
        """Answer from memory when Flask's answer for this unchanged file is kept; else ask Flask (and keep it)."""
        path = self.file_for(environ)
        stamp = file_stamp(path) if path else None
        if stamp is None:
            return self.wsgi_app(environ, start_response)
        # The security headers name the host and scheme the page was reached by.
        key = (environ["PATH_INFO"], environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""))
        kept = self.kept.get(key)
        if kept is None or kept.stamp != stamp:
            kept = with_gzip(self.ask_flask(whole_file_request(environ), stamp))
            if kept.for_everyone():
                if len(self.kept) >= MAX_KEPT:
                    self.kept.clear()
                self.kept[key] = kept
        gzip_client = kept.gzipped is not None and accepts_gzip(environ)
        if not kept.for_everyone() or (any(name in environ for name in RANGE_HEADERS) and not gzip_client):
            return self.wsgi_app(environ, start_response)
        headers, body = kept.gzipped if gzip_client else (kept.headers, kept.body)
        if unchanged_for(environ, headers):
            start_response("304 Not Modified", [*not_modified(headers), ("Date", http_date())])
            return []
        start_response(kept.status, [*headers, ("Date", http_date())])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def ask_flask(self, environ, stamp: tuple[int, int]) -> KeptAnswer:
        """Flask's answer to this request for the file, read whole."""
        answer: dict = {}

        def record(status, headers, exc_info=None):
            """Note the status and headers instead of sending them."""
            answer.update(status=status, headers=list(headers))
            return lambda data: None

        chunks = self.wsgi_app(dict(environ), record)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        # The time of the answer is the time it is given: set again on each replay.
        headers = [(name, value) for name, value in answer["headers"] if name.lower() != "date"]
        return KeptAnswer(stamp, answer["status"], headers, body)


def init_app(app) -> None:
    """Answer the app's files from memory, under every other middleware (so proxies and yielding still apply)."""
    app.wsgi_app = AppFiles(app.wsgi_app, app.config["WEB_DIR"])
