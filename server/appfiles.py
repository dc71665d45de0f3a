"""The phone app's own files (web/js, web/css, web/icons) answered from memory, ahead of Flask.

A first load asks for a dozen of them at once, and the worker answers one after another: each
went through Flask's routing, request hooks and send_file (about 0.5 ms of the worker's time,
several times that on a busy machine), so the last module of the first screen waited for all the
others. Here the answer Flask gave for a file is kept and replayed, byte for byte and header for
header (type, ETag, Last-Modified, `Cache-Control: no-cache`, the security headers), as long as the
file on disk is unchanged; a revalidation by entity tag (If-None-Match) is answered 304 from it. What
is not a plain GET of such a file (a range request, a revalidation by date alone, a query string,
HEAD, a missing file, the page, the worker, the API) goes to Flask as before.

Text files (the modules, the stylesheets, the SVG icons) go out gzip-compressed to a browser that
accepts it, compressed once per version of the file: a phone's first visit fetches about a third of
the bytes (the first screen's 13 files: about 30 KB instead of 120 KB). The compressed answer has a
weak ETag (the same file, another encoding), which a revalidation's If-None-Match still matches.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from werkzeug.http import http_date, parse_etags, unquote_etag
from werkzeug.security import safe_join

from .compression import VARY, accepts_gzip, compress_file, compressible, weak

# The folders of web/ whose files are answered the same to every device (pages.py serves the page,
# the manifest and the worker itself, with their own rules).
APP_FOLDERS = ("/js/", "/css/", "/icons/")
# Requests for part of a file are Flask's to answer.
RANGE_HEADERS = ("HTTP_RANGE", "HTTP_IF_RANGE")
# A revalidation by entity tag is answered here (If-Modified-Since is ignored beside it, RFC 9110 13.2.2);
# one by date alone is Flask's.
IF_NONE_MATCH, IF_MODIFIED_SINCE = "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE"
# What a 304 repeats of the answer it stands for (RFC 9110 15.4.5).
NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "etag", "expires", "last-modified", "vary"}
# Answers kept at most (a file per host the app is reached by: localhost, its LAN address, a tunnel);
# a client inventing Host headers only ever empties the memory, it never grows past this.
MAX_KEPT = 512
# Headers the compressed answer gives anew.
ENCODING_HEADERS = {"content-length", "content-encoding", "etag", "vary"}


def unchanged_for(if_none_match: str | None, headers: list[tuple[str, str]]) -> bool:
    """Whether a revalidation's If-None-Match names this answer's entity tag (weakly, as RFC 9110 13.1.2 says)."""
    etag = next((value for name, value in headers if name.lower() == "etag"), None)
    if not if_none_match or not etag:
        return False
    return parse_etags(if_none_match).contains_weak(unquote_etag(etag)[0])


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

    def answer(self, environ) -> tuple[list[tuple[str, str]], bytes]:
        """The headers and body for this request: compressed when it is a text file and the browser takes gzip."""
        if self.gzipped is not None and accepts_gzip(environ):
            return self.gzipped
        return self.headers, self.body


def with_gzip(kept: KeptAnswer) -> KeptAnswer:
    """The answer with its compressed form beside it, when it is a text file worth compressing."""
    media_type = next((value for name, value in kept.headers if name.lower() == "content-type"), "")
    if not kept.for_everyone() or not compressible(media_type, len(kept.body)):
        return kept
    body = compress_file(kept.body)
    etag = next((value for name, value in kept.headers if name.lower() == "etag"), None)
    vary = ("Vary", VARY)
    common = [(name, value) for name, value in kept.headers if name.lower() not in ENCODING_HEADERS]
    # Either answer names the header it depends on, so no cache hands one to a browser that asked otherwise.
    plain = [*kept.headers, vary]
    compressed = [
        *common,
        ("Content-Encoding", "gzip"),
        ("Content-Length", str(len(body))),
        *([("ETag", weak(etag))] if etag else []),
        vary,
    ]
    return KeptAnswer(kept.stamp, kept.status, plain, kept.body, (compressed, body))


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
        """The file a plain GET of an app file names, or None for any other request."""
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or not path.startswith(APP_FOLDERS):
            return None
        if any(header in environ for header in RANGE_HEADERS):
            return None
        if IF_MODIFIED_SINCE in environ and IF_NONE_MATCH not in environ:
            return None
        return safe_join(self.web_dir, path.lstrip("/"))

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
            # Flask's whole answer is what is kept; a revalidation is judged against it below.
            unconditional = {
                name: value for name, value in environ.items() if name not in (IF_NONE_MATCH, IF_MODIFIED_SINCE)
            }
            kept = with_gzip(self.ask_flask(unconditional, stamp))
            if kept.for_everyone():
                if len(self.kept) >= MAX_KEPT:
                    self.kept.clear()
                self.kept[key] = kept
        headers, body = kept.answer(environ)
        if kept.for_everyone() and unchanged_for(environ.get(IF_NONE_MATCH), headers):
            start_response("304 Not Modified", [*not_modified(headers), ("Date", http_date())])
            return []
        start_response(kept.status, [*headers, ("Date", http_date())])
        return [body]

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
