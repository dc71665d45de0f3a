"""The app in the test process behind `requests`: HTTP API tests without a real `retrowalk serve`.

Requests to BASE_URL are handed to the Flask app's test client by a transport adapter, so a
test written against a real server (requests, a device's cookie jar, `server.url`) runs
unchanged and in-process. The real server stays for what needs one: the websocket, the CLI,
gunicorn and the browser.
"""

from __future__ import annotations

import gzip
import http.client
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

# A host no network resolves: a request that missed the adapter fails at once instead of going out.
BASE_URL = "http://retrowalk.test"
# The test client computes these from the body it is given.
BODY_HEADERS = {"content-length", "transfer-encoding"}


class WSGIAdapter(BaseAdapter):
    """A requests transport that answers through a Flask app's test client."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Run one prepared request through the app and build the requests.Response a socket would have given."""
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = [(name, value) for name, value in request.headers.items() if name.lower() not in BODY_HEADERS]
        answer = self.app.test_client(use_cookies=False).open(
            parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=request.method,
            headers=headers,
            data=body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(
            {name: ", ".join(answer.headers.getlist(name)) for name in dict.fromkeys(answer.headers.keys())}
        )
        response._content = answer.get_data()
        if answer.headers.get("Content-Encoding") == "gzip":
            # What urllib3 does under requests on a socket: the body a test reads is the JSON, not its gzip.
            response._content = gzip.decompress(response._content)
        response._content_consumed = True
        answer.close()
        # What requests reads Set-Cookie from: the raw response's http.client message.
        message = http.client.HTTPMessage()
        for name, value in answer.headers.items():
            message[name] = value
        response.raw = SimpleNamespace(_original_response=SimpleNamespace(msg=message), release_conn=lambda: None)
        response.url = request.url
        response.request = request
        response.connection = self
        response.encoding = get_encoding_from_headers(response.headers)
        extract_cookies_to_jar(response.cookies, request, response.raw)
        return response

    def close(self) -> None:
        """Nothing to close: no connections."""


class InProcessServer:
    """What the HTTP API tests use of a RunningServer (url, folders, client()), served in this process."""

    def __init__(self, app, data_dir: Path, audio_cache: Path, url: str = BASE_URL):
        self.app = app
        self.data_dir = data_dir
        self.audio_cache = audio_cache
        self.url = url

    def client(self) -> requests.Session:
        """A new device: a requests session that holds its own rw_device cookie."""
        session = requests.Session()
        session.get(self.url + "/", timeout=10)
        return session


# The apps requests are routed to, by URL prefix, and requests' own adapter lookup.
ROUTES: dict[str, WSGIAdapter] = {}
REQUESTS_GET_ADAPTER = requests.Session.get_adapter


def get_adapter(self, url):
    """The adapter of the app whose URL this is, requests' own for every other URL."""
    for prefix, adapter in ROUTES.items():
        if url.startswith(prefix):
            return adapter
    return REQUESTS_GET_ADAPTER(self, url)


def route_requests_to(app, base_url: str = BASE_URL):
    """Send every request for `base_url` to `app`; returns a function that undoes it."""
    prefix = base_url.rstrip("/") + "/"
    ROUTES[prefix] = WSGIAdapter(app)
    requests.Session.get_adapter = get_adapter

    def undo() -> None:
        ROUTES.pop(prefix, None)
        if not ROUTES:
            requests.Session.get_adapter = REQUESTS_GET_ADAPTER

    return undo
