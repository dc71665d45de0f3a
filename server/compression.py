"""gzip for text answers to browsers that take it: the page, the app's files and the API's JSON.

A phone's first visit used to fetch everything as it is on disk: about 770 KB with the service
worker's precache, 88 KB of that the plans and programmes as JSON. Compressed, and with the
precache revalidating what the page has just loaded, it is about a quarter of that. The app's
files are compressed once per version of the file (appfiles.py, pages.py); an API answer, which
changes with the device and the moment, each time it is sent, quickly.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from flask import Flask, Response, request

# The media types worth compressing (PNG icons and MP3 audio are compressed already).
COMPRESSIBLE_TYPES = (
    "text/",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
)
# Below this a gzip header and a round of inflating save nothing worth having.
MIN_COMPRESSED_BYTES = 1024
# A file is compressed once per version: the smallest output, whatever it costs.
FILE_GZIP_LEVEL = 9
# Files kept compressed (the app has about 60): a request naming another Host compresses nothing again.
FILES_COMPRESSED_KEPT = 256
# An API answer is compressed each time it is sent: zlib's quickest (a 67 KB session timeline in 0.12 ms, to 5.4 KB;
# level 6 gains 1.4 KB for three times the CPU, 10,000 walkers starting at once pay it on the server).
ANSWER_GZIP_LEVEL = 1
VARY = "Accept-Encoding"


def accepts_gzip(environ) -> bool:
    """Whether the request's Accept-Encoding takes gzip: named (or `*`) with a quality above 0."""
    qualities = {}
    for coding in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
        name, _, params = coding.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[name.strip().lower()] = quality
    # The coding named wins over the wildcard ("*;q=0, gzip" takes gzip; "gzip;q=0, *" does not).
    named = next((qualities[name] for name in ("gzip", "x-gzip", "*") if name in qualities), 0.0)
    return named > 0


def compressible(media_type: str, size: int) -> bool:
    """Whether an answer of this type and size is worth sending gzip-compressed."""
    return size >= MIN_COMPRESSED_BYTES and media_type.startswith(COMPRESSIBLE_TYPES)


@lru_cache(maxsize=FILES_COMPRESSED_KEPT)
def compress_file(body: bytes) -> bytes:
    """A file's bytes compressed (no timestamp in the gzip header), once for the same bytes whoever asks."""
    return gzip.compress(body, FILE_GZIP_LEVEL, mtime=0)


def weak(etag: str) -> str:
    """The weak form of an entity tag (a quoted one): the same content in another encoding."""
    return etag if etag.startswith("W/") else f"W/{etag}"


def compress_json_answer(response: Response) -> Response:
    """An API answer's JSON compressed for a browser that takes gzip (files and streams are left as they are)."""
    if response.mimetype != "application/json" or response.direct_passthrough or response.is_streamed:
        return response
    if response.content_encoding or not 200 <= response.status_code < 300:
        return response
    body = response.get_data()
    if not compressible(response.mimetype, len(body)):
        return response
    response.vary.add(VARY)
    if not accepts_gzip(request.environ):
        return response
    response.set_data(gzip.compress(body, ANSWER_GZIP_LEVEL))
    response.headers["Content-Encoding"] = "gzip"
    return response


def vary_app_files(response: Response) -> Response:
    """Flask's answers for the app's text files say they depend on Accept-Encoding (appfiles.py sends them gzip)."""
    if request.endpoint == "static" and response.mimetype.startswith(COMPRESSIBLE_TYPES):
        response.vary.add(VARY)
    return response


def init_app(app: Flask) -> None:
    """Compress the API's JSON answers (the page and the app's files compress themselves, once per version)."""
    app.after_request(compress_json_answer)
    app.after_request(vary_app_files)
