"""WSGI entry point for gunicorn: `gunicorn --preload wsgi:app`."""

import gc

from lms import create_app

app = create_app()
# With --preload the workers are forked from the process that ran this: keep the garbage
# collector's bookkeeping off the objects built so far, so the workers' collections do not
# write to (and so copy) the memory pages they share with it.
gc.freeze()
