"""Spoken audio: each cached cue file, and a session's whole walk as one track (pocket mode)."""

from __future__ import annotations

from flask import Blueprint, current_app, request, send_file

from ..refusals import NotFound
from ..trackstore import track_response

bp = Blueprint("audio", __name__)


@bp.get("/audio/<name>")
def audio(name: str):
    """A cached cue file: immutable, so cached by the phone for a year."""
    path = current_app.extensions["audio_cache"].path_for(name)
    if path is None:
        raise NotFound("There is no such audio file.")
    max_age = current_app.config["AUDIO_MAX_AGE_S"]
    response = send_file(path, mimetype="audio/mpeg", conditional=True, etag=True, max_age=max_age)
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.get("/audio/tracks/<name>")
def audio_track(name: str):
    """A session's whole walk as one MP3 (pocket mode): immutable, with byte ranges, rendered as it is asked for."""
    return track_response(current_app.extensions["tracks"], name, request, current_app.config["AUDIO_MAX_AGE_S"])
