"""The WSGI entry point gunicorn loads in its worker, after gevent has patched the standard library."""

from . import create_app

app = create_app()
