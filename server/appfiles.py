"""The phone app's own files (web/js, web/css, web/icons) answered from memory, ahead of Flask.

A first load asks for a dozen of them at once, and the worker answers one after another: each
went through Flask's routing, request hooks and send_file (about 0.5 ms of the worker's time,
several times that on a busy machine), so the last module of the first screen waited for all the
others. Here the answer Flask gave for a file is kept and replayed, byte for byte and header for
header (type, ETag, Last-Modified, `Cache-Control: no-cache`, the security headers), as long as the
file on disk is unchanged. What is not a plain GET of such a file (a conditional or range request,
a query string, HEAD, a missing file, the page, the worker, the API) goes to Flask as before.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from werkzeug.http import http_date
from werkzeug.security import safe_join

# The folders of web/ whose files are answered the same to every device (pages.py serves the page,
# the manifest and the worker itself, with their own rules).
APP_FOLDERS = ("/js/", "/css/", "/icons/")
# Request headers that change the answer: those requests are Flask's to answer.
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE", "HTTP_IF_RANGE")
# Answers kept at most (a file per host the app is reached by: localhost, its LAN address, a tunnel);
# a client inventing Host headers only ever empties the memory, it never grows past this.
MAX_KEPT = 512


@dataclass(frozen=True)
class KeptAnswer:
    """Flask's answer for one file, and the state of the file it was made from."""

    stamp: tuple[int, int]
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def for_everyone(self) -> bool:
        """Whether the answer may be given to every later request: a 200 that hands out no cookie."""
        return self.status.startswith("200 ") and not any(name.lower() == "set-cookie" for name, _ in self.headers)


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
        if any(header in environ for header in CONDITIONAL_HEADERS):
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
            kept = self.ask_flask(environ, stamp)
            if kept.for_everyone():
                if len(self.kept) >= MAX_KEPT:
                    self.kept.clear()
                self.kept[key] = kept
        start_response(kept.status, [*kept.headers, ("Date", http_date())])
        return [kept.body]

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
