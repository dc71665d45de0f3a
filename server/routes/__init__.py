"""The HTTP API, one blueprint per domain: each module here serves one kind of thing the walker asks for.

health (/healthz), plans (/api/plans), audio (/audio/: cue files and walk tracks), settings
(/api/settings), programmes (/api/programmes), stats (/api/stats/, /api/history.csv),
sessions (/api/sessions: create, read, forget, upload a walk played offline) and history
(/api/history). The live socket is server/ws.py; the app's pages are server/pages.py.
Every refusal is answered by server/errors.py's one table of handlers.
"""

from __future__ import annotations

from flask import Flask

from . import audio, health, history, plans, programmes, sessions, settings, stats

BLUEPRINTS = (health.bp, plans.bp, audio.bp, settings.bp, programmes.bp, stats.bp, sessions.bp, history.bp)


def register(app: Flask) -> None:
    """Serve every domain's routes from this app."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
