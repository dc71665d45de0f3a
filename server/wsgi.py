"""The WSGI entry point gunicorn loads in its worker, after gevent has patched the standard library."""

import gc

from . import create_app

app = create_app()
# Modules, the app and its config live as long as the worker: collected once, then frozen out of
# every later collection, so a full collection scans only what the walkers' sockets brought.
gc.collect()
gc.freeze()
